package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/postgres/pgrepl"
	"github.com/sluicedata/sluice/tabledefs"
)

// itemKind says what a streamed item carries.
type itemKind uint8

const (
	itemChange   itemKind = iota + 1 // events and/or a reject of one change record
	itemCommit                       // a transaction ended at lsn
	itemProgress                     // idle: the server has sent everything up to lsn
	itemCaughtUp                     // --once: everything committed before the start is delivered
)

// item is what the stream goroutine hands to Next, one per change record
// or transaction boundary, through a bounded channel: memory holds at most
// the channel's capacity, never a whole transaction.
type item struct {
	kind   itemKind
	events []source.Event
	reject *source.Reject
	tx     pgrepl.LSN // commit LSN of the transaction (itemChange)
	seq    int64      // record index within the transaction, from 1
	lsn    pgrepl.LSN // itemCommit, itemProgress
}

// relState maps one pgoutput relation onto a captured table.
type relState struct {
	table  *tabledefs.Table // nil: not captured
	toCol  []int            // relation column → table column, -1 if unknown
	oids   []uint32         // relation column type OIDs
	rel    pgrepl.Relation
	warned bool
}

// stream owns the replication connection: it alone receives from it and
// sends status updates on it, so the flush LSN it reports can never be
// ahead of what Commit recorded in committed.
type stream struct {
	conn      *pgconn.PgConn
	tables    map[[2]string]*tabledefs.Table
	trimChar  bool
	out       chan item
	committed *atomic.Uint64 // flush LSN: set only by Source.Commit
	kick      chan struct{}  // Commit happened: report it soon
	interval  time.Duration  // standby status period
	once      bool
	target    pgrepl.LSN // --once: WAL end when streaming began
	skipTx    pgrepl.LSN // resume inside this transaction…
	skipSeq   int64      // …after this many of its records
	log       *slog.Logger

	rels     map[uint32]*relState
	received pgrepl.LSN // highest WAL position handled, reported as "written"
	inTx     bool
	begin    pgrepl.Begin
	seq      int64
	sentPos  pgrepl.LSN // last commit/progress LSN handed to Next
	reported pgrepl.LSN // last flush LSN sent to the server
	lastSent time.Time
	caughtUp bool
}

// errStreamEnded is returned when the server ends the CopyBoth stream.
var errStreamEnded = errors.New("the server ended the replication stream")

// run receives until ctx is done or the connection fails.
func (s *stream) run(ctx context.Context) error {
	s.rels = map[uint32]*relState{}
	// A short receive deadline bounds how late a Commit's flush LSN reaches
	// the server while the stream is idle.
	const poll = 250 * time.Millisecond
	for {
		if err := s.maybeStatus(false); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, poll)
		msg, err := s.conn.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				if s.once && !s.caughtUp && !s.inTx {
					// Ask for a keepalive: it carries the server's WAL end.
					if err := s.sendStatus(true); err != nil {
						return err
					}
				}
				continue
			}
			return fmt.Errorf("receiving from the replication stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if err := s.frame(ctx, m.Data); err != nil {
				return err
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("replication stream: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyDone, *pgproto3.CommandComplete, *pgproto3.ReadyForQuery:
			return errStreamEnded
		}
	}
}

func (s *stream) frame(ctx context.Context, data []byte) error {
	f, err := pgrepl.ParseFrame(data)
	if err != nil {
		return err
	}
	switch f := f.(type) {
	case pgrepl.Keepalive:
		if f.ReplyNow {
			if err := s.sendStatus(false); err != nil {
				return err
			}
		}
		if !s.inTx && f.ServerEnd > s.sentPos && len(s.out) == 0 {
			// Everything before the server's send position has been sent and
			// handed over: offering it as a position lets an idle slot advance
			// once the runner commits it, never before.
			if !s.emit(ctx, item{kind: itemProgress, lsn: f.ServerEnd}) {
				return ctx.Err()
			}
			s.sentPos = f.ServerEnd
		}
		if s.once && !s.caughtUp && !s.inTx && f.ServerEnd >= s.target {
			s.caughtUp = true
			if !s.emit(ctx, item{kind: itemCaughtUp}) {
				return ctx.Err()
			}
		}
		return nil
	case pgrepl.XLogData:
		if f.Start > s.received {
			s.received = f.Start
		}
		m, err := pgrepl.Decode(f.Payload)
		if err != nil {
			return fmt.Errorf("at %s: %w", f.Start, err)
		}
		return s.message(ctx, m)
	}
	return nil
}

