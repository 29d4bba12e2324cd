package pgrepl

import (
	"bytes"
	"fmt"
	"time"
)

// Message is one decoded pgoutput message.
type Message interface {
	// Kind is the message's type byte ('B', 'C', 'I', …).
	Kind() byte
}

// Begin starts a transaction. FinalLSN is the LSN of its commit record,
// known up front, so changes can be labelled before the Commit arrives.
type Begin struct {
	FinalLSN   LSN
	CommitTime time.Time
	Xid        uint32
}

// Commit ends a transaction. EndLSN is the position to acknowledge.
type Commit struct {
	Flags      uint8
	CommitLSN  LSN
	EndLSN     LSN
	CommitTime time.Time
}

// Origin names the replication origin a transaction came from.
type Origin struct {
	CommitLSN LSN
	Name      string
}

// Replica identity settings carried by Relation messages.
const (
	ReplicaIdentityDefault = 'd'
	ReplicaIdentityNothing = 'n'
	ReplicaIdentityFull    = 'f'
	ReplicaIdentityIndex   = 'i'
)

// Relation describes a table. It precedes the first change to the table in
// a session and follows every DDL on it: cache by ID and replace.
type Relation struct {
	ID              uint32
	Namespace, Name string
	ReplicaIdentity byte
	Columns         []RelationColumn
}

// RelationColumn is one column of a Relation.
type RelationColumn struct {
	Key     bool // part of the replica identity
	Name    string
	TypeOID uint32
	TypeMod int32
}

// Type describes a non-built-in data type used by a following Relation.
type Type struct {
	OID             uint32
	Namespace, Name string
}

// Insert is a new row.
type Insert struct {
	RelationID uint32
	New        Tuple
}

// Old-tuple kinds of Update and Delete.
const (
	OldKey  = 'K' // replica identity columns only (others are 'n')
	OldFull = 'O' // the whole old row (REPLICA IDENTITY FULL)
)

// Update is a changed row. OldKind is 0 when no old tuple was sent (the key
// did not change and the identity is not FULL), else OldKey or OldFull.
type Update struct {
	RelationID uint32
	OldKind    byte
	Old        Tuple
	New        Tuple
}

// Delete is a removed row; Old holds its key (OldKey) or the full row (OldFull).
type Delete struct {
	RelationID uint32
	OldKind    byte
	Old        Tuple
}

// Truncate options bits.
const (
	TruncateCascade         = 1
	TruncateRestartIdentity = 2
)

// Truncate empties one or more tables.
type Truncate struct {
	Options     uint8
	RelationIDs []uint32
}

// LogicalMessage is a pg_logical_emit_message record (sent only with the
// messages option).
type LogicalMessage struct {
	Transactional bool
	LSN           LSN
	Prefix        string
	Content       []byte
}

// Tuple column kinds.
const (
	TupleNull      = 'n'
	TupleUnchanged = 'u' // unchanged TOASTed value: not sent, not NULL
	TupleText      = 't'
	TupleBinary    = 'b'
)

// Tuple is a row image, one entry per relation column.
type Tuple []TupleColumn

// TupleColumn is one value of a tuple. Data is set for TupleText and
// TupleBinary and is a copy owned by the tuple.
type TupleColumn struct {
	Kind byte
	Data []byte
}

// Kind implementations.
func (Begin) Kind() byte          { return 'B' }
func (Commit) Kind() byte         { return 'C' }
func (Origin) Kind() byte         { return 'O' }
func (Relation) Kind() byte       { return 'R' }
func (Type) Kind() byte           { return 'Y' }
func (Insert) Kind() byte         { return 'I' }
func (Update) Kind() byte         { return 'U' }
func (Delete) Kind() byte         { return 'D' }
func (Truncate) Kind() byte       { return 'T' }
func (LogicalMessage) Kind() byte { return 'M' }

