package task

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
	"github.com/sluicedata/sluice/target"
)

// Mapper turns one source event into the records every target receives,
// appending them to dst. Zero records means the event is excluded; it is
// still acknowledged with its batch.
type Mapper interface {
	Map(ev *source.Event, dst []mapping.Record) ([]mapping.Record, error)
}

// TableSuspender is implemented by sources that can stop reading one table
// (SUSPEND_TABLE). Without it the runner drops the table's events itself.
// The runner never calls it concurrently with Next.
type TableSuspender interface {
	SuspendTable(schema, table string)
}

// Output is one target endpoint of the task.
type Output struct {
	Name   string // for logs and metrics, e.g. "kinesis:orders"
	Target target.Target
}

// OpenSourceFunc opens the source resuming after resume (nil: new task).
type OpenSourceFunc func(ctx context.Context, resume source.Position) (source.Source, error)

// Runner drives one task: Source.Next → Mapper.Map → every Target.Write,
// and, every CommitRate events or CommitTimeout, the commit sequence of the
// durability contract:
//
//  1. every target Flush (every record written so far is durable),
//  2. exceptions file fsync,
//  3. checkpoint (position + statistics) saved,
//  4. Source.Commit(position).
//
// Each step starts only after the previous one succeeded, so a crash
// between any two re-delivers from the last saved checkpoint and never
// skips. Source.Commit is never called while Next runs: after a timed save
// while Next is blocked, the commit follows when Next returns, or at stop.
type Runner struct {
	Task          string
	Identity      Identity // fingerprinted; a resume under another identity is refused
	MigrationType string   // "full-load", "cdc" or "full-load-and-cdc"
	Tables        []string // selected "schema.table" (statistics start as "Before load")

	OpenSource OpenSourceFunc
	Mapper     Mapper
	Targets    []Output
	Store      StateStore

	CommitRate    int           // events per commit; default 10000
	CommitTimeout time.Duration // longest time a change waits for its commit; default 1 s
	Errors        ErrorBehaviorSettings
	// RetryUnit is the unit of RecoverableErrorInterval and
	// RecoverableErrorThrottlingMax (seconds, as DMS; tests shrink it).
	RetryUnit    time.Duration
	StopAt       StopPosition  // CdcStopPosition
	GraceTimeout time.Duration // bound of the final flush after ctx ends; default 30 s
	Retryable    func(error) bool
	Log          *slog.Logger
	Metrics      *Metrics
	Now          func() time.Time

	// set up by Run
	src        source.Source
	book       *statsBook
	exc        *exceptionsFile
	retry      retrier
	recs       []mapping.Record
	counted    []int
	suspCache  map[*tabledefs.Table]bool
	running    atomic.Bool
	started    atomic.Bool  // book and src are set (never reset)
	rejected   atomic.Int64 // this run, written to the exceptions file
	rejLog     rejectLog
	known      map[string]bool // selected tables; nil: every table
	mu         sync.Mutex      // guards suspended, toSuspend, fatal, tableErrs
	suspended  map[string]bool
	toSuspend  []string // to tell the source when Next is not running
	fatal      error
	tableErrs  int
	lastCommit atomic.Int64 // unix nanos of the newest change's commit time (CDC lag)

	saveMu sync.Mutex  // serializes Store.Save (the lease refresher saves too)
	lastCP *Checkpoint // newest saved; guarded by saveMu

	pending     source.Position // last processed batch, not yet saved
	pendingN    int
	saved       source.Position
	savedStats  TaskStats
	committed   source.Position
	lastSave    time.Time // guarded by saveMu once Run started
	leaseLost   chan struct{}
	commitDue   bool
	fullLoad    bool
	sourceStops bool // the source accepted StopAt and reports reaching it
	commitStop  bool // the runner enforces a commit_time StopAt on Event.CommitTime
	stopHit     bool // an event past the commit_time stop was seen
}

