package s3csv

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// Source reads one task's S3 CSV input. Producers (one goroutine per table
// being loaded, up to MaxSubTasks, then the CDC follower) fill chunks;
// Next gathers chunks into batches and keeps the position that is the
// exact resume state as of the end of each batch.
type Source struct {
	o          Options
	client     S3API
	bucketName string // the name used in S3 calls
	localRoot  string // set for a file:// bucket
	log        *slog.Logger

	start *position // resume state New started from (read by producers)
	state *position // state as of the last batch returned (owned by Next)

	out     chan *chunk
	pool    sync.Pool
	prev    []*chunk // chunks of the last batch, recycled by the next Next
	cancel  context.CancelFunc
	err     error  // producer error, readable once out is closed
	held    *chunk // a table error met while a batch was being filled
	restart bool   // producers stopped on a transient error: restart them
	closed  bool

	posEnc   source.Position // state encoded, reused while it is unchanged
	posStale bool

	prog      map[string]*tableProgress // per selected table; the map is read-only
	cdcNewest atomic.Int64              // LastModified (unix nanos) of the newest CDC file applied

	mu        sync.Mutex
	suspended map[string]bool // "schema.table"
	failed    map[string]bool // tables whose load ended with a TableError
	posDirty  bool            // state changed outside a chunk (SuspendTable)
}

var _ source.Source = (*Source)(nil)

// New checks the options and the bucket, then starts reading from resume
// (nil: from the beginning). Configuration problems, a missing bucket or
// BucketFolder, and a CDC task without CdcPath are refused here, before any
// data moves. A selected table with no objects is only a warning: DMS loads
// it with 0 rows. ctx bounds these checks only; reading stops with Close.
func New(ctx context.Context, o Options, resume source.Position) (*Source, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("S3 source settings: %w", err)
	}
	s := &Source{o: o, log: o.Logger.With("source", "s3"), suspended: map[string]bool{}, failed: map[string]bool{},
		prog: map[string]*tableProgress{}, posStale: true}
	for _, t := range o.Tables {
		s.prog[tableName(t)] = &tableProgress{}
	}
	s.client = o.Client
	s.bucketName = o.Bucket
	if strings.HasPrefix(o.Bucket, "file://") {
		dc, err := newDirClient(o.Bucket)
		if err != nil {
			return nil, err
		}
		s.localRoot = dc.root
		if s.client == nil {
			s.client = dc
		}
	}
	if s.client == nil {
		if s.client, err = NewS3Client(ctx, o.EndpointURL); err != nil {
			return nil, err
		}
	}
	if s.start, err = parsePosition(resume, o.Bucket, o.Folder); err != nil {
		return nil, err
	}
	for name, ts := range s.start.Tables {
		if ts.Suspended {
			s.suspended[name] = true
		}
	}
	if err := s.checkBucket(ctx); err != nil {
		return nil, err
	}
	s.state = s.start.clone()
	s.pool.New = func() any { return &chunk{} }
	s.startProducers()
	return s, nil
}

// startProducers starts reading from s.start.
func (s *Source) startProducers() {
	out := make(chan *chunk, 2*s.o.MaxSubTasks)
	s.out = out
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(out)
		s.err = s.run(runCtx)
	}()
}

// restartProducers resumes reading after a transient error from the state
// of the last batch returned, exactly as a new Source given that position
// would (rows of an interrupted plain object resume at its byte offset, a
// compressed one is re-read and the delivered rows skipped), except that
// tables that ended with a TableError stay ended.
func (s *Source) restartProducers() {
	s.cancel()
	for range s.out { // already closed; nothing is left
	}
	s.mu.Lock()
	s.start = s.state.clone()
	s.mu.Unlock()
	s.err = nil
	s.startProducers()
}

