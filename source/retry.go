package source

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"syscall"

	"github.com/aws/smithy-go"
)

// retryableCodes are AWS error codes worth retrying: throttling and
// transient service failures.
var retryableCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestLimitExceeded": true, "ProvisionedThroughputExceededException": true,
	"LimitExceededException": true, "SlowDown": true, "RequestThrottled": true,
	"TooManyRequestsException": true, "InternalError": true, "InternalFailure": true,
	"ServiceUnavailable": true, "RequestTimeout": true, "RequestTimeoutException": true,
	"KMSThrottlingException": true,
}

// Retryable reports whether err is worth retrying: an error with a
// Retryable() bool method decides for itself; otherwise AWS throttling and
// transient service codes (plus extraCodes, which the caller knows to be
// transient in its context), network timeouts, refused or reset
// connections and unexpected EOF are. Context cancellation never is.
// Sources, targets and the runner share this one classification.
func Retryable(err error, extraCodes ...string) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return retryableCodes[api.ErrorCode()] || slices.Contains(extraCodes, api.ErrorCode())
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}