// Result is the outcome of Run for the command line.
type Result struct {
	Status     string // StatusStopped or StatusFailed
	StopReason string
	// Rejected counts the rows of this run written to the exceptions file
	// (LOG_ERROR, SUSPEND_TABLE, STOP_TASK policies): they make a finished
	// run exit 3. Rows dropped by IGNORE_RECORD are counted in the
	// statistics only and leave the exit code 0.
	Rejected int64
	Stats    TaskStats
	Err      error // why it failed
}

// Exit codes of design.md.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitRejected = 3
)

// ExitCode maps the result to the sluice exit code.
func (r Result) ExitCode() int {
	switch {
	case r.Status == StatusFailed:
		return ExitFailed
	case r.Rejected > 0:
		return ExitRejected
	default:
		return ExitOK
	}
}

// Snapshot returns the live statistics (safe while Run runs).
func (r *Runner) Snapshot() TaskStats {
	if !r.started.Load() {
		return TaskStats{}
	}
	return r.book.snapshot()
}

// Source returns the source once Run opened it (for progress reporting).
func (r *Runner) Source() source.Source {
	if !r.started.Load() {
		return nil
	}
	return r.src
}

// Rejecter returns the target.Rejecter that feeds the task's exceptions
// file and statistics; targets may call it from any goroutine during Run.
// An error it returns means ErrorBehavior stops the task: the target should
// return it from Write/Flush (the runner stops anyway).
func (r *Runner) Rejecter() target.Rejecter { return runnerRejecter{r} }

type runnerRejecter struct{ r *Runner }

func (rr runnerRejecter) Reject(rj source.Reject) error {
	if !rr.r.running.Load() {
		return errors.New("task runner is not running: reject not recorded")
	}
	err := rr.r.reject(rj)
	if err != nil {
		rr.r.setFatal(err)
	}
	return err
}

func (r *Runner) setFatal(err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.mu.Unlock()
}

func (r *Runner) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

