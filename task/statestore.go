package task

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CheckpointFileName is the name of the checkpoint inside the state location.
const CheckpointFileName = "checkpoint.json"

// ErrInUse is returned (wrapped, with who holds it) when another runner owns
// the task's state location.
var ErrInUse = errors.New("state location is in use by another runner")

// StateStore persists one task's checkpoint and exceptions file and makes
// its opener the only runner of the task until Close.
type StateStore interface {
	// Load returns the saved checkpoint, or nil for a new task.
	Load(ctx context.Context) (*Checkpoint, error)
	// Save replaces the checkpoint atomically: after a crash either the old
	// or the new one is read back, never a mix. It fails with ErrInUse if
	// another runner took the task over.
	Save(ctx context.Context, cp *Checkpoint) error
	// ExceptionsPath is the local file the runner appends rejects to.
	ExceptionsPath() string
	// Location is the StateLocation as given.
	Location() string
	// Close releases ownership.
	Close(ctx context.Context) error
}

// StoreOptions tune OpenStateStore.
type StoreOptions struct {
	// S3 is the client for s3:// locations; nil builds one from the AWS
	// default configuration (AWS_ENDPOINT_URL_S3 honoured, path style then).
	S3 S3API
	// Lease is how long an s3:// checkpoint saved by a running runner keeps
	// others out (default 60 s); a crashed runner's task can be taken over
	// after it. Runners refresh it by saving at least every Lease/3.
	Lease time.Duration
	// Owner names this runner in the checkpoint; default host:pid:random.
	Owner string
}

// OpenStateStore opens a "file://dir" or "s3://bucket/prefix" state
// location for task and takes ownership of it; ErrInUse if another runner
// holds it.
func OpenStateStore(ctx context.Context, location, task string, opts StoreOptions) (StateStore, error) {
	if opts.Owner == "" {
		opts.Owner = defaultOwner()
	}
	if opts.Lease <= 0 {
		opts.Lease = 60 * time.Second
	}
	switch {
	case strings.HasPrefix(location, "file://"):
		return openFileStore(location, strings.TrimPrefix(location, "file://"))
	case strings.HasPrefix(location, "s3://"):
		return openS3Store(ctx, location, task, opts)
	default:
		return nil, fmt.Errorf("state location %q: want file://DIR or s3://BUCKET/PREFIX", location)
	}
}

// ReadCheckpoint reads a state location's checkpoint without taking
// ownership (for status); nil when the task never saved one.
func ReadCheckpoint(ctx context.Context, location string, opts StoreOptions) (*Checkpoint, error) {
	switch {
	case strings.HasPrefix(location, "file://"):
		return readFileCheckpoint(strings.TrimPrefix(location, "file://"))
	case strings.HasPrefix(location, "s3://"):
		api, bucket, prefix, err := s3Location(ctx, location, opts)
		if err != nil {
			return nil, err
		}
		cp, _, err := getS3Checkpoint(ctx, api, bucket, joinKey(prefix, CheckpointFileName))
		return cp, err
	default:
		return nil, fmt.Errorf("state location %q: want file://DIR or s3://BUCKET/PREFIX", location)
	}
}

// ReadExceptions writes the exceptions file of the task whose state lives
// at location to w, without taking ownership: for s3:// the parts the
// checkpoint names, concatenated and streamed.
func ReadExceptions(ctx context.Context, location string, opts StoreOptions, w io.Writer) error {
	switch {
	case strings.HasPrefix(location, "file://"):
		f, err := os.Open(filepath.Join(strings.TrimPrefix(location, "file://"), ExceptionsFileName))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading exceptions: %w", err)
		}
		defer f.Close()
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("reading exceptions: %w", err)
		}
		return nil
	case strings.HasPrefix(location, "s3://"):
		api, bucket, prefix, err := s3Location(ctx, location, opts)
		if err != nil {
			return err
		}
		cp, _, err := getS3Checkpoint(ctx, api, bucket, joinKey(prefix, CheckpointFileName))
		if err != nil {
			return err
		}
		return copyS3Exceptions(ctx, api, bucket, prefix, cp, w)
	default:
		return fmt.Errorf("state location %q: want file://DIR or s3://BUCKET/PREFIX", location)
	}
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
