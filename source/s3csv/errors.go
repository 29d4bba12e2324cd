package s3csv

import "github.com/sluicedata/sluice/source"

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

// transient reports whether err is worth retrying from the last delivered
// position: what every source retries, plus an object that was rewritten or
// removed while being read (listing again finds the current state).
func transient(err error) bool {
	return source.Retryable(err, "PreconditionFailed", "NoSuchKey")
}
