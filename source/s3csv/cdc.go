package s3csv

import (
	"context"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// cdcFollower applies the CDC files under BucketFolder/CdcPath in lexical
// key order. Every file applied or reported is remembered with its ETag:
// a new key that sorts before the latest file started is late (DMS skips
// it silently; sluice reports it), and a known key with a new ETag was
// rewritten after being applied (reported the same way).
type cdcFollower struct {
	s       *Source
	em      *emitter
	cs      cdcState
	seen    map[string]string
	newSeen map[string]string // additions not yet sent
	dirty   bool              // state changed since the last send
	last    *tabledefs.Table  // table of the previous line: lines come in runs
}

func (s *Source) followCDC(ctx context.Context) error {
	f := &cdcFollower{s: s, em: s.newEmitter(ctx), seen: map[string]string{}, newSeen: map[string]string{}}
	if s.start.CDC != nil {
		f.cs = *s.start.CDC
		f.seen = maps.Clone(s.start.CDC.Seen)
		if f.seen == nil {
			f.seen = map[string]string{}
		}
	}
	if !f.cs.Started {
		if !s.o.FullLoad { // a full load already sent drop/create per table
			for _, t := range s.o.Tables {
				if !s.isSuspended(t) {
					f.em.event(source.Event{Op: source.OpCreateTable, Table: t})
				}
			}
		}
		f.cs.Started = true
		f.dirty = true
	}
	prefix := joinKey(s.o.Folder, s.o.CdcPath)
	for {
		objs, err := s.listAll(ctx, prefix)
		if err != nil {
			return err
		}
		listed := make(map[string]bool, len(objs))
		for _, obj := range objs {
			listed[aws.ToString(obj.Key)] = true
			if err := f.object(ctx, aws.ToString(obj.Key), aws.ToString(obj.ETag)); err != nil {
				return err
			}
		}
		f.forgetDeleted(listed)
		if f.dirty {
			if err := f.send(); err != nil {
				return err
			}
		}
		if s.o.Once {
			return nil
		}
		t := time.NewTimer(s.o.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (f *cdcFollower) send() error {
	if err := f.em.sendCDC(f.cs, f.newSeen); err != nil {
		return err
	}
	clear(f.newSeen)
	f.dirty = false
	return nil
}

func (f *cdcFollower) remember(key, etag string) {
	f.seen[key] = etag
	f.newSeen[key] = etag
	f.dirty = true
}

// forgetDeleted drops from the seen set the files no longer in the bucket
// (CDC files are usually expired by a lifecycle rule), so that the
// position stays as small as the folder. A deleted key that comes back
// sorts before the latest file and is reported as late.
func (f *cdcFollower) forgetDeleted(listed map[string]bool) {
	for k := range f.seen {
		if !listed[k] {
			delete(f.seen, k)
			f.newSeen[k] = "" // "" = removed, see Source.add
			f.dirty = true
		}
	}
}

// object decides what to do with one listed CDC object.
func (f *cdcFollower) object(ctx context.Context, key, etag string) error {
	if strings.HasSuffix(key, "/") {
		return nil
	}
	if prev, ok := f.seen[key]; ok {
		if prev != etag {
			return f.report(key, etag, fmt.Sprintf("CDC file was rewritten after it was applied (ETag %s, now %s); the new content is not applied", prev, etag))
		}
		return nil
	}
	switch {
	case key == f.cs.Key && !f.cs.FileDone:
		if etag != f.cs.ETag {
			return f.report(key, etag, fmt.Sprintf("CDC file was rewritten while it was being applied (ETag %s, now %s); its remaining lines are not applied", f.cs.ETag, etag))
		}
		return f.apply(ctx, key, etag, true)
	case f.cs.Key != "" && key < f.cs.Key:
		return f.report(key, etag, "late CDC file: it sorts before "+f.s.origin(f.cs.Key)+", which was already applied; skipped")
	}
	return f.apply(ctx, key, etag, false)
}

// report records a late or rewritten file: a reject (exceptions file and
// statistics), a warning, and with StopOnLateFile an error that stops the task.
func (f *cdcFollower) report(key, etag, reason string) error {
	origin := f.s.origin(key)
	f.s.log.Warn(reason, "file", origin)
	if f.s.o.StopOnLateFile {
		return fmt.Errorf("%s: %s (StopOnLateFile is set)", origin, reason)
	}
	f.em.reject(source.Reject{Position: origin, Reason: reason})
	if key == f.cs.Key {
		f.cs.FileDone = true
	}
	f.remember(key, etag)
	if f.em.full() {
		return f.send()
	}
	return nil
}

// apply streams one CDC file; resume continues an interrupted one.
func (f *cdcFollower) apply(ctx context.Context, key, etag string, resume bool) error {
	s := f.s
	origin := s.origin(key)
	if !resume || f.cs.NextLine < 1 {
		f.cs.NextLine, f.cs.Offset = 1, 0
		resume = false
	}
	f.cs.Key, f.cs.ETag, f.cs.FileDone = key, etag, false
	f.dirty = true
	ranged := resume && f.cs.Offset > 0 && !isGzip(key)
	var off int64
	if ranged {
		off = f.cs.Offset
	}
	body, err := s.openObject(ctx, key, etag, off)
	if err != nil {
		return err
	}
	defer body.Close()
	rd := newCSVReader(body, s.o.dialect())
	if ranged {
		rd.setStart(f.cs.Offset, f.cs.NextLine)
	} else {
		rd.skipHead = s.o.IgnoreHeaderRows
	}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", origin, err)
		}
		if rec.Line < f.cs.NextLine {
			continue
		}
		if rj := f.line(rec, origin); rj != nil {
			rj.Position = origin + ":" + strconv.FormatInt(rec.Line, 10)
			rj.Raw = rd.Raw()
			f.em.reject(*rj)
		}
		f.cs.NextLine, f.cs.Offset = rd.line, rec.Offset
		if f.em.full() {
			if err := f.send(); err != nil {
				return err
			}
		}
	}
	f.cs.FileDone = true
	f.remember(key, etag)
	return nil
}

// line turns one CDC line into an event. It returns a reject (without
// position and raw text) when it cannot, and nil for an applied line or a
// line that is quietly skipped (a defined but unselected or suspended table).
func (f *cdcFollower) line(rec *record, origin string) *source.Reject {
	if rec.Err != nil {
		return &source.Reject{Reason: rec.Err.Error()}
	}
	fl := rec.Fields
	if len(fl) < 3 {
		return &source.Reject{Reason: "CDC line has " + strconv.Itoa(len(fl)) + " fields; expected operation,table,schema followed by the columns"}
	}
	op, ok := cdcOp(fl[0])
	if !ok {
		return &source.Reject{Schema: fl[2], Table: fl[1], Reason: "unknown CDC operation " + strconv.Quote(fl[0]) + " (expected I, U, D, INSERT, UPDATE or DELETE)"}
	}
	t := f.table(fl[2], fl[1])
	if t == nil {
		if d := f.s.o.Definition; d != nil && d.Lookup(fl[2], fl[1]) != nil {
			return nil // defined but not selected by the table mappings
		}
		return &source.Reject{Schema: fl[2], Table: fl[1], Reason: "CDC line names table " + strconv.Quote(fl[1]) + " in schema " + strconv.Quote(fl[2]) + ", which the external table definition does not define"}
	}
	if f.s.isSuspended(t) {
		return nil
	}
	conv := converter{t: t, null: f.s.o.NullValue}
	if len(fl)-3 != len(t.Columns) {
		return &source.Reject{Schema: t.Owner, Table: t.Name, Reason: conv.countError(len(fl) - 3).reason}
	}
	vals := f.em.values(len(t.Columns))
	if rerr := conv.values(fl[3:], rec.Quoted[3:], vals); rerr != nil {
		clear(vals)
		return &source.Reject{Schema: t.Owner, Table: t.Name, Reason: rerr.reason, Truncation: rerr.truncation}
	}
	f.em.event(source.Event{Op: op, Table: t, Values: vals, Origin: origin, Seq: rec.Line})
	return nil
}

func (f *cdcFollower) table(schema, name string) *tabledefs.Table {
	if t := f.last; t != nil && strings.EqualFold(t.Owner, schema) && strings.EqualFold(t.Name, name) {
		return t
	}
	for _, t := range f.s.o.Tables {
		if strings.EqualFold(t.Owner, schema) && strings.EqualFold(t.Name, name) {
			f.last = t
			return t
		}
	}
	return nil
}

func cdcOp(s string) (source.Op, bool) {
	switch {
	case strings.EqualFold(s, "I"), strings.EqualFold(s, "INSERT"):
		return source.OpInsert, true
	case strings.EqualFold(s, "U"), strings.EqualFold(s, "UPDATE"):
		return source.OpUpdate, true
	case strings.EqualFold(s, "D"), strings.EqualFold(s, "DELETE"):
		return source.OpDelete, true
	}
	return 0, false
}

// listAll lists every object under prefix, in key order.
func (s *Source) listAll(ctx context.Context, prefix string) ([]types.Object, error) {
	var objs []types.Object
	after := ""
	for {
		page, err := s.list(ctx, prefix, after, 0)
		if err != nil {
			return nil, err
		}
		objs = append(objs, page.Contents...)
		if !aws.ToBool(page.IsTruncated) || len(page.Contents) == 0 {
			return objs, nil
		}
		after = aws.ToString(page.Contents[len(page.Contents)-1].Key)
	}
}
