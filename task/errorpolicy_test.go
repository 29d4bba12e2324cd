package task

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/sluicedata/sluice/source"
)

func tableStats(cp *Checkpoint) map[string]TableStats {
	m := map[string]TableStats{}
	for _, ts := range cp.Stats.Tables {
		m[ts.Key()] = ts
	}
	return m
}

func TestErrorBehaviorPolicies(t *testing.T) {
	type want struct {
		status      string
		stopReason  string
		exit        int
		exceptions  int
		rejectedA   int64
		stateA      string
		stateB      string
		suspended   []string
		failMessage string
		deliveredA  int // events of s.a in the target
	}
	// 20 events: s.a = 0..9, s.b = 10..19; rejects at 2 and 5 (s.a).
	rejects := func(trunc ...bool) []fakeEvent {
		ev := genEvents(20, 3)
		ev[2] = fakeEvent{table: "s.a", key: 2, reject: true, trunc: len(trunc) > 0 && trunc[0]}
		ev[5] = fakeEvent{table: "s.a", key: 2, reject: true}
		return ev
	}
	for _, tc := range []struct {
		name   string
		events []fakeEvent
		eb     ErrorBehaviorSettings
		want   want
	}{
		{"ignore record", rejects(), ErrorBehaviorSettings{DataErrorPolicy: ErrorIgnoreRecord},
			// ignored rows are counted but not in the exceptions file: exit 0.
			want{status: StatusStopped, stopReason: StopFullLoadOnlyFinished, exit: ExitOK, exceptions: 0, rejectedA: 2,
				stateA: TableCompleted, stateB: TableCompleted, deliveredA: 8}},
		{"log error", rejects(), ErrorBehaviorSettings{DataErrorPolicy: ErrorLogError},
			want{status: StatusStopped, stopReason: StopFullLoadOnlyFinished, exit: ExitRejected, exceptions: 2, rejectedA: 2,
				stateA: TableCompleted, stateB: TableCompleted, deliveredA: 8}},
		{"default is log error", rejects(), ErrorBehaviorSettings{},
			want{status: StatusStopped, stopReason: StopFullLoadOnlyFinished, exit: ExitRejected, exceptions: 2, rejectedA: 2,
				stateA: TableCompleted, stateB: TableCompleted, deliveredA: 8}},
		{"suspend table", rejects(), ErrorBehaviorSettings{DataErrorPolicy: ErrorSuspendTable},
			// the first reject (2) suspends s.a: rows 0 and 1 before it are still delivered.
			want{status: StatusStopped, stopReason: StopFullLoadOnlyFinished, exit: ExitRejected, exceptions: 2, rejectedA: 2,
				stateA: TableError, stateB: TableCompleted, suspended: []string{"s.a"}, deliveredA: 2}},
		{"stop task", rejects(), ErrorBehaviorSettings{DataErrorPolicy: ErrorStopTask},
			// the failed checkpoint counts the reject that is in the exceptions file.
			want{status: StatusFailed, stopReason: StopFatalError, exit: ExitFailed, exceptions: 1, rejectedA: 1,
				stateA: TableBeforeLoad, stateB: TableBeforeLoad, failMessage: "DataErrorPolicy STOP_TASK"}},
		{"truncation policy applies to truncations", rejects(true),
			ErrorBehaviorSettings{DataErrorPolicy: ErrorLogError, DataTruncationErrorPolicy: ErrorStopTask},
			want{status: StatusFailed, stopReason: StopFatalError, exit: ExitFailed, exceptions: 1, rejectedA: 1,
				stateA: TableBeforeLoad, stateB: TableBeforeLoad, failMessage: "DataTruncationErrorPolicy STOP_TASK"}},
		{"truncation policy ignores other rejects", rejects(),
			ErrorBehaviorSettings{DataErrorPolicy: ErrorLogError, DataTruncationErrorPolicy: ErrorStopTask},
			want{status: StatusStopped, stopReason: StopFullLoadOnlyFinished, exit: ExitRejected, exceptions: 2, rejectedA: 2,
				stateA: TableCompleted, stateB: TableCompleted, deliveredA: 8}},
		{"escalation suspends", rejects(),
			ErrorBehaviorSettings{DataErrorPolicy: ErrorLogError, DataErrorEscalationCount: 2, DataErrorEscalationPolicy: ErrorSuspendTable},
			// second reject (5) suspends s.a: 0, 1, 3, 4 before it are delivered.
			want{status: StatusStopped, stopReason: StopFullLoadOnlyFinished, exit: ExitRejected, exceptions: 2, rejectedA: 2,
				stateA: TableError, stateB: TableCompleted, suspended: []string{"s.a"}, deliveredA: 4}},
		{"escalation stops", rejects(),
			ErrorBehaviorSettings{DataErrorPolicy: ErrorLogError, DataErrorEscalationCount: 2, DataErrorEscalationPolicy: ErrorStopTask},
			want{status: StatusFailed, stopReason: StopFatalError, exit: ExitFailed, exceptions: 2, rejectedA: 2,
				stateA: TableFullLoad, stateB: TableBeforeLoad, failMessage: "DataErrorEscalationCount 2", deliveredA: 2}},
		{"table error escalation", rejects(),
			ErrorBehaviorSettings{DataErrorPolicy: ErrorSuspendTable, TableErrorEscalationCount: 1},
			want{status: StatusFailed, stopReason: StopFatalError, exit: ExitFailed, exceptions: 1, rejectedA: 1,
				stateA: TableError, stateB: TableBeforeLoad, failMessage: "TableErrorEscalationCount 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.events, "t1")
			g := newRig(w, nil, 3)
			g.r.CommitRate = 3
			g.r.Errors = tc.eb
			res, err := g.r.Run(context.Background())
			if (err != nil) != (tc.want.status == StatusFailed) || res.Status != tc.want.status ||
				res.StopReason != tc.want.stopReason || res.ExitCode() != tc.want.exit {
				t.Fatalf("result %+v, err %v", res, err)
			}
			noViolations(t, w)
			cp := w.savedCheckpoint()
			if cp.Stats.Status != tc.want.status {
				t.Errorf("saved status %q", cp.Stats.Status)
			}
			if !strings.Contains(cp.Stats.LastFailureMessage, tc.want.failMessage) ||
				(tc.want.failMessage == "") != (cp.Stats.LastFailureMessage == "") {
				t.Errorf("LastFailureMessage %q, want %q", cp.Stats.LastFailureMessage, tc.want.failMessage)
			}
			exc := readExceptions(t, g.r.Store.ExceptionsPath())
			if len(exc) != tc.want.exceptions {
				t.Errorf("%d exception lines, want %d: %+v", len(exc), tc.want.exceptions, exc)
			}
			for _, e := range exc {
				if e.Task != "t1" || e.Schema != "s" || e.Table != "a" || !strings.HasPrefix(e.Position, "fake:") ||
					e.Reason != "bad row" || !strings.HasPrefix(e.Raw, "raw-") || e.Time.IsZero() {
					t.Errorf("exception %+v", e)
				}
			}
			ts := tableStats(cp)
			if ts["s.a"].RejectedRows != tc.want.rejectedA || ts["s.a"].TableState != tc.want.stateA || ts["s.b"].TableState != tc.want.stateB {
				t.Errorf("stats a=%+v b=%+v", ts["s.a"], ts["s.b"])
			}
			if !slices.Equal(g.src.suspended, tc.want.suspended) {
				t.Errorf("source suspended %v, want %v", g.src.suspended, tc.want.suspended)
			}
			deliveredA := 0
			for _, seq := range w.durable["t1"] {
				if seq < 10 {
					deliveredA++
				}
			}
			if deliveredA != tc.want.deliveredA {
				t.Errorf("%d events of s.a delivered, want %d", deliveredA, tc.want.deliveredA)
			}
		})
	}
}