func (r *Runner) defaults() error {
	if r.Task == "" || r.OpenSource == nil || r.Mapper == nil || r.Store == nil || len(r.Targets) == 0 {
		return errors.New("task runner: Task, OpenSource, Mapper, Store and at least one target are required")
	}
	if r.CommitRate <= 0 {
		r.CommitRate = 10000
	}
	if r.CommitTimeout <= 0 {
		r.CommitTimeout = time.Second
	}
	if r.RetryUnit <= 0 {
		r.RetryUnit = time.Second
	}
	if r.GraceTimeout <= 0 {
		r.GraceTimeout = 30 * time.Second
	}
	if r.Retryable == nil {
		r.Retryable = Retryable
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Identity.MigrationType == "" {
		r.Identity.MigrationType = r.MigrationType
	}
	r.fullLoad = r.MigrationType != "cdc"
	if len(r.Tables) > 0 {
		r.known = map[string]bool{}
		for _, k := range r.Tables {
			r.known[k] = true
		}
	}
	e := r.Errors
	interval := time.Duration(e.RecoverableErrorInterval) * r.RetryUnit
	if interval <= 0 {
		interval = 5 * r.RetryUnit
	}
	r.retry = retrier{
		count: e.RecoverableErrorCount, interval: interval, throttling: e.RecoverableErrorThrottling,
		max: time.Duration(e.RecoverableErrorThrottlingMax) * r.RetryUnit, classify: r.Retryable,
		stopAtMax: e.RecoverableErrorStopRetryAfterThrottlingMax,
		onRetry: func(what string, err error, wait time.Duration) {
			r.Log.Warn("recoverable error, retrying", "action", what, "err", err, "wait", wait)
			r.Metrics.retried(what, throttled(err))
		},
	}
	return nil
}

// Run runs the task until the source is done, ctx ends (graceful stop:
// final flush, save and commit bounded by GraceTimeout, nil error), the
// CdcStopPosition is reached, or it fails. The returned error is nil
// unless the task failed; Result says how it ended either way.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	if err := r.defaults(); err != nil {
		return Result{Status: StatusFailed, Err: err}, err
	}
	cp, err := r.Store.Load(ctx)
	if err != nil {
		return r.failedEarly(err)
	}
	if err := CheckResume(cp, r.Task, r.Identity); err != nil {
		return r.failedEarly(err)
	}
	var prevStats *TaskStats
	var resume source.Position
	if cp != nil {
		prevStats, resume = &cp.Stats, cp.Source
		r.saved, r.committed, r.savedStats = cp.Source, cp.Source, cp.Stats
	}
	r.book = newStatsBook(r.fullLoad, r.Tables, prevStats)
	now := r.Now()
	r.book.update(func(s *TaskStats) {
		s.Status, s.StopReason, s.StopDate, s.LastFailureMessage = StatusRunning, "", nil, ""
		s.StartDate = ptime(now)
		if s.FreshStartDate == nil {
			s.FreshStartDate = ptime(now)
		}
	})
	r.savedStats = r.book.snapshot() // what a failure before the first save records
	r.suspended = map[string]bool{}
	r.leaseLost = make(chan struct{}, 1)
	for _, t := range r.savedStats.Tables {
		if t.TableState == TableError {
			r.suspended[t.Key()] = true
			r.toSuspend = append(r.toSuspend, t.Key())
		}
	}
	if r.exc, err = openExceptions(r.Store.ExceptionsPath(), r.Task); err != nil {
		return r.failedEarly(err)
	}
	defer r.exc.Close()
	if r.src, err = r.OpenSource(ctx, resume); err != nil {
		return r.failedEarly(fmt.Errorf("opening source: %w", err))
	}
	defer r.src.Close()
	if err := r.installStop(); err != nil {
		return r.failedEarly(err)
	}
	if s, ok := r.src.(TableSuspender); ok { // tables suspended by an earlier run stay suspended
		for _, k := range r.toSuspend {
			s.SuspendTable(splitKey(k))
		}
		r.toSuspend = nil
	}
	r.started.Store(true)
	r.running.Store(true)
	r.Metrics.attach(r)
	defer r.running.Store(false)
	// `status` of a running task says so: the saved position and its
	// statistics, with status running and this run's StartDate.
	if err := r.saveCheckpoint(ctx, r.saved, r.book.snapshot()); err != nil {
		return r.failedEarly(err)
	}
	r.Log.Info("task started", "migration_type", r.MigrationType, "resumed", cp != nil)
	stopLease := r.refreshLease(ctx)
	res, err := r.loop(ctx)
	stopLease()
	return res, err
}

// selected reports whether key is a table the task replicates.
func (r *Runner) selected(key string) bool { return r.known == nil || r.known[key] }

