package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// snapshot reads the captured tables inside one REPEATABLE READ
// transaction, one streamed query at a time, so memory holds one batch.
type snapshot struct {
	conn     *pgx.Conn
	tables   []*relInfo
	trimChar bool
	pos      position // done, table, after, rows: progress delivered so far
	idx      int      // index in tables of the table being read
	rr       *pgconn.ResultReader
	pk       []int
	finished bool
}

// begin opens the snapshot transaction; with a snapshot name it imports
// the slot's exported snapshot so the rows are exactly those at the slot's
// consistent point.
func (s *snapshot) begin(ctx context.Context, snapshotName string) error {
	if _, err := s.conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return fmt.Errorf("starting the snapshot transaction: %w", err)
	}
	if snapshotName != "" {
		if _, err := s.conn.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(snapshotName)); err != nil {
			return fmt.Errorf("importing snapshot %s: %w", snapshotName, err)
		}
	}
	return nil
}

// next returns up to max rows as OpLoad events, with the tables finished.
func (s *snapshot) next(ctx context.Context, max int, b *source.Batch) error {
	for len(b.Events)+len(b.Rejects) < max {
		if s.rr == nil {
			if !s.openTable(ctx) {
				s.finished = true
				if _, err := s.conn.Exec(ctx, "COMMIT"); err != nil {
					return fmt.Errorf("ending the snapshot transaction: %w", err)
				}
				return nil
			}
		}
		ri := s.tables[s.idx]
		if !s.rr.NextRow() {
			if _, err := s.rr.Close(); err != nil {
				return fmt.Errorf("reading %s: %w", qualified(ri.table), err)
			}
			s.rr = nil
			key := tableKey(ri.table)
			s.pos.Done = append(s.pos.Done, key)
			s.pos.Table, s.pos.After, s.pos.Rows = "", nil, 0
			b.Completed = append(b.Completed, key)
			s.idx++
			continue
		}
		s.pos.Rows++
		vals := s.rr.Values()
		t := ri.table
		ev := source.Event{Op: source.OpLoad, Table: t, Values: make([]tabledefs.Value, len(t.Columns)),
			Origin: tableKey(t), Seq: s.pos.Rows}
		var bad *source.Reject
		for i := range t.Columns {
			if vals[i] == nil {
				continue
			}
			v, err := decodeText(&t.Columns[i], ri.oids[i], string(vals[i]), s.trimChar)
			if err != nil {
				bad = rowReject(t, fmt.Sprintf("%s:row %d", tableKey(t), s.pos.Rows), &t.Columns[i], err, string(vals[i]))
				break
			}
			ev.Values[i] = v
		}
		if bad != nil {
			b.Rejects = append(b.Rejects, *bad)
		} else {
			b.Events = append(b.Events, ev)
		}
		if len(s.pk) > 0 {
			after := make([]string, len(s.pk))
			for i, k := range s.pk {
				after[i] = string(vals[k])
			}
			s.pos.After = after
		}
	}
	return nil
}

// openTable starts the query of the next table not yet done; false when
// every table is done.
func (s *snapshot) openTable(ctx context.Context) bool {
	for ; s.idx < len(s.tables); s.idx++ {
		ri := s.tables[s.idx]
		key := tableKey(ri.table)
		if contains(s.pos.Done, key) {
			continue
		}
		var after []string
		if s.pos.Table == key {
			after = s.pos.After
		} else {
			s.pos.Table, s.pos.After, s.pos.Rows = key, nil, 0
		}
		s.pk = ri.table.PKIndexes()
		sql, params := selectSQL(ri, s.pk, after)
		if after == nil {
			// Without a key to resume from, the table is read from the start.
			s.pos.Rows = 0
		}
		s.rr = s.conn.PgConn().ExecParams(ctx, sql, params, nil, nil, []int16{pgx.TextFormatCode})
		return true
	}
	return false
}

// selectSQL reads every column in table order, in primary-key order from
// just after the last delivered key when there is one.
func selectSQL(ri *relInfo, pk []int, after []string) (string, [][]byte) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range ri.table.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{c.Name}.Sanitize())
	}
	b.WriteString(" FROM ")
	b.WriteString(qualified(ri.table))
	var params [][]byte
	if len(pk) > 0 && len(after) == len(pk) {
		b.WriteString(" WHERE (")
		for i, k := range pk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pgx.Identifier{ri.table.Columns[k].Name}.Sanitize())
		}
		b.WriteString(") > (")
		for i, k := range pk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(i+1) + "::" + ri.pgTypes[k])
			params = append(params, []byte(after[i]))
		}
		b.WriteString(")")
	}
	if len(pk) > 0 {
		b.WriteString(" ORDER BY ")
		for i, k := range pk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pgx.Identifier{ri.table.Columns[k].Name}.Sanitize())
		}
	}
	return b.String(), params
}

// close abandons a query in progress (the connection is closed after it).
func (s *snapshot) close() {
	if s.rr != nil {
		_, _ = s.rr.Close()
		s.rr = nil
	}
}

func rowReject(t *tabledefs.Table, pos string, c *tabledefs.Column, err error, raw string) *source.Reject {
	rj := &source.Reject{Schema: t.Owner, Table: t.Name, Position: pos,
		Reason: fmt.Sprintf("column %s: %v", c.Name, err), Raw: raw}
	if ve, ok := err.(*tabledefs.ValueError); ok {
		rj.Truncation = ve.Truncation
		rj.Raw = strings.Clone(raw)
	}
	return rj
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