func TestMapperErrors(t *testing.T) {
	ev := genEvents(10, 2)
	ev[3].bad = true
	w := newWorld(t, ev, "t1")
	g := newRig(w, nil, 4)
	res, err := g.r.Run(context.Background())
	if err != nil || res.Rejected != 1 || res.ExitCode() != ExitRejected {
		t.Fatalf("%v %+v", err, res)
	}
	exc := readExceptions(t, g.r.Store.ExceptionsPath())
	if len(exc) != 1 || exc[0].Position != "fake:3" || exc[0].Reason != "mapping: expression failed" {
		t.Fatalf("%+v", exc)
	}
	checkDelivery(t, w, 10)

	// A TableFault from the mapper is a table error.
	for _, tc := range []struct {
		policy ErrorPolicy
		status string
	}{{ErrorSuspendTable, StatusStopped}, {"", StatusStopped}, {ErrorStopTask, StatusFailed}} {
		w := newWorld(t, genEvents(10, 2), "t1")
		g := newRig(w, nil, 4)
		g.r.Mapper = fakeMapper{w: w, fault: "s.b"}
		g.r.Errors.TableErrorPolicy = tc.policy
		res, _ := g.r.Run(context.Background())
		if res.Status != tc.status {
			t.Fatalf("TableErrorPolicy %q: %+v", tc.policy, res)
		}
		if tc.status == StatusStopped {
			if st := tableStats(w.savedCheckpoint())["s.b"]; st.TableState != TableError || !strings.Contains(st.ErrorMessage, "cannot map") {
				t.Fatalf("s.b %+v", st)
			}
			if res.ExitCode() != ExitOK || res.Stats.TablesErrored != 1 {
				t.Fatalf("%+v", res)
			}
		}
	}
}

