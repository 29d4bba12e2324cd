package pgrepl

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Render formats a message on one line for logs, debugging and golden
// files. Values are quoted; binary values are hex.
func Render(m Message) string {
	switch m := m.(type) {
	case Begin:
		return fmt.Sprintf("Begin final_lsn=%s commit_time=%s xid=%d", m.FinalLSN, stamp(m.CommitTime), m.Xid)
	case Commit:
		return fmt.Sprintf("Commit flags=%d commit_lsn=%s end_lsn=%s commit_time=%s", m.Flags, m.CommitLSN, m.EndLSN, stamp(m.CommitTime))
	case Origin:
		return fmt.Sprintf("Origin commit_lsn=%s name=%q", m.CommitLSN, m.Name)
	case Relation:
		var b strings.Builder
		fmt.Fprintf(&b, "Relation id=%d %q.%q replica_identity=%q columns=[", m.ID, m.Namespace, m.Name, m.ReplicaIdentity)
		for i, c := range m.Columns {
			if i > 0 {
				b.WriteByte(' ')
			}
			if c.Key {
				b.WriteByte('*')
			}
			fmt.Fprintf(&b, "%q:%d/%d", c.Name, c.TypeOID, c.TypeMod)
		}
		b.WriteByte(']')
		return b.String()
	case Type:
		return fmt.Sprintf("Type oid=%d %q.%q", m.OID, m.Namespace, m.Name)
	case Insert:
		return fmt.Sprintf("Insert rel=%d new=%s", m.RelationID, renderTuple(m.New))
	case Update:
		if m.OldKind == 0 {
			return fmt.Sprintf("Update rel=%d new=%s", m.RelationID, renderTuple(m.New))
		}
		return fmt.Sprintf("Update rel=%d old(%c)=%s new=%s", m.RelationID, m.OldKind, renderTuple(m.Old), renderTuple(m.New))
	case Delete:
		return fmt.Sprintf("Delete rel=%d old(%c)=%s", m.RelationID, m.OldKind, renderTuple(m.Old))
	case Truncate:
		return fmt.Sprintf("Truncate options=%d rels=%v", m.Options, m.RelationIDs)
	case LogicalMessage:
		return fmt.Sprintf("Message transactional=%t lsn=%s prefix=%q content=%q", m.Transactional, m.LSN, m.Prefix, m.Content)
	}
	return fmt.Sprintf("%T", m)
}

// stamp renders times via microseconds so that values outside time.Time's
// printable range still render (and round-trip) the same.
func stamp(t time.Time) string {
	return strconv.FormatInt(PGMicros(t), 10) + "us"
}

func renderTuple(t Tuple) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, c := range t {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch c.Kind {
		case TupleNull:
			b.WriteString("NULL")
		case TupleUnchanged:
			b.WriteString("UNCHANGED")
		case TupleText:
			b.WriteString(strconv.Quote(string(c.Data)))
		case TupleBinary:
			fmt.Fprintf(&b, "b:%x", c.Data)
		}
	}
	b.WriteByte(']')
	return b.String()
}
