package task

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sluicedata/sluice/source"
)

// ExceptionsFileName is the name of the exceptions file inside the state
// location.
const ExceptionsFileName = "exceptions.jsonl"

// Exception is one line of the exceptions file.
type Exception struct {
	Time     time.Time `json:"time"`
	Task     string    `json:"task"`
	Schema   string    `json:"schema"`
	Table    string    `json:"table"`
	Position string    `json:"position"`
	Reason   string    `json:"reason"`
	Raw      string    `json:"raw"`
}

// exceptionsFile appends exception lines; Sync makes them durable and runs
// before every checkpoint save, so a saved position never covers a reject
// whose line could be lost. Safe for concurrent use (target rejecters).
type exceptionsFile struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	dirty bool
	task  string
}

func openExceptions(path, task string) (*exceptionsFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening exceptions file: %w", err)
	}
	return &exceptionsFile{f: f, w: bufio.NewWriter(f), task: task}, nil
}

func (e *exceptionsFile) Append(rj source.Reject, now time.Time) error {
	b, err := json.Marshal(Exception{Time: now.UTC(), Task: e.task, Schema: rj.Schema, Table: rj.Table,
		Position: rj.Position, Reason: rj.Reason, Raw: rj.Raw})
	if err != nil {
		return fmt.Errorf("encoding exception: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dirty = true
	if _, err := e.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing exceptions file: %w", err)
	}
	return nil
}

// Sync flushes and fsyncs pending lines.
func (e *exceptionsFile) Sync() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.dirty {
		return nil
	}
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("writing exceptions file: %w", err)
	}
	if err := e.f.Sync(); err != nil {
		return fmt.Errorf("syncing exceptions file: %w", err)
	}
	e.dirty = false
	return nil
}

func (e *exceptionsFile) Close() error {
	err := e.Sync()
	if cerr := e.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing exceptions file: %w", cerr)
	}
	return err
}
