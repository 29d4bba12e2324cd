package task

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// genEvents makes n events, the first half in table s.a and the rest in
// s.b, with keys cycling over 0..keys-1.
func genEvents(n, keys int) []fakeEvent {
	ev := make([]fakeEvent, n)
	for i := range ev {
		ev[i] = fakeEvent{table: "s.a", key: i % keys}
		if i >= n/2 {
			ev[i].table = "s.b"
		}
	}
	return ev
}

func noViolations(t *testing.T, w *world) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range w.violations {
		t.Errorf("contract violation: %s", v)
	}
}

// checkDelivery asserts at-least-once delivery with per-key order in every
// target, and that only events at or after inflightFrom were duplicated.
func checkDelivery(t *testing.T, w *world, inflightFrom int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, got := range w.durable {
		count := map[int]int{}
		for _, seq := range got {
			count[seq]++
			if count[seq] > 1 {
				continue // a re-delivery
			}
			// The first delivery of an event must follow every earlier event of its key.
			k := w.events[seq].key
			for i := 0; i < seq; i++ {
				if e := w.events[i]; e.key == k && !e.reject && !e.bad && count[i] == 0 {
					t.Errorf("%s: key %d: event %d arrived before event %d", name, k, seq, i)
				}
			}
		}
		for i, e := range w.events {
			if e.reject || e.bad {
				if count[i] != 0 {
					t.Errorf("%s: rejected event %d delivered", name, i)
				}
				continue
			}
			if count[i] == 0 {
				t.Errorf("%s: event %d lost", name, i)
			}
			if count[i] > 1 && i < inflightFrom {
				t.Errorf("%s: event %d delivered %d times but it was before the saved position %d", name, i, count[i], inflightFrom)
			}
		}
	}
}

func TestRunnerCommitOrderAndStats(t *testing.T) {
	w := newWorld(t, genEvents(23, 4), "t1", "t2")
	g := newRig(w, nil, 3)
	res, err := g.r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	noViolations(t, w)
	checkDelivery(t, w, len(w.events))
	if res.Status != StatusStopped || res.StopReason != StopFullLoadOnlyFinished || res.ExitCode() != ExitOK {
		t.Fatalf("result %+v", res)
	}
	cp := w.savedCheckpoint()
	if posOf(cp) != 23 || cp.Phase != PhaseFullLoad || cp.Stats.Status != StatusStopped || cp.Stats.FullLoadProgressPercent != 100 {
		t.Fatalf("final checkpoint: pos %d phase %s stats %+v", posOf(cp), cp.Phase, cp.Stats)
	}
	if got := w.committed[len(w.committed)-1]; got != 23 {
		t.Fatalf("last commit %d", got)
	}
	rows := map[string]int64{}
	for _, ts := range cp.Stats.Tables {
		rows[ts.Key()] = ts.FullLoadRows
		if ts.TableState != TableCompleted || ts.FullLoadStartTime == nil || ts.FullLoadEndTime == nil {
			t.Errorf("table %s: %+v", ts.Key(), ts)
		}
	}
	if rows["s.a"] != 11 || rows["s.b"] != 12 || cp.Stats.TablesLoaded != 2 || cp.Stats.FullLoadFinishDate == nil {
		t.Fatalf("stats %+v", cp.Stats)
	}
	if !g.src.closed {
		t.Error("source not closed")
	}
}

// TestRunnerCrashAtEveryStep kills the simulated process at every step
// boundary of a run, restarts from the durable checkpoint, and checks the
// durability contract on what the targets hold.
func TestRunnerCrashAtEveryStep(t *testing.T) {
	events := genEvents(20, 3)
	events[7] = fakeEvent{table: "s.a", key: 1, reject: true}
	probe := newCrasher(-1)
	w0 := newWorld(t, events, "t1", "t2")
	if _, err := newRig(w0, probe, 3).r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	steps := len(probe.steps)
	if steps < 20 {
		t.Fatalf("only %d steps in a clean run", steps)
	}
	for at := 0; at < steps; at++ {
		w := newWorld(t, events, "t1", "t2")
		c := newCrasher(at)
		res, err := newRig(w, c, 3).r.Run(context.Background())
		if !errors.Is(err, errCrash) || res.Status != StatusFailed {
			t.Fatalf("crash at step %d (%s): err %v, result %+v", at, probe.steps[at], err, res)
		}
		savedAtCrash := w.savedPos()
		res, err = newRig(w, nil, 3).r.Run(context.Background())
		if err != nil || res.StopReason != StopFullLoadOnlyFinished {
			t.Fatalf("restart after crash at step %d (%s): %v %+v", at, probe.steps[at], err, res)
		}
		noViolations(t, w)
		checkDelivery(t, w, savedAtCrash)
		// Statistics travel with the position, so they count each row once
		// however often it was re-delivered.
		var rows, rejected int64
		for _, ts := range w.savedCheckpoint().Stats.Tables {
			rows += ts.FullLoadRows
			rejected += ts.RejectedRows
		}
		if rows != 19 || rejected < 1 {
			t.Fatalf("crash at step %d (%s): %d rows, %d rejected counted", at, probe.steps[at], rows, rejected)
		}
		if t.Failed() {
			t.Fatalf("crash at step %d (%s)", at, probe.steps[at])
		}
	}
}

