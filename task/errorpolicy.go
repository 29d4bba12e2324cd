package task

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go"

	"github.com/sluicedata/sluice/source"
)

// TableFault is an error confined to one table. A source's Next, or the
// mapper, returns it (wrapped or not) to have TableErrorPolicy applied
// instead of failing the task: the table is suspended and the task goes on,
// or the task stops. A source returning it from Next must be able to carry
// on with the other tables at the next call.
type TableFault struct {
	Schema, Table string
	Err           error
}

func (e *TableFault) Error() string {
	return fmt.Sprintf("table %s.%s: %v", e.Schema, e.Table, e.Err)
}

func (e *TableFault) Unwrap() error { return e.Err }

// retryableError marks an error as recoverable.
type retryableError struct{ err error }

func (e retryableError) Error() string   { return e.err.Error() }
func (e retryableError) Unwrap() error   { return e.err }
func (e retryableError) Retryable() bool { return true }

// MarkRetryable wraps err so that Retryable reports true: sources and
// targets use it for errors they know to be transient.
func MarkRetryable(err error) error {
	if err == nil {
		return nil
	}
	return retryableError{err}
}

var throttlingCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestLimitExceeded": true, "ProvisionedThroughputExceededException": true,
	"SlowDown": true, "RequestThrottled": true, "TooManyRequestsException": true,
	"KMSThrottlingException": true, "LimitExceededException": true,
}

// Retryable is the default classification of recoverable errors: errors
// with a Retryable() bool method that says so (MarkRetryable), network
// timeouts, refused/reset connections, unexpected EOF, and AWS throttling
// or transient service error codes. Context cancellation never is.
func Retryable(err error) bool { return source.Retryable(err) }

// throttled reports whether err is a throttling error (counted separately).
func throttled(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && throttlingCodes[api.ErrorCode()]
}

// retrier applies RecoverableErrorCount/Interval/Throttling(Max).
type retrier struct {
	count      int           // -1 forever, 0 never, N attempts after the first
	interval   time.Duration // first wait
	throttling bool          // double the wait each time
	max        time.Duration // cap of the doubled wait
	stopAtMax  bool          // RecoverableErrorStopRetryAfterThrottlingMax
	classify   func(error) bool
	onRetry    func(what string, err error, wait time.Duration)
}

// do runs f until it succeeds, fails with a non-recoverable error, the
// retry budget is spent (the error is then marked exhausted) or ctx ends.
func (r *retrier) do(ctx context.Context, what string, f func() error) error {
	wait := r.interval
	waitedMax := false
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || !r.classify(err) {
			return err
		}
		if r.count >= 0 && attempt >= r.count || r.stopAtMax && waitedMax {
			return &exhaustedError{what: what, attempts: attempt + 1, err: err}
		}
		if r.onRetry != nil {
			r.onRetry(what, err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (while retrying after: %v)", what, ctx.Err(), err)
		case <-t.C:
		}
		if r.throttling {
			waitedMax = r.max > 0 && wait >= r.max
			wait *= 2
			if r.max > 0 && wait > r.max {
				wait = r.max
			}
		}
	}
}

// exhaustedError is a recoverable error whose retries ran out: the task
// stops with StopReason RECOVERABLE_ERROR.
type exhaustedError struct {
	what     string
	attempts int
	err      error
}

func (e *exhaustedError) Error() string {
	return fmt.Sprintf("%s: giving up after %d attempts (RecoverableErrorCount): %v", e.what, e.attempts, e.err)
}
func (e *exhaustedError) Unwrap() error { return e.err }

// policyStop is what a policy returns to fail the task.
type policyStop struct{ msg string }

func (e *policyStop) Error() string { return e.msg }

// policyFor returns the policy a reject falls under, defaulting to LOG_ERROR.
func (r *Runner) policyFor(truncation bool) ErrorPolicy {
	p := r.Errors.DataErrorPolicy
	if truncation {
		p = r.Errors.DataTruncationErrorPolicy
	}
	if p == "" {
		p = ErrorLogError
	}
	return p
}