func TestTargetRejecter(t *testing.T) {
	for _, policy := range []ErrorPolicy{ErrorLogError, ErrorStopTask} {
		w := newWorld(t, genEvents(10, 2), "t1", "t2")
		w.targetRejected = func(name string, i int) bool { return name == "t1" && i == 3 }
		g := newRig(w, nil, 2)
		g.targets[0].rejectOn = func(seq int) bool { return seq == 3 }
		g.r.Errors.DataErrorPolicy = policy
		res, err := g.r.Run(context.Background())
		noViolations(t, w)
		exc := readExceptions(t, g.r.Store.ExceptionsPath())
		if len(exc) != 1 || exc[0].Reason != "record too large" || exc[0].Table != "a" {
			t.Fatalf("%s: exceptions %+v", policy, exc)
		}
		if policy == ErrorLogError {
			if err != nil || res.ExitCode() != ExitRejected || tableStats(w.savedCheckpoint())["s.a"].RejectedRows != 1 {
				t.Fatalf("%v %+v", err, res)
			}
			continue
		}
		if err == nil || res.Status != StatusFailed || w.savedPos() > 2 {
			t.Fatalf("STOP_TASK: %v %+v saved %d", err, res, w.savedPos())
		}
	}
}

func TestRecoverableErrors(t *testing.T) {
	transient := MarkRetryable(errors.New("connection reset"))
	for _, tc := range []struct {
		name    string
		count   int
		errs    []error
		status  string
		reason  string
		retries float64
	}{
		{"retried until it works", -1, []error{transient, transient}, StatusStopped, StopFullLoadOnlyFinished, 2},
		{"budget spent", 1, []error{transient, transient}, StatusFailed, StopRecoverableError, 1},
		{"never retried", 0, []error{transient}, StatusFailed, StopRecoverableError, 0},
		{"fatal error", -1, []error{errors.New("access denied")}, StatusFailed, StopFatalError, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, genEvents(6, 2), "t1")
			g := newRig(w, nil, 2)
			g.targets[0].writeErr = append([]error(nil), tc.errs...)
			g.r.Errors = ErrorBehaviorSettings{RecoverableErrorCount: tc.count, RecoverableErrorInterval: 1,
				RecoverableErrorThrottling: true, RecoverableErrorThrottlingMax: 4}
			g.r.Metrics = NewMetrics("t1")
			res, _ := g.r.Run(context.Background())
			if res.Status != tc.status || res.StopReason != tc.reason {
				t.Fatalf("%+v", res)
			}
			if got := counterValue(t, g.r.Metrics.retriesC.WithLabelValues("writing to t1")); got != tc.retries {
				t.Fatalf("retries metric %v, want %v", got, tc.retries)
			}
			noViolations(t, w)
			if tc.status == StatusStopped {
				checkDelivery(t, w, 0)
			}
		})
	}
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("x"), false},
		{MarkRetryable(errors.New("x")), true},
		{fmt.Errorf("writing: %w", MarkRetryable(errors.New("x"))), true},
		{context.Canceled, false},
		{fmt.Errorf("put: %w", apiErr{"ProvisionedThroughputExceededException"}), true},
		{apiErr{"SlowDown"}, true},
		{apiErr{"AccessDenied"}, false},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{syscall.ECONNREFUSED, true},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v", tc.err, got)
		}
	}
	if !throttled(apiErr{"ThrottlingException"}) || throttled(apiErr{"InternalError"}) {
		t.Error("throttled classification")
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestRetrierBackoff(t *testing.T) {
	transient := MarkRetryable(errors.New("throttled"))
	for _, tc := range []struct {
		name      string
		r         retrier
		failures  int
		wantWaits []time.Duration
		wantErr   bool
	}{
		{"doubles up to the max", retrier{count: -1, interval: time.Millisecond, throttling: true, max: 4 * time.Millisecond}, 5,
			[]time.Duration{1, 2, 4, 4, 4}, false},
		{"fixed interval", retrier{count: -1, interval: time.Millisecond}, 3, []time.Duration{1, 1, 1}, false},
		{"count bounds attempts", retrier{count: 2, interval: time.Millisecond}, 5, []time.Duration{1, 1}, true},
		{"stop after throttling max", retrier{count: -1, interval: time.Millisecond, throttling: true, max: 4 * time.Millisecond, stopAtMax: true}, 10,
			[]time.Duration{1, 2, 4}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var waits []time.Duration
			r := tc.r
			r.classify = Retryable
			r.onRetry = func(_ string, _ error, w time.Duration) { waits = append(waits, w/time.Millisecond) }
			n := 0
			err := r.do(context.Background(), "x", func() error {
				n++
				if n <= tc.failures {
					return transient
				}
				return nil
			})
			var ex *exhaustedError
			if tc.wantErr != errors.As(err, &ex) || !slices.Equal(waits, tc.wantWaits) {
				t.Fatalf("err %v, waits %v, want %v", err, waits, tc.wantWaits)
			}
		})
	}
	// Shutdown does not wait out a backoff.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := retrier{count: -1, interval: time.Hour, classify: Retryable}
	if err := r.do(ctx, "x", func() error { return transient }); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}

