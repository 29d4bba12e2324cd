package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// errCrash is what every fake returns once the simulated process died.
var errCrash = errors.New("simulated crash")

// crasher counts step boundaries and kills the "process" at one of them:
// from then on every fake fails and loses what was not durable.
type crasher struct {
	mu      sync.Mutex
	left    int // steps before the crash; <0 never
	crashed bool
	steps   []string
}

func newCrasher(at int) *crasher { return &crasher{left: at} }

func (c *crasher) step(name string) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return errCrash
	}
	c.steps = append(c.steps, name)
	if c.left == 0 {
		c.crashed = true
		return errCrash
	}
	if c.left > 0 {
		c.left--
	}
	return nil
}

func (c *crasher) dead() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

// world is what outlives a simulated process: durable target contents, the
// durable checkpoint, the contract violations seen.
type world struct {
	t          *testing.T
	mu         sync.Mutex
	events     []fakeEvent // the source's data, in order
	durable    map[string][]int
	checkpoint []byte
	violations []string
	dir        string
	committed  []int // positions committed to the source, in order
	// targetRejected says a target rejected event i (not expected durable).
	targetRejected func(target string, i int) bool
}

type fakeEvent struct {
	table  string // "s.a"
	key    int
	reject bool // a bad row the source rejects
	trunc  bool // the reject is a truncation
	bad    bool // the mapper fails on it
}

func newWorld(t *testing.T, events []fakeEvent, targets ...string) *world {
	w := &world{t: t, events: events, durable: map[string][]int{}, dir: t.TempDir()}
	for _, n := range targets {
		w.durable[n] = nil
	}
	return w
}

func (w *world) violate(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, fmt.Sprintf(format, args...))
}

// savedPos is the source position of the durable checkpoint (0 if none).
func (w *world) savedPos() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return posOf(w.savedCheckpointLocked())
}

func (w *world) savedCheckpointLocked() *Checkpoint {
	if w.checkpoint == nil {
		return nil
	}
	cp, err := decodeCheckpoint(w.checkpoint, "memory")
	if err != nil {
		w.t.Fatalf("decoding checkpoint: %v", err)
	}
	return cp
}

func (w *world) savedCheckpoint() *Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.savedCheckpointLocked()
}

func posOf(cp *Checkpoint) int {
	if cp == nil || cp.Source == nil {
		return 0
	}
	return decodePos(cp.Source)
}

func encodePos(n int) source.Position { return source.Position(`{"v":1,"n":` + strconv.Itoa(n) + `}`) }

func decodePos(p source.Position) int {
	var v struct{ N int }
	if err := json.Unmarshal(p, &v); err != nil {
		panic(err)
	}
	return v.N
}

// ---- source ----------------------------------------------------------------

type fakeSource struct {
	w          *world
	c          *crasher
	next       int // next event index to read
	batch      int
	follow     bool                  // CDC: block at the end instead of ErrDone
	noRejectAt bool                  // leave Batch.RejectAt nil (order unknown)
	commitTime func(i int) time.Time // CommitTime of event i (nil: none)
	loads      bool                  // follow mode still emits full-load rows
	more       chan struct{}         // follow mode: each receive releases nothing; wakes Next
	limit      int                   // follow mode: events available so far (grows via release)
	mu         sync.Mutex
	inNext     bool
	suspended  []string
	suspendAt  []int // Next calls made before each SuspendTable
	nextCalls  int
	stopKind   string
	stopAt     time.Time
	stopped    bool
	closed     bool
}

var tableDefs = map[string]*tabledefs.Table{
	"s.a": {Owner: "s", Name: "a", Columns: []tabledefs.Column{{Name: "k", Type: tabledefs.TypeInt8, IsPK: true}, {Name: "seq", Type: tabledefs.TypeInt8}}},
	"s.b": {Owner: "s", Name: "b", Columns: []tabledefs.Column{{Name: "k", Type: tabledefs.TypeInt8, IsPK: true}, {Name: "seq", Type: tabledefs.TypeInt8}}},
}