func TestRunnerGracefulStopAndCommitTimeout(t *testing.T) {
	w := newWorld(t, genEvents(10, 2), "t1")
	g := newRig(w, nil, 2)
	g.r.MigrationType = "cdc"
	g.r.Identity.MigrationType = "cdc"
	g.r.CommitRate = 1000
	g.r.CommitTimeout = 20 * time.Millisecond
	open := g.r.OpenSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (s source.Source, err error) {
		s, err = open(ctx, p)
		g.src.follow = true
		return s, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		defer close(done)
		res, err = g.r.Run(ctx)
	}()
	waitFor(t, func() bool { return g.source() != nil })
	g.source().release(3)
	// Nothing more arrives: the commit timeout alone must flush and save.
	waitFor(t, func() bool { return w.savedPos() == 3 })
	w.mu.Lock()
	flushed := len(w.durable["t1"])
	w.mu.Unlock()
	if flushed != 3 {
		t.Fatalf("flushed %d", flushed)
	}
	g.source().release(4)
	waitFor(t, func() bool { return w.savedPos() == 7 })
	cancel()
	<-done
	if err != nil || res.Status != StatusStopped || res.StopReason != StopNormal {
		t.Fatalf("graceful stop: %v %+v", err, res)
	}
	noViolations(t, w)
	if c := w.committed; len(c) == 0 || c[len(c)-1] != 7 {
		t.Fatalf("commits %v", c)
	}
	cp := w.savedCheckpoint()
	if cp.Stats.Status != StatusStopped || cp.Stats.StopDate == nil || cp.Phase != PhaseCDC {
		t.Fatalf("final checkpoint %+v", cp)
	}
	var ins int64
	for _, ts := range cp.Stats.Tables {
		ins += ts.Inserts
	}
	if ins != 7 {
		t.Fatalf("inserts %d", ins)
	}
}

func TestRunnerServerTimeStop(t *testing.T) {
	w := newWorld(t, genEvents(10, 2), "t1")
	g := newRig(w, nil, 2)
	g.r.MigrationType = "cdc"
	g.r.Identity.MigrationType = "cdc"
	g.r.StopAt = StopPosition{Kind: StopServerTime, Time: time.Now().Add(50 * time.Millisecond)}
	open := g.r.OpenSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		g.src.follow = true
		g.src.limit = 4
		return s, err
	}
	res, err := g.r.Run(context.Background())
	if err != nil || res.StopReason != StopAtServerTime {
		t.Fatalf("%v %+v", err, res)
	}
	if w.savedPos() != 4 {
		t.Fatalf("saved %d", w.savedPos())
	}
}

func TestParseStopPosition(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind string
		at   string
		bad  bool
	}{
		{in: ""},
		{in: "server_time:2018-02-09T12:12:12", kind: StopServerTime, at: "2018-02-09T12:12:12Z"},
		{in: "commit_time:2018-02-09T12:12:12", kind: StopCommitTime, at: "2018-02-09T12:12:12Z"},
		{in: "server_time:2018-02-09T12:12:12+01:00", kind: StopServerTime, at: "2018-02-09T11:12:12Z"},
		{in: "server_time:yesterday", bad: true},
		{in: "checkpoint:V1#1", bad: true},
	} {
		p, err := ParseStopPosition(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || p.Kind != tc.kind || (tc.at != "" && p.Time.Format(time.RFC3339) != tc.at) {
			t.Errorf("%q: %+v %v", tc.in, p, err)
		}
	}
}

func TestRunnerRefusesChangedIdentity(t *testing.T) {
	w := newWorld(t, genEvents(6, 2), "t1")
	if _, err := newRig(w, nil, 2).r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := string(w.checkpoint)
	g := newRig(w, nil, 2)
	g.r.Identity.Tables = []string{"s.a", "s.c"}
	res, err := g.r.Run(context.Background())
	if err == nil || res.ExitCode() != ExitFailed || !strings.Contains(err.Error(), "added s.c") || !strings.Contains(err.Error(), "removed s.b") {
		t.Fatalf("%v", err)
	}
	if g.src != nil {
		t.Fatal("source opened despite the mismatch")
	}
	if string(w.checkpoint) != before {
		t.Fatal("checkpoint overwritten")
	}
}