// checkBucket makes sure the bucket and BucketFolder exist, and warns about
// selected tables that have no objects.
func (s *Source) checkBucket(ctx context.Context) error {
	prefix := joinKey(s.o.Folder)
	out, err := s.list(ctx, prefix, "", 1)
	if err != nil {
		return err
	}
	if len(out.Contents) == 0 && (s.o.FullLoad || prefix != "") {
		return fmt.Errorf("nothing found under %s: check BucketName and BucketFolder", s.origin(prefix))
	}
	if !s.o.FullLoad {
		return nil
	}
	for _, t := range s.o.Tables {
		if ts := s.start.Tables[tableName(t)]; ts != nil && (ts.Done || ts.Suspended) {
			continue
		}
		p := s.tablePrefix(t)
		out, err := s.list(ctx, p, "", 1)
		if err != nil {
			return err
		}
		if len(out.Contents) == 0 {
			s.log.Warn("no objects for table; it loads 0 rows", "table", tableName(t), "prefix", s.origin(p))
		}
	}
	return nil
}

func (s *Source) tablePrefix(t *tabledefs.Table) string { return joinKey(s.o.Folder, t.Path) }

func (s *Source) list(ctx context.Context, prefix, after string, max int32) (*s3.ListObjectsV2Output, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucketName), Prefix: aws.String(prefix)}
	if s.o.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(s.o.ExpectedBucketOwner)
	}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	if max > 0 {
		in.MaxKeys = aws.Int32(max)
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.origin(prefix), err)
	}
	return out, nil
}

// origin names an object as events and rejects show it.
func (s *Source) origin(key string) string {
	if s.localRoot != "" {
		return filepath.Join(s.localRoot, filepath.FromSlash(key))
	}
	return "s3://" + s.bucketName + "/" + key
}

func (s *Source) run(ctx context.Context) error {
	if s.o.FullLoad {
		if err := s.fullLoad(ctx); err != nil {
			return err
		}
	}
	if s.o.CDC {
		return s.followCDC(ctx)
	}
	return nil
}

// Next returns the next batch: chunks already produced, up to BatchRows
// events and rejects, waiting only for the first. The events of the
// previous batch are recycled, as the Source contract allows.
//
// Errors: a *source.TableError ends one table's load; the next Next goes
// on with the others. An error the producers stopped on is returned with a
// Retryable() bool method: true for a transient one (throttling, a reset
// connection), after which the next Next restarts reading from the last
// batch's position; false otherwise, and Next keeps returning it.
func (s *Source) Next(ctx context.Context) (source.Batch, error) {
	for _, c := range s.prev {
		c.reset()
		s.pool.Put(c)
	}
	s.prev = s.prev[:0]
	var b source.Batch
	if s.restart {
		s.restart = false
		s.restartProducers()
	}
	if c := s.held; c != nil {
		s.held = nil
		if err := s.tableError(c); err != nil {
			return b, err
		}
	}
	s.mu.Lock()
	dirty := s.posDirty
	s.posDirty = false
	s.mu.Unlock()
	if dirty { // a suspension changed the position: return it at once
		s.posStale = true
	} else {
	first:
		for {
			select {
			case c, ok := <-s.out:
				if !ok {
					return b, s.stopped()
				}
				if c.err != nil {
					if err := s.tableError(c); err != nil {
						return b, err
					}
					continue
				}
				s.add(&b, c)
				break first
			case <-ctx.Done():
				return b, ctx.Err()
			}
		}
	}
more:
	for len(b.Events)+len(b.Rejects) < s.o.BatchRows {
		select {
		case c, ok := <-s.out:
			if !ok {
				break more
			}
			if c.err != nil {
				s.held = c // returned by the next Next, after this batch
				break more
			}
			s.add(&b, c)
		default:
			break more
		}
	}
	if s.posStale {
		s.mu.Lock()
		pos, err := s.state.marshal()
		s.mu.Unlock()
		if err != nil {
			return source.Batch{}, err
		}
		s.posEnc, s.posStale = pos, false
	}
	b.Pos = s.posEnc
	return b, nil
}