// reject applies ErrorBehavior to one rejected row: count it, write it to
// the exceptions file unless IGNORE_RECORD, then suspend its table or stop
// the task as the policy and the escalation count say. A non-nil error
// stops the task.
func (r *Runner) reject(rj source.Reject) error {
	now := r.Now()
	key := ""
	if rj.Table != "" && r.selected(tableKey(rj.Schema, rj.Table)) {
		key = tableKey(rj.Schema, rj.Table)
	}
	// A row naming a table the task does not replicate (e.g. a CDC line
	// of an undefined table) counts for the task only: it must not appear
	// as a table that never loads.
	n := r.book.rejected(key, now)
	policy := r.policyFor(rj.Truncation)
	kind := "DataErrorPolicy"
	if rj.Truncation {
		kind = "DataTruncationErrorPolicy"
	}
	if key == "" {
		r.Metrics.rejected("", "")
	} else {
		r.Metrics.rejected(rj.Schema, rj.Table)
	}
	if policy != ErrorIgnoreRecord {
		if err := r.exc.Append(rj, now); err != nil {
			return err
		}
		r.rejected.Add(1)
		r.rejLog.log(r.Log, key, rj, string(policy), now)
	}
	describe := func() string {
		return fmt.Sprintf("data error in %s at %s: %s", orUnknown(key), rj.Position, rj.Reason)
	}
	switch policy {
	case ErrorSuspendTable:
		if err := r.suspend(key, describe()+" ("+kind+" SUSPEND_TABLE)"); err != nil {
			return err
		}
	case ErrorStopTask:
		return &policyStop{describe() + " (" + kind + " STOP_TASK)"}
	}
	if c := r.Errors.DataErrorEscalationCount; c > 0 && n >= int64(c) {
		msg := fmt.Sprintf("%s: %d data errors reached DataErrorEscalationCount %d", orUnknown(key), n, c)
		switch r.Errors.DataErrorEscalationPolicy {
		case ErrorStopTask:
			return &policyStop{msg + " (DataErrorEscalationPolicy STOP_TASK)"}
		case ErrorSuspendTable, "":
			if key != "" && r.book.state(key) != TableError {
				return r.suspend(key, msg+" (DataErrorEscalationPolicy SUSPEND_TABLE)")
			}
		}
	}
	return nil
}

func orUnknown(key string) string {
	if key == "" {
		return "an unknown table"
	}
	return key
}

// tableFault applies TableErrorPolicy to an error confined to one table.
func (r *Runner) tableFault(tf *TableFault) error {
	key := tableKey(tf.Schema, tf.Table)
	policy := r.Errors.TableErrorPolicy
	if policy == "" {
		policy = ErrorSuspendTable
	}
	if policy == ErrorStopTask {
		return &policyStop{fmt.Sprintf("table error: %v (TableErrorPolicy STOP_TASK)", tf)}
	}
	return r.suspend(key, fmt.Sprintf("table error: %v (TableErrorPolicy %s)", tf.Err, policy))
}

// suspend puts a table into "Table error": its later events are dropped
// and the source (if it can) stops reading it. Each suspension counts
// towards TableErrorEscalationCount (task-wide).
func (r *Runner) suspend(key, msg string) error {
	if key == "" {
		r.Log.Warn("cannot suspend a row that names no table; continuing", "reason", msg)
		return nil
	}
	if !r.book.suspend(key, msg, r.Now()) {
		return nil
	}
	r.Log.Error("table suspended", "table", key, "reason", msg)
	r.mu.Lock()
	r.suspended[key] = true
	r.toSuspend = append(r.toSuspend, key)
	r.tableErrs++
	n := r.tableErrs
	r.mu.Unlock()
	if c := r.Errors.TableErrorEscalationCount; c > 0 && n >= c {
		return &policyStop{fmt.Sprintf("%d table errors reached TableErrorEscalationCount %d (TableErrorEscalationPolicy STOP_TASK); last: %s", n, c, msg)}
	}
	return nil
}
