package task

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/s3csv"
)

// The S3 source reports full-load bytes and its latest change time.
var (
	_ ProgressReporter   = (*s3csv.Source)(nil)
	_ ChangeTimeReporter = (*s3csv.Source)(nil)
)

// TestRejectsAppliedInSourceOrder: a reject that suspends its table drops
// only the rows after it. With Batch.RejectAt the rows before the bad one
// in the same batch are written and the ones after are not; without it
// (order unknown) the rejects apply after the batch's events, so no row
// before the bad one can be lost.
func TestRejectsAppliedInSourceOrder(t *testing.T) {
	for _, tc := range []struct {
		name       string
		noRejectAt bool
		want       []int // s.a rows delivered
	}{
		{"RejectAt", false, []int{0}},
		{"order unknown", true, []int{0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := genEvents(20, 3)
			ev[1] = fakeEvent{table: "s.a", key: 1, reject: true}
			w := newWorld(t, ev, "t1")
			g := newRig(w, nil, 3) // first batch: 0, reject 1, 2
			g.r.Errors.DataErrorPolicy = ErrorSuspendTable
			open := g.r.OpenSource
			g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
				s, err := open(ctx, p)
				g.src.noRejectAt = tc.noRejectAt
				return s, err
			}
			if _, err := g.r.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			noViolations(t, w)
			var gotA []int
			for _, seq := range w.durable["t1"] {
				if seq < 10 {
					gotA = append(gotA, seq)
				}
			}
			if !slices.Equal(gotA, tc.want) {
				t.Fatalf("s.a rows delivered %v, want %v", gotA, tc.want)
			}
		})
	}
}

// TestRejectOfUnknownTable: a rejected line naming a table the task does
// not replicate counts for the task only: no phantom table that never
// loads, no table suspension towards TableErrorEscalationCount.
func TestRejectOfUnknownTable(t *testing.T) {
	ev := genEvents(10, 2)
	ev[3] = fakeEvent{table: "zz.unknown", reject: true}
	w := newWorld(t, ev, "t1")
	g := newRig(w, nil, 4)
	g.r.Errors = ErrorBehaviorSettings{DataErrorPolicy: ErrorSuspendTable, TableErrorEscalationCount: 1}
	res, err := g.r.Run(context.Background())
	if err != nil || res.ExitCode() != ExitRejected {
		t.Fatalf("%v %+v", err, res)
	}
	cp := w.savedCheckpoint()
	if _, ok := tableStats(cp)["zz.unknown"]; ok || len(cp.Stats.Tables) != 2 {
		t.Fatalf("tables %+v", cp.Stats.Tables)
	}
	if cp.Stats.RejectedRows != 1 || cp.Stats.FullLoadProgressPercent != 100 || cp.Stats.TablesErrored != 0 {
		t.Fatalf("task stats %+v", cp.Stats)
	}
	exc := readExceptions(t, g.r.Store.ExceptionsPath())
	if len(exc) != 1 || exc[0].Schema != "zz" || exc[0].Table != "unknown" {
		t.Fatalf("exceptions %+v", exc)
	}
}

// TestRejectLogRateLimited: the first rejects of a table are logged one by
// one, the rest as counts; the exceptions file has every row.
func TestRejectLogRateLimited(t *testing.T) {
	ev := make([]fakeEvent, 200)
	for i := range ev {
		ev[i] = fakeEvent{table: "s.a", key: i % 3, reject: i%2 == 0}
	}
	w := newWorld(t, ev, "t1")
	g := newRig(w, nil, 16)
	var logs bytes.Buffer
	g.r.Log = slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := g.r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(readExceptions(t, g.r.Store.ExceptionsPath())); n != 100 {
		t.Fatalf("%d exception lines, want 100", n)
	}
	if n := strings.Count(logs.String(), `msg="row rejected"`); n != rejectLogFirst {
		t.Fatalf("%d reject lines logged, want %d:\n%s", n, rejectLogFirst, logs.String())
	}
	if !strings.Contains(logs.String(), `rejected=90 total_rejected=100`) {
		t.Fatalf("no summary of the rejects not logged:\n%s", logs.String())
	}
}

// TestMappingRejectTruncation: a mapping error wrapping a truncation
// ValueError falls under DataTruncationErrorPolicy and keeps the row text.
func TestMappingRejectTruncation(t *testing.T) {
	ev := genEvents(10, 2)
	ev[3] = fakeEvent{table: "s.a", key: 1, bad: true, trunc: true}
	w := newWorld(t, ev, "t1")
	g := newRig(w, nil, 4)
	g.r.Errors = ErrorBehaviorSettings{DataErrorPolicy: ErrorLogError, DataTruncationErrorPolicy: ErrorStopTask}
	res, err := g.r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "DataTruncationErrorPolicy STOP_TASK") || res.Status != StatusFailed {
		t.Fatalf("%v %+v", err, res)
	}
	exc := readExceptions(t, g.r.Store.ExceptionsPath())
	if len(exc) != 1 || exc[0].Raw != "1,3" || exc[0].Position != "fake:3" {
		t.Fatalf("exceptions %+v", exc)
	}
}

