package s3csv

import (
	"context"
	"errors"
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
// key order. A new key that sorts before the latest file started is late
// (DMS skips it silently; sluice reports it), and a known key with a new
// ETag was rewritten after being applied (reported the same way).
//
// Listing cost: a poll lists only the keys after the latest file started
// (StartAfter); every fullListEvery polls, or after fullListInterval, a
// full listing looks for late and rewritten files, which sort before it.
// Recognising those needs the files already applied or reported, with
// their ETags (seen). To keep the position small, seen holds only the
// files whose LastModified is after SeenSince, a window below the newest
// LastModified of the last full listing: an older file sorting before the
// latest one was in an earlier full listing (objects appear in listings
// once written, and an upload takes less than the window), where it was
// applied or reported, so it needs no entry. A late or rewritten file is
// written after that listing, so its LastModified is recent.
type cdcFollower struct {
	s       *Source
	em      *emitter
	cs      cdcState
	seen    map[string]string
	newSeen map[string]string // changes not yet sent ("" = removed)
	dirty   bool              // state changed since the last send
	last    *tabledefs.Table  // table of the previous line: lines come in runs
}

const (
	fullListEvery    = 10 // polls
	fullListInterval = time.Minute
	seenWindow       = 30 * time.Minute

	skipAdvice = `set S3Settings.LateCdcFilePolicy to "skip"`
)

func (s *Source) followCDC(ctx context.Context) error {
	f := &cdcFollower{s: s, em: s.newEmitter(ctx), seen: map[string]string{}, newSeen: map[string]string{}}
	if s.start.CDC != nil {
		f.cs = *s.start.CDC
		f.cs.Seen, f.cs.seenEnc = nil, nil
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
	var lastFull time.Time
	polls := 0
	for {
		full := lastFull.IsZero() || polls >= fullListEvery-1 || time.Since(lastFull) >= fullListInterval ||
			f.cs.Key == "" || !f.cs.FileDone
		if err := f.poll(ctx, prefix, full); err != nil {
			return err
		}
		if full {
			lastFull, polls = time.Now(), 0
		} else {
			polls++
		}
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

// poll lists the CDC folder, whole or after the latest file started, and
// applies or reports what it finds. A full listing also trims seen.
func (f *cdcFollower) poll(ctx context.Context, prefix string, full bool) error {
	after := ""
	if !full {
		after = f.cs.Key
	}
	var newest time.Time
	present := map[string]time.Time{} // seen keys listed, with their LastModified
	err := f.s.listEach(ctx, prefix, after, func(obj types.Object) error {
		key, lm := aws.ToString(obj.Key), aws.ToTime(obj.LastModified)
		if lm.After(newest) {
			newest = lm
		}
		if err := f.object(ctx, key, aws.ToString(obj.ETag), lm); err != nil {
			return err
		}
		if _, ok := f.seen[key]; ok && full {
			present[key] = lm
		}
		return nil
	})
	if err != nil || !full {
		return err
	}
	if since := newest.Add(-seenWindow); !newest.IsZero() && since.After(f.cs.SeenSince) {
		f.cs.SeenSince = since
		f.dirty = true
	}
	// Forget files no longer listed (CDC files are usually expired by a
	// lifecycle rule; one that comes back is late) and those older than
	// the window.
	for k := range f.seen {
		if lm, ok := present[k]; !ok || !lm.After(f.cs.SeenSince) {
			f.forget(k)
		}
	}
	return nil
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

func (f *cdcFollower) forget(key string) {
	delete(f.seen, key)
	f.newSeen[key] = "" // "" = removed, see Source.add
	f.dirty = true
}

// object decides what to do with one listed CDC object.
func (f *cdcFollower) object(ctx context.Context, key, etag string, lm time.Time) error {
	if strings.HasSuffix(key, "/") {
		return nil
	}
	origin := f.s.origin(key)
	if prev, ok := f.seen[key]; ok {
		if prev != etag {
			return f.report(key, etag, fmt.Sprintf("CDC file was rewritten after it was applied (ETag %s, now %s)", prev, etag),
				"the new content is not applied",
				fmt.Sprintf("CDC file %s was rewritten after it was applied (ETag %s, now %s): put back the applied version or %s", origin, prev, etag, skipAdvice))
		}
		return nil
	}
	switch {
	case key == f.cs.Key && !f.cs.FileDone:
		if etag != f.cs.ETag {
			return f.report(key, etag, fmt.Sprintf("CDC file was rewritten while it was being applied (ETag %s, now %s)", f.cs.ETag, etag),
				"its remaining lines are not applied",
				fmt.Sprintf("CDC file %s was rewritten while it was being applied (ETag %s, now %s): put back the applied version or %s", origin, f.cs.ETag, etag, skipAdvice))
		}
		return f.apply(ctx, key, etag, lm, true)
	case key == f.cs.Key: // applied, and left seen with the window
		if etag != f.cs.ETag {
			return f.report(key, etag, fmt.Sprintf("CDC file was rewritten after it was applied (ETag %s, now %s)", f.cs.ETag, etag),
				"the new content is not applied",
				fmt.Sprintf("CDC file %s was rewritten after it was applied (ETag %s, now %s): put back the applied version or %s", origin, f.cs.ETag, etag, skipAdvice))
		}
		return nil
	case f.cs.Key != "" && key < f.cs.Key:
		if !lm.After(f.cs.SeenSince) {
			return nil // applied or reported by an earlier full listing
		}
		latest := f.s.origin(f.cs.Key)
		return f.report(key, etag, "late CDC file: it sorts before "+latest+", which was already applied",
			"skipped",
			"late CDC file "+origin+" sorts before "+latest+", which was already applied: remove it or "+skipAdvice)
	}
	return f.apply(ctx, key, etag, lm, false)
}

// report records a late or rewritten file: a reject (exceptions file and
// statistics) and a warning; then the file is skipped, or with
// StopOnLateFile the source stops with stopMsg once the reject is
// delivered. A skipped file is remembered so that it is reported once; a
// stopping one is not, so a restarted task stops again until it is dealt
// with.
func (f *cdcFollower) report(key, etag, reason, skipped, stopMsg string) error {
	origin := f.s.origin(key)
	if f.s.o.StopOnLateFile {
		reason += "; the task stops (LateCdcFilePolicy stop)"
	} else {
		reason += "; " + skipped
	}
	f.s.log.Warn(reason, "file", origin)
	f.em.reject(source.Reject{Position: origin, Reason: reason})
	if f.s.o.StopOnLateFile {
		if err := f.send(); err != nil {
			return err
		}
		return errors.New(stopMsg)
	}
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
func (f *cdcFollower) apply(ctx context.Context, key, etag string, lm time.Time, resume bool) error {
	s := f.s
	s.cdcApplied(lm)
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
	body, err := s.openObject(ctx, key, etag, off, nil)
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

// listEach calls fn for every object under prefix after the key after
// ("": all), in key order, a page at a time.
func (s *Source) listEach(ctx context.Context, prefix, after string, fn func(types.Object) error) error {
	for {
		page, err := s.list(ctx, prefix, after, 0)
		if err != nil {
			return err
		}
		for _, obj := range page.Contents {
			if err := fn(obj); err != nil {
				return err
			}
		}
		if !aws.ToBool(page.IsTruncated) || len(page.Contents) == 0 {
			return nil
		}
		after = aws.ToString(page.Contents[len(page.Contents)-1].Key)
	}
}
