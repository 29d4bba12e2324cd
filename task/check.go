package task

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"
)

// CheckResult is the outcome of one check of `sluice check`: something
// sluice run needs from an endpoint (a bucket it lists, a stream it writes,
// a server setting it relies on).
type CheckResult struct {
	// Endpoint names what was checked, e.g. "source s3://landing/exports",
	// "target kinesis:orders", "state file:///srv/state/orders".
	Endpoint string
	// Check says what was checked, e.g. "bucket listable".
	Check string
	// OK is false when sluice run would fail or lose data because of it.
	OK bool
	// Warning marks an OK check whose Detail deserves attention (a table
	// without files in a CDC task, a slot sluice run will have to create).
	Warning bool
	// Detail is what was found, or why the check failed. Never a password.
	Detail   string
	Duration time.Duration
}

// checkTimeout bounds each check; a variable so tests can shorten it.
var checkTimeout = 10 * time.Second

// CheckTask reaches every endpoint of cfg — the source, each target and
// the state location — and reports each check. It never stops at the first
// failure: endpoints are checked concurrently, the checks of one endpoint
// in order, each under its own timeout. When a check fails that later
// checks of the same endpoint depend on (a bucket that does not exist, a
// database that refuses the connection), those later checks are left out
// rather than reported as failing for the same reason. Results come in a
// fixed order: source, targets in file order, state.
func CheckTask(ctx context.Context, cfg *Config) []CheckResult {
	var groups []func(*checkRecorder)
	switch {
	case cfg.SourceEndpoint.S3Settings != nil:
		groups = append(groups, func(r *checkRecorder) { checkS3Source(ctx, r, cfg) })
	case cfg.SourceEndpoint.Postgres != nil:
		groups = append(groups, func(r *checkRecorder) { checkPostgresSource(ctx, r, cfg) })
	}
	for i := range cfg.TargetEndpoints {
		te := &cfg.TargetEndpoints[i]
		groups = append(groups, func(r *checkRecorder) { checkTarget(ctx, r, i, te) })
	}
	if cfg.StateLocation != "" {
		groups = append(groups, func(r *checkRecorder) { checkStateLocation(ctx, r, cfg.StateLocation) })
	}
	recs := make([]checkRecorder, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g(&recs[i])
		}()
	}
	wg.Wait()
	var out []CheckResult
	for _, r := range recs {
		out = append(out, r.results...)
	}
	return out
}

// checkRecorder collects the results of one endpoint's checks.
type checkRecorder struct {
	endpoint string
	results  []CheckResult
}

// checkWarning is returned by a check that passed with a remark.
type checkWarning struct{ msg string }

func (w *checkWarning) Error() string { return w.msg }

func checkWarnf(format string, args ...any) error {
	return &checkWarning{msg: fmt.Sprintf(format, args...)}
}

// run performs one check under its own timeout and records it: fn returns
// the detail of a pass, a *checkWarning for a pass with a remark, or the
// reason of a failure. It reports whether the check passed.
func (r *checkRecorder) run(ctx context.Context, name string, fn func(ctx context.Context) (string, error)) bool {
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	start := time.Now()
	detail, err := fn(cctx)
	res := CheckResult{Endpoint: r.endpoint, Check: name, OK: true, Detail: detail, Duration: time.Since(start)}
	var w *checkWarning
	switch {
	case errors.As(err, &w):
		res.Warning, res.Detail = true, w.msg
	case err != nil:
		res.OK, res.Detail = false, checkErrText(cctx, err)
	}
	r.results = append(r.results, res)
	return res.OK
}

// fail records a check that could not even be attempted.
func (r *checkRecorder) fail(name, detail string) {
	r.results = append(r.results, CheckResult{Endpoint: r.endpoint, Check: name, Detail: detail})
}

// checkErrText shortens an error for a one-line report: AWS API errors are
// reduced to their code and message (the SDK's operation and request-id
// wrapping says nothing to an operator), and a timeout says so.
func checkErrText(ctx context.Context, err error) string {
	// Keep our own wrapping ("listing s3://b/p: ") in front of the cause.
	prefix := ""
	if i := strings.Index(err.Error(), "operation error"); i > 0 {
		prefix = strings.TrimSuffix(strings.TrimSpace(err.Error()[:i]), ":") + ": "
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("%sno answer within %s", prefix, checkTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		where := ue.URL
		if u, perr := url.Parse(ue.URL); perr == nil {
			where = u.Scheme + "://" + u.Host
		}
		return prefix + "cannot reach " + where + ": " + ue.Err.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if msg == "" || msg == ae.ErrorCode() {
			return prefix + ae.ErrorCode()
		}
		return prefix + ae.ErrorCode() + ": " + msg
	}
	return err.Error()
}