// TestLeaseRefreshedWhileWriteBlocks: the lease is refreshed while a
// target Write is blocked; a refresh that finds the lease lost fails the
// task.
func TestLeaseRefreshedWhileWriteBlocks(t *testing.T) {
	for _, lose := range []bool{false, true} {
		w := newWorld(t, genEvents(8, 2), "t1")
		g := newRig(w, nil, 2)
		st := &leaseStore{memStore: g.r.Store.(*memStore)}
		var failAfter atomic.Int32
		if lose {
			st.fail = func(n int32) error {
				if n > failAfter.Load() && failAfter.Load() > 0 {
					return ErrInUse
				}
				return nil
			}
		}
		g.r.Store = st
		tg := g.targets[0]
		tg.block, tg.blocked = make(chan struct{}), make(chan struct{})
		blocked := tg.blocked
		done := make(chan struct{})
		var res Result
		var err error
		go func() {
			defer close(done)
			res, err = g.r.Run(context.Background())
		}()
		<-blocked
		before := st.saves.Load()
		if lose {
			failAfter.Store(before)
		}
		if lose {
			waitFor(t, func() bool { return g.r.fatalErr() != nil })
		} else {
			waitFor(t, func() bool { return st.saves.Load() >= before+3 })
		}
		close(tg.block)
		<-done
		if !lose {
			if err != nil || res.Status != StatusStopped {
				t.Fatalf("%v %+v", err, res)
			}
			continue
		}
		if !errors.Is(err, ErrInUse) || res.Status != StatusFailed {
			t.Fatalf("lease lost: %v %+v", err, res)
		}
	}
}

// TestRunningCheckpointAtStart: `status` of a task that is running says so.
func TestRunningCheckpointAtStart(t *testing.T) {
	w := newWorld(t, genEvents(4, 2), "t1")
	g := newRig(w, nil, 2)
	open := g.r.OpenSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		g.src.follow = true // nothing arrives
		return s, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.r.Run(ctx)
	}()
	waitFor(t, func() bool { return w.savedCheckpoint() != nil })
	cp := w.savedCheckpoint()
	cancel()
	<-done
	if cp.Stats.Status != StatusRunning || cp.Stats.StartDate == nil || cp.Source != nil {
		t.Fatalf("checkpoint at start %+v", cp.Stats)
	}
}

// TestRecordTimeSameInEveryTarget: each batch's records carry one
// metadata time, the same in every target.
func TestRecordTimeSameInEveryTarget(t *testing.T) {
	w := newWorld(t, genEvents(10, 2), "t1", "t2")
	g := newRig(w, nil, 3)
	if _, err := g.r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := g.targets[0].times, g.targets[1].times
	if len(a) != 10 || !slices.EqualFunc(a, b, time.Time.Equal) {
		t.Fatalf("times differ: %v vs %v", a, b)
	}
	for _, tm := range a {
		if tm.IsZero() {
			t.Fatal("record without a time")
		}
	}
}

type changeTimeSource struct {
	*sizedSource
	latest time.Time
}

func (s *changeTimeSource) LatestChangeTime() time.Time { return s.latest }

// TestMetricsReadSourceAtScrape: bytes and lag come from the source when
// scraped, without a progress display running.
func TestMetricsReadSourceAtScrape(t *testing.T) {
	w := newWorld(t, genEvents(4, 2), "t1")
	g := newRig(w, nil, 2)
	g.r.Metrics = NewMetrics("t1")
	open := g.r.OpenSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		g.src.follow = true
		return &changeTimeSource{sizedSource: &sizedSource{fakeSource: s.(*fakeSource), done: 250},
			latest: time.Now().Add(-time.Minute)}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.r.Run(ctx)
	}()
	waitFor(t, func() bool { return g.r.running.Load() })
	mfs, err := g.r.Metrics.Registry.Gather()
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] = m.GetGauge().GetValue()
		}
	}
	if got["sluice_source_bytes_read"] != 250 || got["sluice_source_bytes_total"] != 1000 {
		t.Errorf("bytes %v", got)
	}
	if lag := got["sluice_cdc_lag_seconds"]; lag < 59 || lag > 120 {
		t.Errorf("lag %v, want about 60 s from LatestChangeTime", lag)
	}
}
