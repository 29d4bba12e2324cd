package s3csv

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/aws/smithy-go"
)

// readError is what Next returns when the producers stopped on an error
// that is not confined to one table. Retryable follows the convention the
// runner recognises (a Retryable() bool method found with errors.As): a
// transient error (throttling, a reset connection, a cut response) is
// retryable because the next Next restarts the producers from the last
// delivered position; anything else is final, whatever it wraps.
type readError struct {
	err       error
	transient bool
}

func (e *readError) Error() string   { return e.err.Error() }
func (e *readError) Unwrap() error   { return e.err }
func (e *readError) Retryable() bool { return e.transient }

// corruptError marks input data that cannot be decoded (a bad or truncated
// gzip stream read to its end): reading it again gives the same result.
type corruptError struct{ err error }

func (e *corruptError) Error() string   { return e.err.Error() }
func (e *corruptError) Unwrap() error   { return e.err }
func (e *corruptError) Retryable() bool { return false }

// transientCodes are the S3 error codes after which reading again from the
// last delivered position can succeed. PreconditionFailed and NoSuchKey
// mean the object was rewritten or removed while it was read: a restart
// lists the table again and picks up what is there now.
var transientCodes = map[string]bool{
	"SlowDown": true, "Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequestsException": true, "RequestThrottled": true,
	"InternalError": true, "InternalFailure": true, "ServiceUnavailable": true,
	"RequestTimeout": true, "RequestTimeoutException": true,
	"PreconditionFailed": true, "NoSuchKey": true,
}

// transient reports whether err is worth retrying from the last delivered
// position. Cancellation never is (the source is closing).
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return transientCodes[api.ErrorCode()]
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}