func (s *stream) message(ctx context.Context, m pgrepl.Message) error {
	switch m := m.(type) {
	case pgrepl.Begin:
		s.inTx, s.begin, s.seq = true, m, 0
	case pgrepl.Commit:
		s.inTx = false
		if m.EndLSN > s.received {
			s.received = m.EndLSN
		}
		s.sentPos = m.EndLSN
		if !s.emit(ctx, item{kind: itemCommit, lsn: m.EndLSN}) {
			return ctx.Err()
		}
		if s.once && !s.caughtUp && m.EndLSN >= s.target {
			s.caughtUp = true
			if !s.emit(ctx, item{kind: itemCaughtUp}) {
				return ctx.Err()
			}
		}
	case pgrepl.Relation:
		s.relation(m)
	case pgrepl.Insert, pgrepl.Update, pgrepl.Delete, pgrepl.Truncate:
		s.seq++
		if s.begin.FinalLSN == s.skipTx && s.seq <= s.skipSeq {
			return nil // delivered before the restart
		}
		it := s.change(m)
		if it.events == nil && it.reject == nil {
			return nil
		}
		it.kind, it.tx, it.seq = itemChange, s.begin.FinalLSN, s.seq
		if !s.emit(ctx, it) {
			return ctx.Err()
		}
	}
	return nil
}

func (s *stream) relation(r pgrepl.Relation) {
	st := &relState{rel: r, table: s.tables[[2]string{r.Namespace, r.Name}]}
	st.toCol = make([]int, len(r.Columns))
	st.oids = make([]uint32, len(r.Columns))
	for i, c := range r.Columns {
		st.oids[i] = c.TypeOID
		st.toCol[i] = -1
		if st.table != nil {
			st.toCol[i] = st.table.ColumnIndex(c.Name)
			if st.toCol[i] < 0 {
				s.log.Warn("column not in the table definition: its values are not captured",
					"table", tableKey(st.table), "column", c.Name)
			}
		}
	}
	s.rels[r.ID] = st
}

// change converts one data message into events (or a reject).
func (s *stream) change(m pgrepl.Message) item {
	var it item
	if t, ok := m.(pgrepl.Truncate); ok {
		for _, id := range t.RelationIDs {
			if st := s.rels[id]; st != nil && st.table != nil {
				it.events = append(it.events, s.event(source.OpTruncate, st.table))
			}
		}
		return it
	}
	var (
		relID    uint32
		op       source.Op
		oldT     pgrepl.Tuple
		oldKind  byte
		valuesOf pgrepl.Tuple
	)
	switch m := m.(type) {
	case pgrepl.Insert:
		relID, op, valuesOf = m.RelationID, source.OpInsert, m.New
	case pgrepl.Update:
		relID, op, oldT, oldKind, valuesOf = m.RelationID, source.OpUpdate, m.Old, m.OldKind, m.New
	case pgrepl.Delete:
		relID, op, oldT, oldKind, valuesOf = m.RelationID, source.OpDelete, m.Old, m.OldKind, m.Old
	}
	st := s.rels[relID]
	if st == nil {
		it.reject = &source.Reject{Position: s.where(), Reason: fmt.Sprintf("change to relation %d before its Relation message", relID)}
		return it
	}
	if st.table == nil {
		return it // published but not captured
	}
	ev := s.event(op, st.table)
	var err error
	ev.Values, ev.Unchanged, err = s.tuple(st, valuesOf, oldT, oldKind)
	if err != nil {
		it.reject = &source.Reject{Schema: st.table.Owner, Table: st.table.Name, Position: s.where(), Reason: err.Error(),
			Raw: pgrepl.Render(m)}
		var ve *tabledefs.ValueError
		if errors.As(err, &ve) {
			it.reject.Truncation = ve.Truncation
		}
		return it
	}
	if op == source.OpUpdate && oldKind != 0 {
		ev.Before, _, err = s.tuple(st, oldT, nil, 0)
		if err != nil {
			ev.Before = nil
		}
	}
	if len(ev.Unchanged) > 0 && !st.warned {
		st.warned = true
		s.log.Warn("unchanged TOASTed values are not sent by PostgreSQL: they arrive as NULL marked unchanged "+
			"(ALTER TABLE … REPLICA IDENTITY FULL sends them)", "table", tableKey(st.table))
	}
	it.events = []source.Event{ev}
	return it
}