func (s *fakeSource) Next(ctx context.Context) (source.Batch, error) {
	s.mu.Lock()
	if s.inNext {
		s.w.violate("Next called concurrently")
	}
	s.inNext = true
	s.nextCalls++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inNext = false
		s.mu.Unlock()
	}()
	if err := s.c.step("next"); err != nil {
		return source.Batch{}, err
	}
	end := len(s.w.events)
	if s.follow {
		for {
			s.mu.Lock()
			end = s.limit
			s.mu.Unlock()
			if s.next < end {
				break
			}
			select {
			case <-ctx.Done():
				return source.Batch{}, ctx.Err()
			case <-s.more:
			}
		}
	}
	if s.next >= end {
		return source.Batch{}, source.ErrDone
	}
	var b source.Batch
	stop := min(s.next+s.batch, end)
	for i := s.next; i < stop; i++ {
		e := s.w.events[i]
		def := tableDefs[e.table]
		if def == nil {
			def = tableDefs["s.a"] // only rejects name other tables
		}
		if e.reject {
			schema, name := def.Owner, def.Name
			if e.table == "zz.unknown" {
				schema, name = "zz", "unknown"
			}
			b.Rejects = append(b.Rejects, source.Reject{Schema: schema, Table: name,
				Position: "fake:" + strconv.Itoa(i), Reason: "bad row", Raw: "raw-" + strconv.Itoa(i), Truncation: e.trunc})
			if !s.noRejectAt {
				b.RejectAt = append(b.RejectAt, len(b.Events))
			}
		} else {
			op := source.OpLoad
			if s.follow && !s.loads {
				op = source.OpInsert
			}
			b.Events = append(b.Events, source.Event{Op: op, Table: def, Origin: "fake", Seq: int64(i),
				Values: []tabledefs.Value{tabledefs.IntValue(int64(e.key)), tabledefs.IntValue(int64(i))}})
			if s.commitTime != nil {
				b.Events[len(b.Events)-1].CommitTime = s.commitTime(i)
			}
		}
		if !s.follow && (i+1 == len(s.w.events) || s.w.events[i+1].table != e.table) {
			b.Completed = append(b.Completed, e.table)
		}
	}
	s.next = stop
	b.Pos = encodePos(stop)
	return b, nil
}

// release makes n more events available in follow mode.
func (s *fakeSource) release(n int) {
	s.mu.Lock()
	s.limit = min(s.limit+n, len(s.w.events))
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
}

func (s *fakeSource) Commit(_ context.Context, pos source.Position) error {
	s.mu.Lock()
	if s.inNext {
		s.w.violate("Commit called while Next runs")
	}
	s.mu.Unlock()
	if err := s.c.step("commit-before"); err != nil {
		return err
	}
	n := decodePos(pos)
	w := s.w
	w.mu.Lock()
	if saved := posOf(w.savedCheckpointLocked()); n > saved {
		w.violations = append(w.violations, fmt.Sprintf("Commit(%d) before the checkpoint holding it was saved (saved %d)", n, saved))
	}
	if k := len(w.committed); k > 0 && w.committed[k-1] > n {
		w.violations = append(w.violations, fmt.Sprintf("Commit(%d) after Commit(%d): not monotonic", n, w.committed[k-1]))
	}
	w.committed = append(w.committed, n)
	w.mu.Unlock()
	return s.c.step("commit-after")
}

func (s *fakeSource) SuspendTable(schema, table string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inNext {
		s.w.violate("SuspendTable called while Next runs")
	}
	s.suspended = append(s.suspended, schema+"."+table)
	s.suspendAt = append(s.suspendAt, s.nextCalls)
}

func (s *fakeSource) Close() error {
	s.closed = true
	return nil
}

// ---- mapper ----------------------------------------------------------------

type fakeMapper struct {
	w     *world
	fault string // table whose events fail with a TableFault
}

func (m fakeMapper) Map(ev *source.Event, dst []mapping.Record) ([]mapping.Record, error) {
	key := tableKey(ev.Table.Owner, ev.Table.Name)
	if key == m.fault {
		return dst, &TableFault{Schema: ev.Table.Owner, Table: ev.Table.Name, Err: errors.New("cannot map")}
	}
	if e := m.w.events[ev.Seq]; e.bad && e.trunc {
		return dst, fmt.Errorf("column seq: %w", &tabledefs.ValueError{Type: tabledefs.TypeString, Text: "toolong", Reason: "longer than 3", Truncation: true})
	}
	if m.w.events[ev.Seq].bad {
		return dst, errors.New("expression failed")
	}
	return append(dst, mapping.Record{Event: ev, Values: ev.Values, PartitionKey: strconv.FormatInt(ev.Values[0].Int, 10)}), nil
}

// ---- target ----------------------------------------------------------------

type fakeTarget struct {
	name     string
	times    []time.Time   // Record.Time of every record written
	block    chan struct{} // when set, Write waits until it is closed
	blocked  chan struct{} // closed when a Write starts waiting on block
	w        *world
	c        *crasher
	buf      []int
	writeErr []error // returned by successive Writes (nil entries succeed)
	flushErr []error
	rejectOn func(seq int) bool
	rejecter interface{ Reject(source.Reject) error }
}