// refreshLease keeps a store's lease (s3://) alive from its own goroutine,
// so that a Write or Flush blocked for longer than the lease cannot let a
// second runner take the task over: every LeaseRefresh/2 without a save it
// re-saves the newest saved checkpoint. A failed refresh (lease lost)
// fails the task. The returned func stops and waits for it.
func (r *Runner) refreshLease(ctx context.Context) (stop func()) {
	l, ok := r.Store.(interface{ LeaseRefresh() time.Duration })
	if !ok || l.LeaseRefresh() <= 0 {
		return func() {}
	}
	every := l.LeaseRefresh() / 2
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
			}
			if err := r.refreshOnce(lctx, every); err != nil {
				if lctx.Err() != nil {
					return
				}
				r.setFatal(fmt.Errorf("refreshing the state location lease: %w", err))
				select {
				case r.leaseLost <- struct{}{}:
				default:
				}
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func (r *Runner) refreshOnce(ctx context.Context, every time.Duration) error {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if r.lastCP == nil || r.Now().Sub(r.lastSave) < every {
		return nil
	}
	cp := *r.lastCP
	cp.SavedAt = r.Now().UTC()
	if err := r.retry.do(ctx, "refreshing lease", func() error { return r.Store.Save(ctx, &cp) }); err != nil {
		return err
	}
	r.lastSave = r.Now()
	r.Log.Debug("lease refreshed")
	return nil
}

// failedEarly ends a run that moved no data.
func (r *Runner) failedEarly(err error) (Result, error) {
	return Result{Status: StatusFailed, StopReason: StopFatalError, Err: err}, err
}

type fetched struct {
	b   source.Batch
	err error
}

// loop owns the producer goroutine that calls Next: Next runs only while
// the loop waits, so batch contents stay valid while they are processed
// and the source never sees Commit or SuspendTable concurrently with Next.
func (r *Runner) loop(ctx context.Context) (Result, error) {
	pctx, pcancel := context.WithCancel(ctx)
	batches := make(chan fetched)
	next := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(batches)
		for {
			select {
			case <-next:
			case <-pctx.Done():
				return
			}
			var b source.Batch
			err := r.retry.do(pctx, "reading source", func() error {
				var err error
				b, err = r.src.Next(pctx)
				return err
			})
			select {
			case batches <- fetched{b, err}:
			case <-pctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	stopProducer := func() {
		pcancel()
		wg.Wait()
	}
	defer stopProducer()

	commitTimer := time.NewTimer(time.Hour)
	commitTimer.Stop()
	armed := false
	var stopAt <-chan time.Time
	if r.StopAt.Kind == StopServerTime {
		t := time.NewTimer(max(r.StopAt.Time.Sub(r.Now()), 0))
		defer t.Stop()
		stopAt = t.C
	}
	next <- struct{}{}
	for {
		select {
		case f, ok := <-batches:
			if !ok { // the reader ends without a batch only when ctx is done
				if ctx.Err() != nil {
					return r.finish(ctx, stopProducer, StopNormal)
				}
				return r.fail(ctx, errors.New("source reader stopped unexpectedly"))
			}
			if err := r.idleSourceCalls(ctx); err != nil {
				return r.fail(ctx, err)
			}
			if f.err != nil {
				if errors.Is(f.err, source.ErrDone) {
					return r.finish(ctx, stopProducer, r.doneReason())
				}
				if ctx.Err() != nil {
					return r.finish(ctx, stopProducer, StopNormal)
				}
				var tf *TableFault
				var te *source.TableError
				if errors.As(f.err, &te) && !errors.As(f.err, &tf) {
					tf = &TableFault{Schema: te.Schema, Table: te.Table, Err: te.Err}
				}
				if tf != nil {
					if err := r.tableFault(tf); err != nil {
						return r.fail(ctx, err)
					}
					// The producer exits after an error; restart it.
					return r.restartLoop(ctx, stopProducer)
				}
				return r.fail(ctx, fmt.Errorf("reading source: %w", f.err))
			}
			if err := r.process(ctx, &f.b); err != nil {
				if ctx.Err() != nil {
					return r.finish(ctx, stopProducer, StopNormal)
				}
				return r.fail(ctx, err)
			}
			if r.stopHit {
				return r.finish(ctx, stopProducer, StopAtCommitTime)
			}
			if r.pendingN >= r.CommitRate {
				if err := r.commit(ctx, true); err != nil {
					if ctx.Err() != nil {
						return r.finish(ctx, stopProducer, StopNormal)
					}
					return r.fail(ctx, err)
				}
				commitTimer.Stop()
				armed = false
			} else if r.pending != nil && !armed {
				commitTimer.Reset(r.CommitTimeout)
				armed = true
			}
			if r.StopAt.Kind == StopServerTime && !r.Now().Before(r.StopAt.Time) {
				return r.finish(ctx, stopProducer, StopAtServerTime)
			}
			next <- struct{}{}
		case <-commitTimer.C:
			armed = false
			// Next may be running: save now, Source.Commit when it returns.
			if err := r.commit(ctx, false); err != nil {
				if ctx.Err() != nil {
					return r.finish(ctx, stopProducer, StopNormal)
				}
				return r.fail(ctx, err)
			}
		case <-r.leaseLost:
			stopProducer()
			return r.fail(ctx, r.fatalErr())
		case <-stopAt:
			return r.finish(ctx, stopProducer, StopAtServerTime)
		case <-ctx.Done():
			return r.finish(ctx, stopProducer, StopNormal)
		}
	}
}

// restartLoop continues after a table fault reported by Next, which ends
// the producer goroutine: the saved state carries over unchanged.
func (r *Runner) restartLoop(ctx context.Context, stopProducer func()) (Result, error) {
	stopProducer()
	return r.loop(ctx)
}

// idleSourceCalls makes the source calls that must not overlap Next: a
// deferred Source.Commit and table suspensions.
func (r *Runner) idleSourceCalls(ctx context.Context) error {
	r.mu.Lock()
	keys := r.toSuspend
	r.toSuspend = nil
	r.mu.Unlock()
	if s, ok := r.src.(TableSuspender); ok {
		for _, k := range keys {
			s.SuspendTable(splitKey(k))
		}
	}
	if r.commitDue {
		return r.commitSource(ctx)
	}
	return nil
}

func (r *Runner) doneReason() string {
	switch {
	case r.stopHit:
		return StopAtCommitTime
	case r.sourceStops && r.stopReached():
		if r.StopAt.Kind == StopCommitTime {
			return StopAtCommitTime
		}
		return StopAtServerTime
	case r.MigrationType == "full-load":
		return StopFullLoadOnlyFinished
	default:
		return StopNormal
	}
}

func (r *Runner) stopReached() bool {
	if s, ok := r.src.(CdcStopper); ok {
		return s.CdcStopReached()
	}
	return false
}

// process handles one batch: rejects, mapping, statistics and the writes
// to every target. The batch's position becomes pending only when every
// target accepted every record of it.
//
// Rejects are applied in source order among the events: a reject whose
// policy suspends its table drops only that table's later events, so the
// rows (and control records) before the bad row are still written, as DMS
// does. Batch.RejectAt says where each reject occurred; a batch without it
// has its rejects applied after all its events — the reading that never
// loses a good row (at worst a suspended table gets the rest of that one
// batch).
func (r *Runner) process(ctx context.Context, b *source.Batch) error {
	now := r.Now()
	recs := r.recs[:0]
	counted := r.counted[:0]
	if r.suspCache == nil {
		r.suspCache = map[*tabledefs.Table]bool{}
	}
	clear(r.suspCache) // suspensions may have happened since the last batch
	events := b.Events
	if r.commitStop { // commit_time: stop before the first change committed after it
		for i := range events {
			if ct := events[i].CommitTime; !ct.IsZero() && ct.After(r.StopAt.Time) {
				events, r.stopHit = events[:i], true
				break
			}
		}
	}
	nextRj := 0
	rejectsBefore := func(i int) error {
		for nextRj < len(b.Rejects) && rejectIndex(b, nextRj) <= i {
			if err := r.reject(b.Rejects[nextRj]); err != nil {
				return err
			}
			nextRj++
			clear(r.suspCache)
		}
		return nil
	}
	for i := range events {
		if err := rejectsBefore(i); err != nil {
			return err
		}
		ev := &events[i]
		if ev.Table == nil {
			return fmt.Errorf("source event %s:%d has no table", ev.Origin, ev.Seq)
		}
		susp, ok := r.suspCache[ev.Table]
		if !ok {
			susp = r.isSuspended(tableKey(ev.Table.Owner, ev.Table.Name))
			r.suspCache[ev.Table] = susp
		}
		if susp {
			continue
		}
		n := len(recs)
		var err error
		recs, err = r.Mapper.Map(ev, recs)
		if err != nil {
			recs = recs[:n]
			var tf *TableFault
			if errors.As(err, &tf) {
				if err := r.tableFault(tf); err != nil {
					return err
				}
				clear(r.suspCache)
				continue
			}
			if err := r.reject(mappingReject(ev, err)); err != nil {
				return err
			}
			clear(r.suspCache)
			continue
		}
		counted = append(counted, i)
	}
	if err := rejectsBefore(len(events)); err != nil {
		return err
	}
	for i := range recs { // one DMS "timestamp" per batch, the same in every target
		recs[i].Time = now
	}
	r.recs, r.counted = recs[:0], counted[:0]
	if len(recs) > 0 {
		for _, o := range r.Targets {
			err := r.retry.do(ctx, "writing to "+o.Name, func() error { return o.Target.Write(ctx, recs) })
			if err != nil {
				return fmt.Errorf("writing to %s: %w", o.Name, err)
			}
			r.Metrics.written(o.Name, len(recs))
		}
	}
	if err := r.fatalErr(); err != nil {
		return err
	}
	// Counted only now, so that statistics saved with a position describe
	// exactly the batches it covers.
	r.book.countAll(b.Events, counted, now)
	r.Metrics.events(b.Events, counted)
	for j := len(counted) - 1; j >= 0; j-- {
		if ct := b.Events[counted[j]].CommitTime; !ct.IsZero() {
			r.lastCommit.Store(ct.UnixNano())
			break
		}
	}
	r.rejLog.tick(r.Log, now)
	if r.stopHit && len(events) < len(b.Events) {
		// The batch's position covers changes past the stop: keep the
		// previous one. The changes written before the stop are delivered
		// again if the task is ever resumed (at least once).
		return nil
	}
	for _, t := range b.Completed {
		if !r.selected(t) {
			continue
		}
		r.book.completed(t, now)
		st := r.book.tableStats(t)
		r.Log.Info("table loaded", "table", t, "rows", st.FullLoadRows, "rejected", st.RejectedRows)
	}
	if len(b.Pos) > 0 {
		r.pending = b.Pos
	}
	r.pendingN += len(b.Events) + len(b.Rejects)
	return nil
}

// rejectIndex is the index of the event before which reject j occurred.
func rejectIndex(b *source.Batch, j int) int {
	if len(b.RejectAt) == len(b.Rejects) {
		return b.RejectAt[j]
	}
	return len(b.Events)
}

// mappingReject describes an event the mapper could not map. A value that
// did not fit its column (*tabledefs.ValueError with Truncation) falls
// under DataTruncationErrorPolicy; Raw is the row as canonical text.
func mappingReject(ev *source.Event, err error) source.Reject {
	rj := source.Reject{Schema: ev.Table.Owner, Table: ev.Table.Name,
		Position: ev.Origin + ":" + strconv.FormatInt(ev.Seq, 10), Reason: "mapping: " + err.Error()}
	var ve *tabledefs.ValueError
	if errors.As(err, &ve) {
		rj.Truncation = ve.Truncation
	}
	var raw []byte
	for i, v := range ev.Values {
		if i > 0 {
			raw = append(raw, ',')
		}
		var col *tabledefs.Column
		if i < len(ev.Table.Columns) {
			col = &ev.Table.Columns[i]
		}
		raw = tabledefs.AppendText(raw, v, col)
	}
	rj.Raw = string(raw)
	return rj
}

// lag is the age of the newest change: its commit time when events carry
// one, else the source's latest change time (ChangeTimeReporter); 0 before
// any CDC change.
func (r *Runner) lag(now time.Time) time.Duration {
	if n := r.lastCommit.Load(); n != 0 {
		return max(now.Sub(time.Unix(0, n)), 0)
	}
	if c, ok := r.Source().(ChangeTimeReporter); ok {
		if t := c.LatestChangeTime(); !t.IsZero() {
			return max(now.Sub(t), 0)
		}
	}
	return 0
}

func (r *Runner) isSuspended(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.suspended[key]
}

// commit runs the durability sequence for everything processed so far;
// commitSource=false leaves Source.Commit for when Next is not running.
func (r *Runner) commit(ctx context.Context, commitSource bool) error {
	return r.commitAt(ctx, commitSource, false)
}

// commitAt with force saves even when nothing is pending (final status).
func (r *Runner) commitAt(ctx context.Context, commitSource, force bool) error {
	if r.pending == nil && !force {
		if commitSource && r.commitDue {
			return r.commitSource(ctx)
		}
		return nil
	}
	for _, o := range r.Targets {
		if err := r.retry.do(ctx, "flushing "+o.Name, func() error { return o.Target.Flush(ctx) }); err != nil {
			return fmt.Errorf("flushing %s: %w", o.Name, err)
		}
	}
	if err := r.fatalErr(); err != nil { // a target rejecter may have stopped the task during Flush
		return err
	}
	if err := r.exc.Sync(); err != nil {
		return err
	}
	pos := r.pending
	if pos == nil {
		pos = r.saved // nil when nothing was ever saved: a resume starts over
	}
	stats := r.book.snapshot()
	if err := r.saveCheckpoint(ctx, pos, stats); err != nil {
		return err
	}
	r.saved, r.savedStats = pos, stats
	r.pending, r.pendingN = nil, 0
	r.commitDue = true
	if commitSource {
		return r.commitSource(ctx)
	}
	return nil
}

func (r *Runner) saveCheckpoint(ctx context.Context, pos source.Position, stats TaskStats) error {
	phase := r.phase(stats)
	cp := &Checkpoint{Version: CheckpointVersion, Task: r.Task, Fingerprint: r.Identity.Fingerprint(),
		Identity: r.Identity.normalized(), Phase: phase, Source: pos, Stats: stats, SavedAt: r.Now().UTC()}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	err := r.retry.do(ctx, "saving checkpoint", func() error { return r.Store.Save(ctx, cp) })
	if err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	r.lastCP = cp
	r.lastSave = r.Now()
	r.Metrics.saved()
	r.Log.Debug("checkpoint saved", "phase", phase)
	return nil
}

// phase is full-load until every table is loaded, then cdc; a full-load
// task stays in full-load.
func (r *Runner) phase(stats TaskStats) string {
	if r.MigrationType == "full-load" || r.fullLoad && !stats.loadDone() {
		return PhaseFullLoad
	}
	return PhaseCDC
}

func (r *Runner) commitSource(ctx context.Context) error {
	r.commitDue = false
	if len(r.saved) == 0 || bytes.Equal(r.saved, r.committed) {
		return nil
	}
	pos := r.saved
	if err := r.retry.do(ctx, "committing source", func() error { return r.src.Commit(ctx, pos) }); err != nil {
		return fmt.Errorf("committing source position: %w", err)
	}
	r.committed = pos
	return nil
}

// finish stops reading, then flushes, saves and commits everything
// processed with a context that outlives ctx by at most GraceTimeout.
func (r *Runner) finish(ctx context.Context, stopProducer func(), reason string) (Result, error) {
	stopProducer()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.GraceTimeout)
	defer cancel()
	now := r.Now()
	r.book.update(func(s *TaskStats) {
		s.Status, s.StopReason, s.StopDate = StatusStopped, reason, ptime(now)
	})
	if err := r.commitAt(fctx, true, true); err != nil {
		return r.fail(fctx, fmt.Errorf("final commit: %w", err))
	}
	r.rejLog.flush(r.Log, r.Now())
	res := Result{Status: StatusStopped, StopReason: reason, Rejected: r.rejected.Load(), Stats: r.savedStats}
	r.Log.Info("task stopped", "stop_reason", reason, "rejected", res.Rejected)
	return res, nil
}

// fail records the failure in a checkpoint, best effort. It keeps the
// last saved position, so a restart re-delivers everything after it, but
// the current statistics: rows rejected since (already in the exceptions
// file) and tables suspended since must show.
func (r *Runner) fail(ctx context.Context, err error) (Result, error) {
	reason := StopFatalError
	var ex *exhaustedError
	if errors.As(err, &ex) {
		reason = StopRecoverableError
	}
	r.rejLog.flush(r.Log, r.Now())
	stats := r.book.snapshot()
	now := r.Now()
	stats.Status, stats.StopReason, stats.StopDate, stats.LastFailureMessage = StatusFailed, reason, ptime(now), err.Error()
	if !errors.Is(err, ErrInUse) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.GraceTimeout)
		defer cancel()
		if serr := r.exc.Sync(); serr != nil {
			r.Log.Error("syncing exceptions file after failure", "err", serr)
		}
		cp := &Checkpoint{Version: CheckpointVersion, Task: r.Task,
			Fingerprint: r.Identity.Fingerprint(), Identity: r.Identity.normalized(), Phase: r.phase(stats),
			Source: r.saved, Stats: stats, SavedAt: now.UTC()}
		r.saveMu.Lock()
		if serr := r.Store.Save(fctx, cp); serr != nil {
			r.Log.Error("saving failed status", "err", serr)
		} else {
			r.lastCP = cp
		}
		r.saveMu.Unlock()
	}
	r.Log.Error("task failed", "err", err)
	return Result{Status: StatusFailed, StopReason: reason, Rejected: r.rejected.Load(), Stats: stats, Err: err}, err
}