func (s *stream) event(op source.Op, t *tabledefs.Table) source.Event {
	return source.Event{Op: op, Table: t, TxID: strconv.FormatUint(uint64(s.begin.Xid), 10),
		CommitTime: s.begin.CommitTime, Origin: s.begin.FinalLSN.String(), Seq: s.seq}
}

func (s *stream) where() string {
	return s.begin.FinalLSN.String() + ":" + strconv.FormatInt(s.seq, 10)
}

// tuple decodes a tuple into Values in table column order. Unchanged TOAST
// values are taken from a full old tuple when there is one; otherwise they
// stay NULL and their indexes are returned.
func (s *stream) tuple(st *relState, t, old pgrepl.Tuple, oldKind byte) ([]tabledefs.Value, []int, error) {
	cols := st.table.Columns
	vals := make([]tabledefs.Value, len(cols))
	var unchanged []int
	if len(t) > len(st.toCol) {
		return nil, nil, fmt.Errorf("tuple has %d columns, relation %d", len(t), len(st.toCol))
	}
	for i, tc := range t {
		k := st.toCol[i]
		if k < 0 {
			continue
		}
		switch tc.Kind {
		case pgrepl.TupleNull:
		case pgrepl.TupleUnchanged:
			if oldKind == pgrepl.OldFull && i < len(old) && old[i].Kind == pgrepl.TupleText {
				tc = old[i]
			} else {
				unchanged = append(unchanged, k)
				continue
			}
			fallthrough
		case pgrepl.TupleText:
			v, err := decodeText(&cols[k], st.oids[i], string(tc.Data), s.trimChar)
			if err != nil {
				return nil, nil, fmt.Errorf("column %s: %w", cols[k].Name, err)
			}
			vals[k] = v
		default:
			return nil, nil, fmt.Errorf("column %s: unexpected binary value", cols[k].Name)
		}
	}
	return vals, unchanged, nil
}

// emit hands an item to Next, sending status updates while Next is slow
// so that the server does not time the connection out.
func (s *stream) emit(ctx context.Context, it item) bool {
	t := time.NewTimer(s.interval)
	defer t.Stop()
	for {
		select {
		case s.out <- it:
			return true
		case <-s.kick:
			if s.sendStatus(false) != nil {
				return false
			}
		case <-t.C:
			if s.sendStatus(false) != nil {
				return false
			}
			t.Reset(s.interval)
		case <-ctx.Done():
			return false
		}
	}
}

// maybeStatus sends a status update when Commit advanced the flush LSN or
// the status interval passed.
func (s *stream) maybeStatus(reply bool) error {
	select {
	case <-s.kick:
		return s.sendStatus(reply)
	default:
	}
	if pgrepl.LSN(s.committed.Load()) != s.reported || time.Since(s.lastSent) >= s.interval {
		return s.sendStatus(reply)
	}
	return nil
}

// sendStatus reports written = received, flush = apply = committed.
func (s *stream) sendStatus(reply bool) error {
	flushed := pgrepl.LSN(s.committed.Load())
	written := max(s.received, flushed)
	if err := pgrepl.SendStatus(s.conn, pgrepl.Status{Written: written, Flushed: flushed, Applied: flushed, ReplyNow: reply}); err != nil {
		return err
	}
	s.reported, s.lastSent = flushed, time.Now()
	return nil
}
