package s3csv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// fullLoad loads the selected tables, up to MaxSubTasks at a time, in the
// order given. A table whose input is bad (a corrupt gzip object, an
// object that cannot be read) ends with a TableError and the others go on;
// any other error (transient ones, restarted by Next) cancels the others
// and is returned.
func (s *Source) fullLoad(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, s.o.MaxSubTasks)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for _, t := range s.o.Tables {
		var ts tableState
		if p := s.start.Tables[tableName(t)]; p != nil {
			ts = *p
		}
		if ts.Done || ts.Suspended || s.hasFailed(tableName(t)) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.loadTable(ctx, t, ts); err != nil {
				errOnce.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// errSuspended ends the load of a table suspended by SuspendTable.
var errSuspended = errors.New("table suspended")

// loadTable reads every object under the table's prefix in key order,
// resuming from ts. Listing restarts after the last object read rather than
// with a continuation token, which may expire while a large object is read.
func (s *Source) loadTable(ctx context.Context, t *tabledefs.Table, ts tableState) error {
	name := tableName(t)
	em := s.newEmitter(ctx)
	if !ts.Started {
		em.event(source.Event{Op: source.OpDropTable, Table: t})
		em.event(source.Event{Op: source.OpCreateTable, Table: t})
		ts.Started = true
	}
	// Bad input ends this table only; a transient error or cancellation
	// stops the producers (Next restarts them after a transient one).
	fail := func(err error) error {
		if ctx.Err() != nil || transient(err) {
			return err
		}
		s.log.Debug("table load failed", "table", name, "err", err)
		return em.sendTableError(t, ts, err)
	}
	tp := s.prog[name]
	if err := s.measureTable(ctx, t, ts.LastKey, tp); err != nil {
		return fail(err)
	}
	prefix := s.tablePrefix(t)
	after := ts.LastKey
	for {
		page, err := s.list(ctx, prefix, after, 0)
		if err != nil {
			return fail(err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			after = key
			if strings.HasSuffix(key, "/") { // folder marker
				continue
			}
			if s.isSuspended(t) {
				return nil
			}
			if err := s.loadObject(ctx, em, t, &ts, key, aws.ToString(obj.ETag), &tp.cur); err != nil {
				if errors.Is(err, errSuspended) {
					return nil
				}
				return fail(err)
			}
			tp.cur.Store(0)
			tp.finished.Add(aws.ToInt64(obj.Size))
		}
		if !aws.ToBool(page.IsTruncated) || len(page.Contents) == 0 {
			break
		}
	}
	ts.Done = true
	s.log.Debug("table read", "table", name, "rows", ts.Rows) // the runner logs "table loaded"
	return em.sendTable(name, ts, true)
}

// measureTable sets the table's byte totals for Progress: the sizes of all
// its objects, and of those up to lastKey (loaded before a resume).
func (s *Source) measureTable(ctx context.Context, t *tabledefs.Table, lastKey string, tp *tableProgress) error {
	var total, finished int64
	prefix := s.tablePrefix(t)
	after := ""
	for {
		page, err := s.list(ctx, prefix, after, 0)
		if err != nil {
			return err
		}
		for _, obj := range page.Contents {
			after = aws.ToString(obj.Key)
			total += aws.ToInt64(obj.Size)
			if after <= lastKey {
				finished += aws.ToInt64(obj.Size)
			}
		}
		if !aws.ToBool(page.IsTruncated) || len(page.Contents) == 0 {
			break
		}
	}
	tp.total.Store(total)
	tp.finished.Store(finished)
	tp.cur.Store(0)
	return nil
}

// loadObject streams one object into load events. When ts says the object
// was interrupted and its ETag is unchanged, rows already delivered are not
// sent again: a plain object is reopened at the byte offset, a compressed
// one is re-read and the delivered rows skipped.
func (s *Source) loadObject(ctx context.Context, em *emitter, t *tabledefs.Table, ts *tableState, key, etag string, pos *atomic.Int64) error {
	name := tableName(t)
	origin := s.origin(key)
	resume := ts.CurKey == key && ts.CurETag == etag && ts.NextLine > 1
	if ts.CurKey == key && ts.CurETag != etag {
		s.log.Warn("object changed since the load was interrupted; reading it again from the start",
			"table", name, "object", origin, "old_etag", ts.CurETag, "etag", etag)
	}
	if !resume {
		ts.NextLine, ts.Offset = 1, 0
	}
	ts.CurKey, ts.CurETag = key, etag
	ranged := resume && ts.Offset > 0 && !isGzip(key)
	var off int64
	if ranged {
		off = ts.Offset
	}
	body, err := s.openObject(ctx, key, etag, off, pos)
	if err != nil {
		return err
	}
	defer body.Close()
	rd := newCSVReader(body, s.o.dialect())
	if ranged {
		rd.setStart(ts.Offset, ts.NextLine)
	} else {
		rd.skipHead = s.o.IgnoreHeaderRows
	}
	conv := converter{t: t, null: s.o.NullValue}
	ncols := len(t.Columns)
	suspended := false
	err = rowPipe(ctx, rd, func(b *rowBlock) error {
		fields, quoted := b.fields, b.quoted
		for i := range b.rows {
			row := &b.rows[i]
			rf, rq := fields[:row.nf], quoted[:row.nf]
			fields, quoted = fields[row.nf:], quoted[row.nf:]
			if row.line < ts.NextLine {
				continue // delivered before the interruption
			}
			if rerr := s.loadRow(em, &conv, row.err, rf, rq, row.line, ncols, origin); rerr != nil {
				em.reject(source.Reject{Schema: t.Owner, Table: t.Name,
					Position: origin + ":" + strconv.FormatInt(row.line, 10), Reason: rerr.reason,
					Raw: strings.Clone(rawText(row.raw)), Truncation: rerr.truncation})
			}
			ts.NextLine, ts.Offset = row.nextLine, row.offset
			ts.Rows++
			if em.full() {
				if err := em.sendTable(name, *ts, false); err != nil {
					return err
				}
				if s.isSuspended(t) {
					suspended = true
					return errSuspended
				}
			}
		}
		return nil
	})
	if suspended {
		return errSuspended
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", origin, err)
	}
	ts.LastKey, ts.LastETag = key, etag
	ts.CurKey, ts.CurETag, ts.NextLine, ts.Offset = "", "", 0, 0
	return nil
}

// loadRow turns one row into a load event, or says why it cannot.
func (s *Source) loadRow(em *emitter, conv *converter, rowErr error, rowFields []string, quoted []bool, line int64, ncols int, origin string) *rowError {
	if rowErr != nil {
		return &rowError{reason: rowErr.Error()}
	}
	fields, rerr := conv.fullLoadFields(rowFields)
	if rerr != nil {
		return rerr
	}
	if len(fields) < len(rowFields) {
		quoted = quoted[1:]
	}
	vals := em.values(ncols)
	if rerr := conv.values(fields, quoted, vals); rerr != nil {
		clear(vals)
		return rerr
	}
	em.event(source.Event{Op: source.OpLoad, Table: conv.t, Values: vals, Origin: origin, Seq: line})
	return nil
}