// StopPosition kinds (CdcStopPosition prefixes).
const (
	StopServerTime = "server_time"
	StopCommitTime = "commit_time"
)

// StopPosition is a parsed CdcStopPosition; the zero value means none.
type StopPosition struct {
	Kind string
	Time time.Time
}

// ParseStopPosition parses "server_time:2018-02-09T12:12:12" or
// "commit_time:…" (UTC unless the time carries a zone); "" is no stop.
func ParseStopPosition(s string) (StopPosition, error) {
	if s == "" {
		return StopPosition{}, nil
	}
	kind, ts, ok := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	if !ok || (kind != StopServerTime && kind != StopCommitTime) {
		return StopPosition{}, fmt.Errorf("CdcStopPosition %q: want server_time:YYYY-MM-DDThh:mm:ss or commit_time:YYYY-MM-DDThh:mm:ss", s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, ts, time.UTC); err == nil {
			return StopPosition{Kind: kind, Time: t.UTC()}, nil
		}
	}
	return StopPosition{}, fmt.Errorf("CdcStopPosition %q: cannot read time %q (want YYYY-MM-DDThh:mm:ss, UTC)", s, ts)
}

// CdcStopper is implemented by sources that honour a CdcStopPosition
// themselves: after SetCdcStopPosition they return source.ErrDone before
// the first change past it, and CdcStopReached reports that they did. The
// runner enforces server_time itself as well (wall clock); commit_time
// needs a source that implements this.
type CdcStopper interface {
	SetCdcStopPosition(kind string, at time.Time) error
	CdcStopReached() bool
}

func (r *Runner) installStop() error {
	if r.StopAt.Kind == "" {
		return nil
	}
	s, ok := r.src.(CdcStopper)
	if !ok {
		// The runner enforces commit_time itself on Event.CommitTime
		// (sources whose events carry none are refused by validation).
		r.commitStop = r.StopAt.Kind == StopCommitTime
		return nil
	}
	if err := s.SetCdcStopPosition(r.StopAt.Kind, r.StopAt.Time); err != nil {
		return fmt.Errorf("setting CdcStopPosition: %w", err)
	}
	r.sourceStops = true
	return nil
}