// stopped returns the error the producers stopped on (ErrDone if none),
// marked for the runner's retry classification.
func (s *Source) stopped() error {
	if s.err == nil {
		return source.ErrDone
	}
	if transient(s.err) {
		s.restart = true
		return &readError{err: s.err, transient: true}
	}
	return &readError{err: s.err}
}

// tableError returns the TableError a chunk carries and remembers that the
// table's load ended, or nil when the table is suspended already.
func (s *Source) tableError(c *chunk) error {
	s.prev = append(s.prev, c)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[c.table] = true
	if s.suspended[c.table] {
		return nil
	}
	return c.err
}

func (s *Source) hasFailed(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed[name]
}

// addRejects appends c's rejects to b with their RejectAt indexes, for
// events that will start at index base of b.Events.
func addRejects(b *source.Batch, c *chunk, base int) {
	for i, r := range c.rejects {
		b.Rejects = append(b.Rejects, r)
		b.RejectAt = append(b.RejectAt, base+c.rejectAt[i])
	}
}

// add appends a chunk to the batch and advances the state to the chunk's.
func (s *Source) add(b *source.Batch, c *chunk) {
	s.prev = append(s.prev, c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.table != "" {
		if s.suspended[c.table] {
			return // produced before the table was suspended: dropped
		}
		ts := c.ts
		s.state.Tables[c.table] = &ts
		s.posStale = true
		if c.completed {
			b.Completed = append(b.Completed, c.table)
		}
		addRejects(b, c, len(b.Events))
		b.Events = append(b.Events, c.events...)
		return
	}
	if len(s.suspended) == 0 {
		addRejects(b, c, len(b.Events))
		b.Events = append(b.Events, c.events...)
	} else {
		// Dropping a suspended table's events shifts the reject indexes.
		base, r := len(b.Events), 0
		for i, e := range c.events {
			for ; r < len(c.rejects) && c.rejectAt[r] <= i; r++ {
				b.Rejects = append(b.Rejects, c.rejects[r])
				b.RejectAt = append(b.RejectAt, base)
			}
			if !s.suspended[tableName(e.Table)] {
				b.Events = append(b.Events, e)
				base++
			}
		}
		for ; r < len(c.rejects); r++ {
			b.Rejects = append(b.Rejects, c.rejects[r])
			b.RejectAt = append(b.RejectAt, base)
		}
	}
	if c.cdc != nil {
		s.posStale = true
		seen := map[string]string(nil)
		var enc []byte
		if s.state.CDC != nil {
			seen, enc = s.state.CDC.Seen, s.state.CDC.seenEnc
		}
		cs := *c.cdc
		cs.Seen, cs.seenEnc = seen, enc
		for k, v := range c.seen {
			if cs.Seen == nil {
				cs.Seen = map[string]string{}
			}
			if v == "" {
				delete(cs.Seen, k)
			} else {
				cs.Seen[k] = v
			}
			cs.seenEnc = nil
		}
		s.state.CDC = &cs
	}
}

// Commit records that pos is durable downstream. S3 has nothing to
// acknowledge: the runner's checkpoint holding pos is the resume point.
func (s *Source) Commit(ctx context.Context, pos source.Position) error { return nil }

// SuspendTable stops loading and applying changes for a table (the
// SUSPEND_TABLE error behaviour). Events of the table still queued are
// dropped; the position records the suspension so a resumed task keeps it,
// and the next Next returns at once (possibly with no events) to carry it.
func (s *Source) SuspendTable(schema, table string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.o.Tables {
		if strings.EqualFold(t.Owner, schema) && strings.EqualFold(t.Name, table) {
			name := tableName(t)
			s.suspended[name] = true
			ts := s.state.Tables[name]
			if ts == nil {
				ts = &tableState{}
				s.state.Tables[name] = ts
			}
			ts.Suspended = true
			s.posDirty = true
		}
	}
}

func (s *Source) isSuspended(t *tabledefs.Table) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.suspended) > 0 && s.suspended[tableName(t)]
}

// Close stops the producers and waits for them.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancel()
	for range s.out { // producers exit on cancel; drain so none blocks
	}
	return nil
}