// Decode decodes one pgoutput protocol version 1 message (the payload of an
// XLogData frame). Everything it returns is copied out of payload. It never
// panics: short, garbled or over-long input is an error.
func Decode(payload []byte) (Message, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("pgoutput: empty message")
	}
	// One copy of the whole message backs every value it carries: cheaper
	// than a copy per value, and payload may be a reused receive buffer.
	c := &cursor{buf: payload, off: 1}
	switch payload[0] {
	case 'I', 'U', 'D', 'M':
		c.buf = bytes.Clone(payload)
	}
	var m Message
	switch payload[0] {
	case 'B':
		c.what = "Begin"
		m = Begin{FinalLSN: LSN(c.u64("final LSN")), CommitTime: PGTime(int64(c.u64("commit time"))), Xid: c.u32("xid")}
	case 'C':
		c.what = "Commit"
		m = Commit{Flags: c.u8("flags"), CommitLSN: LSN(c.u64("commit LSN")), EndLSN: LSN(c.u64("end LSN")),
			CommitTime: PGTime(int64(c.u64("commit time")))}
	case 'O':
		c.what = "Origin"
		m = Origin{CommitLSN: LSN(c.u64("commit LSN")), Name: c.cstr("name")}
	case 'R':
		c.what = "Relation"
		m = decodeRelation(c)
	case 'Y':
		c.what = "Type"
		m = Type{OID: c.u32("type OID"), Namespace: c.cstr("namespace"), Name: c.cstr("name")}
	case 'I':
		c.what = "Insert"
		ins := Insert{RelationID: c.u32("relation id")}
		if k := c.u8("tuple marker"); c.err == nil && k != 'N' {
			c.err = fmt.Errorf("Insert: tuple marker %q, want 'N'", k)
		}
		ins.New = decodeTuple(c)
		m = ins
	case 'U':
		c.what = "Update"
		m = decodeUpdate(c)
	case 'D':
		c.what = "Delete"
		del := Delete{RelationID: c.u32("relation id"), OldKind: c.u8("tuple marker")}
		if c.err == nil && del.OldKind != OldKey && del.OldKind != OldFull {
			c.err = fmt.Errorf("Delete: tuple marker %q, want 'K' or 'O'", del.OldKind)
		}
		del.Old = decodeTuple(c)
		m = del
	case 'T':
		c.what = "Truncate"
		m = decodeTruncate(c)
	case 'M':
		c.what = "Message"
		lm := LogicalMessage{Transactional: c.u8("flags")&1 != 0, LSN: LSN(c.u64("LSN")), Prefix: c.cstr("prefix")}
		lm.Content = c.bytes(int(c.u32("length")), "content")
		m = lm
	default:
		return nil, fmt.Errorf("pgoutput: unknown message type %q", payload[0])
	}
	if err := c.end(); err != nil {
		return nil, fmt.Errorf("pgoutput: %w", err)
	}
	return m, nil
}

func decodeRelation(c *cursor) Relation {
	r := Relation{ID: c.u32("relation id"), Namespace: c.cstr("namespace"), Name: c.cstr("name"),
		ReplicaIdentity: c.u8("replica identity")}
	n := int(c.u16("column count"))
	// Each column takes at least 10 bytes: refuse counts the message cannot
	// hold before allocating for them.
	if !c.need(n*10, "columns") {
		return r
	}
	r.Columns = make([]RelationColumn, n)
	for i := range r.Columns {
		col := &r.Columns[i]
		col.Key = c.u8("column flags")&1 != 0
		col.Name = c.cstr("column name")
		col.TypeOID = c.u32("column type OID")
		col.TypeMod = int32(c.u32("column type modifier"))
	}
	return r
}

func decodeUpdate(c *cursor) Update {
	u := Update{RelationID: c.u32("relation id")}
	k := c.u8("tuple marker")
	if k == OldKey || k == OldFull {
		u.OldKind = k
		u.Old = decodeTuple(c)
		k = c.u8("tuple marker")
	}
	if c.err == nil && k != 'N' {
		c.err = fmt.Errorf("Update: tuple marker %q, want 'N'", k)
	}
	u.New = decodeTuple(c)
	return u
}

func decodeTruncate(c *cursor) Truncate {
	n := c.u32("relation count")
	t := Truncate{Options: c.u8("options")}
	if uint64(n)*4 > uint64(len(c.buf)) || !c.need(int(n)*4, "relation ids") {
		if c.err == nil {
			c.err = fmt.Errorf("Truncate: %d relations do not fit in %d bytes", n, len(c.buf))
		}
		return t
	}
	t.RelationIDs = make([]uint32, n)
	for i := range t.RelationIDs {
		t.RelationIDs[i] = c.u32("relation id")
	}
	return t
}

func decodeTuple(c *cursor) Tuple {
	n := int(c.u16("tuple column count"))
	if !c.need(n, "tuple columns") { // at least one kind byte each
		return nil
	}
	t := make(Tuple, n)
	for i := range t {
		k := c.u8("tuple column kind")
		t[i].Kind = k
		switch k {
		case TupleNull, TupleUnchanged:
		case TupleText, TupleBinary:
			size := c.u32("tuple value length")
			if c.err == nil && uint64(size) > uint64(len(c.buf)-c.off) {
				c.err = fmt.Errorf("%s: value of %d bytes at byte %d exceeds the message", c.what, size, c.off)
			}
			t[i].Data = c.bytes(int(size), "tuple value")
		default:
			if c.err == nil {
				c.err = fmt.Errorf("%s: unknown tuple column kind %q at byte %d", c.what, k, c.off-1)
			}
		}
		if c.err != nil {
			return nil
		}
	}
	return t
}