func (t *fakeTarget) Write(_ context.Context, recs []mapping.Record) error {
	if err := t.c.step("write:" + t.name); err != nil {
		return err
	}
	if len(t.writeErr) > 0 {
		err := t.writeErr[0]
		t.writeErr = t.writeErr[1:]
		if err != nil {
			return err
		}
	}
	if t.block != nil {
		if t.blocked != nil {
			close(t.blocked)
			t.blocked = nil
		}
		<-t.block
	}
	for _, r := range recs {
		t.times = append(t.times, r.Time)
		seq := int(r.Event.Seq)
		if t.rejectOn != nil && t.rejectOn(seq) {
			if err := t.rejecter.Reject(source.Reject{Schema: r.Event.Table.Owner, Table: r.Event.Table.Name,
				Position: "fake:" + strconv.Itoa(seq), Reason: "record too large"}); err != nil {
				return err
			}
			continue
		}
		t.buf = append(t.buf, seq)
	}
	return nil
}

func (t *fakeTarget) Flush(context.Context) error {
	if err := t.c.step("flush-before:" + t.name); err != nil {
		t.buf = nil // a dying process loses its buffers
		return err
	}
	if len(t.flushErr) > 0 {
		err := t.flushErr[0]
		t.flushErr = t.flushErr[1:]
		if err != nil {
			return err
		}
	}
	t.w.mu.Lock()
	t.w.durable[t.name] = append(t.w.durable[t.name], t.buf...)
	t.w.mu.Unlock()
	t.buf = nil
	return t.c.step("flush-after:" + t.name)
}

func (t *fakeTarget) Close(context.Context) error { return nil }

// ---- store -----------------------------------------------------------------

type memStore struct {
	w *world
	c *crasher
}

func (s *memStore) Load(context.Context) (*Checkpoint, error) { return s.w.savedCheckpoint(), nil }

func (s *memStore) Save(_ context.Context, cp *Checkpoint) error {
	if err := s.c.step("save-before"); err != nil {
		return err
	}
	b, err := encodeCheckpoint(cp)
	if err != nil {
		return err
	}
	w := s.w
	w.mu.Lock()
	// The contract: every event before the position is durable in every target.
	n := 0
	if cp.Source != nil {
		n = decodePos(cp.Source)
	}
	suspended := map[string]bool{}
	for _, ts := range cp.Stats.Tables {
		suspended[ts.Key()] = ts.TableState == TableError
	}
	for name, got := range w.durable {
		for i := 0; i < n; i++ {
			e := w.events[i]
			if !e.reject && !e.bad && !suspended[e.table] && !slices.Contains(got, i) && (w.targetRejected == nil || !w.targetRejected(name, i)) {
				w.violations = append(w.violations, fmt.Sprintf("checkpoint at %d saved before %s flushed event %d", n, name, i))
				break
			}
		}
	}
	w.checkpoint = b
	w.mu.Unlock()
	return s.c.step("save-after")
}

func (s *memStore) ExceptionsPath() string      { return filepath.Join(s.w.dir, ExceptionsFileName) }
func (s *memStore) Location() string            { return "memory://" }
func (s *memStore) Close(context.Context) error { return nil }
func (s *memStore) LeaseRefresh() time.Duration { return 0 }

// ---- assembly --------------------------------------------------------------

type rig struct {
	mu      sync.Mutex
	w       *world
	c       *crasher
	src     *fakeSource
	targets []*fakeTarget
	r       *Runner
}

// newRig wires a runner over the world; tweak r.r before Run.
func newRig(w *world, c *crasher, batch int) *rig {
	g := &rig{w: w, c: c}
	names := make([]string, 0, len(w.durable))
	for n := range w.durable {
		names = append(names, n)
	}
	slices.Sort(names)
	var outs []Output
	for _, n := range names {
		t := &fakeTarget{name: n, w: w, c: c}
		g.targets = append(g.targets, t)
		outs = append(outs, Output{Name: n, Target: t})
	}
	g.r = &Runner{
		Task:          "t1",
		Identity:      Identity{SourceEngine: "fake", SourceLocation: "here", Tables: []string{"s.a", "s.b"}},
		MigrationType: "full-load",
		Tables:        []string{"s.a", "s.b"},
		Mapper:        fakeMapper{w: w},
		Targets:       outs,
		Store:         &memStore{w: w, c: c},
		CommitRate:    5,
		CommitTimeout: time.Hour,
		RetryUnit:     time.Millisecond,
		Log:           discardLog(),
	}
	g.r.OpenSource = func(_ context.Context, resume source.Position) (source.Source, error) {
		src := &fakeSource{w: w, c: c, batch: batch, more: make(chan struct{}, 1)}
		if resume != nil {
			src.next = decodePos(resume)
			src.limit = src.next
		}
		g.mu.Lock()
		g.src = src
		g.mu.Unlock()
		return src, nil
	}
	for _, t := range g.targets {
		t.rejecter = g.r.Rejecter()
	}
	return g
}

func (g *rig) source() *fakeSource {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.src
}