func TestCheckResume(t *testing.T) {
	base := Identity{SourceEngine: "s3", SourceLocation: "landing/exports", Tables: []string{"a.x", "a.y"}, MigrationType: "full-load-and-cdc"}
	cp := &Checkpoint{Version: 1, Task: "orders", Fingerprint: base.Fingerprint(), Identity: base}
	for _, tc := range []struct {
		name string
		task string
		edit func(*Identity)
		want string
	}{
		{"same", "orders", func(*Identity) {}, ""},
		{"tables reordered", "orders", func(i *Identity) { i.Tables = []string{"a.y", "a.x"} }, ""},
		{"other task", "billing", func(*Identity) {}, `holds task "orders"`},
		{"engine", "orders", func(i *Identity) { i.SourceEngine = "postgres" }, `source engine "s3" → "postgres"`},
		{"bucket", "orders", func(i *Identity) { i.SourceLocation = "landing/other" }, `source location "landing/exports" → "landing/other"`},
		{"migration", "orders", func(i *Identity) { i.MigrationType = "cdc" }, `migration type "full-load-and-cdc" → "cdc"`},
		{"tables", "orders", func(i *Identity) { i.Tables = []string{"a.x"} }, "removed a.y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := base
			id.Tables = append([]string(nil), base.Tables...)
			tc.edit(&id)
			err := CheckResume(cp, tc.task, id)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func readExceptions(t *testing.T, path string) []Exception {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Exception
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Exception
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("exceptions line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stopperSource honours commit_time itself: it stops after 4 events.
type stopperSource struct {
	*fakeSource
	kind    string
	reached bool
}

func (s *stopperSource) SetCdcStopPosition(kind string, _ time.Time) error {
	s.kind = kind
	return nil
}

func (s *stopperSource) CdcStopReached() bool { return s.reached }

func (s *stopperSource) Next(ctx context.Context) (source.Batch, error) {
	if s.next >= 4 {
		s.reached = true
		return source.Batch{}, source.ErrDone
	}
	return s.fakeSource.Next(ctx)
}

func TestRunnerCommitTimeStop(t *testing.T) {
	stop := StopPosition{Kind: StopCommitTime, Time: time.Now()}
	w := newWorld(t, genEvents(10, 2), "t1")
	g := newRig(w, nil, 2)
	g.r.MigrationType, g.r.Identity.MigrationType = "cdc", "cdc"
	g.r.StopAt = stop
	open := g.r.OpenSource
	var ss *stopperSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		ss = &stopperSource{fakeSource: s.(*fakeSource)}
		return ss, err
	}
	res, err := g.r.Run(context.Background())
	if err != nil || res.StopReason != StopAtCommitTime || ss.kind != StopCommitTime || w.savedPos() != 4 {
		t.Fatalf("%v %+v saved %d", err, res, w.savedPos())
	}
}

// TestRunnerEnforcesCommitTimeStop: for a source that does not stop by
// itself, the runner stops before the first change committed after the
// commit_time, keeping the position before the batch that holds it.
func TestRunnerEnforcesCommitTimeStop(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newWorld(t, genEvents(10, 2), "t1")
	g := newRig(w, nil, 3)
	g.r.MigrationType, g.r.Identity.MigrationType = "cdc", "cdc"
	g.r.CommitRate = 1
	g.r.StopAt = StopPosition{Kind: StopCommitTime, Time: t0.Add(4 * time.Second)}
	open := g.r.OpenSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		g.src.commitTime = func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
		return s, err
	}
	res, err := g.r.Run(context.Background())
	if err != nil || res.StopReason != StopAtCommitTime {
		t.Fatalf("%v %+v", err, res)
	}
	noViolations(t, w)
	if got := w.durable["t1"]; !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("delivered %v, want 0..4 (commit times up to the stop)", got)
	}
	if w.savedPos() != 3 {
		t.Fatalf("saved position %d, want 3 (the batch 3..5 holds a change past the stop)", w.savedPos())
	}
}

type leaseStore struct {
	*memStore
	saves atomic.Int32
	fail  func(n int32) error // error of the n-th save (nil: none)
}

func (s *leaseStore) LeaseRefresh() time.Duration { return 10 * time.Millisecond }
func (s *leaseStore) Save(ctx context.Context, cp *Checkpoint) error {
	n := s.saves.Add(1)
	if s.fail != nil {
		if err := s.fail(n); err != nil {
			return err
		}
	}
	return s.memStore.Save(ctx, cp)
}

func TestRunnerRefreshesLeaseWhileIdle(t *testing.T) {
	w := newWorld(t, genEvents(4, 2), "t1")
	g := newRig(w, nil, 2)
	st := &leaseStore{memStore: g.r.Store.(*memStore)}
	g.r.Store = st
	open := g.r.OpenSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		g.src.follow = true // nothing ever arrives
		return s, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.r.Run(ctx)
	}()
	waitFor(t, func() bool { return st.saves.Load() >= 3 })
	cancel()
	<-done
	if cp := w.savedCheckpoint(); cp.Stats.Status != StatusStopped || cp.Source != nil {
		t.Fatalf("%+v", cp)
	}
}