// A table suspended by one run stays suspended in the next: the source is
// told before it reads, and the table's rows are not delivered.
func TestSuspensionSurvivesRestart(t *testing.T) {
	ev := genEvents(20, 3)
	ev[12] = fakeEvent{table: "s.b", key: 0, reject: true}
	w := newWorld(t, ev[:14], "t1")
	g := newRig(w, nil, 3)
	g.r.Errors.DataErrorPolicy = ErrorSuspendTable
	if _, err := g.r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.events = ev // more rows arrive for both tables
	w.mu.Unlock()
	g = newRig(w, nil, 3)
	g.r.Errors.DataErrorPolicy = ErrorSuspendTable
	open := g.r.OpenSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		if len(g.src.suspended) != 0 {
			t.Error("suspended before open")
		}
		return s, err
	}
	if _, err := g.r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.src.suspended, []string{"s.b"}) || !slices.Equal(g.src.suspendAt, []int{0}) {
		t.Fatalf("source told %v after %v Next calls", g.src.suspended, g.src.suspendAt)
	}
	for _, seq := range w.durable["t1"] {
		if seq >= 12 {
			t.Fatalf("row %d of the suspended table delivered", seq)
		}
	}
	if st := tableStats(w.savedCheckpoint())["s.b"]; st.TableState != TableError {
		t.Fatalf("%+v", st)
	}
}
