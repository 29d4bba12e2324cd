package task

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const lockFileName = "lock"

// fileStore keeps the state in a local directory. Ownership is an flock on
// DIR/lock held for the runner's lifetime: the kernel drops it when the
// process dies, so a crashed runner never blocks its successor.
type fileStore struct {
	location string
	dir      string
	lock     *os.File
}

func openFileStore(location, dir string) (*fileStore, error) {
	if dir == "" {
		return nil, fmt.Errorf("state location %q: empty directory", location)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	lockPath := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lockPath)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who == "" {
				who = "unknown"
			}
			return nil, fmt.Errorf("%w: %s is locked by %s; stop that runner first", ErrInUse, location, who)
		}
		return nil, fmt.Errorf("locking %s: %w", lockPath, err)
	}
	// The holder's identity is for the message above only; the flock is the lock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &fileStore{location: location, dir: dir, lock: f}, nil
}

func (s *fileStore) Location() string       { return s.location }
func (s *fileStore) ExceptionsPath() string { return filepath.Join(s.dir, ExceptionsFileName) }

func (s *fileStore) Load(context.Context) (*Checkpoint, error) { return readFileCheckpoint(s.dir) }

func readFileCheckpoint(dir string) (*Checkpoint, error) {
	path := filepath.Join(dir, CheckpointFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	return decodeCheckpoint(b, path)
}

// Save writes a temp file, fsyncs it, renames it over the checkpoint and
// fsyncs the directory so the rename itself survives a power cut.
func (s *fileStore) Save(_ context.Context, cp *Checkpoint) error {
	b, err := encodeCheckpoint(cp)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, CheckpointFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving checkpoint: syncing: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, CheckpointFileName)); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("saving checkpoint: syncing directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("saving checkpoint: syncing directory: %w", err)
	}
	return nil
}

func (s *fileStore) Close(context.Context) error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close() // releases the flock
	s.lock = nil
	if err != nil {
		return fmt.Errorf("releasing state lock: %w", err)
	}
	return nil
}
