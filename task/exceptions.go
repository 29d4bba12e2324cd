package task

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
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

// Reject logging is rate-limited: millions of bad rows must not cost a
// log line each (the exceptions file has every one). The first
// rejectLogFirst rejects of each table are logged in full, later ones as a
// per-table count at most every rejectLogEvery, and once more at the end.
const (
	rejectLogFirst = 10
	rejectLogEvery = 5 * time.Second
)

// rejectLog is safe for concurrent use (target rejecters).
type rejectLog struct {
	mu         sync.Mutex
	total      map[string]int64 // per table ("" = no selected table)
	suppressed map[string]int64 // not logged in full since the last summary
	last       time.Time
}

func (l *rejectLog) log(lg *slog.Logger, key string, rj source.Reject, policy string, now time.Time) {
	l.mu.Lock()
	if l.total == nil {
		l.total, l.suppressed = map[string]int64{}, map[string]int64{}
	}
	l.total[key]++
	n := l.total[key]
	if n > rejectLogFirst {
		if len(l.suppressed) == 0 {
			l.last = now
		}
		l.suppressed[key]++
	}
	l.mu.Unlock()
	if n <= rejectLogFirst {
		args := []any{"table", orUnknown(key), "position", rj.Position, "reason", rj.Reason, "policy", policy}
		if n == rejectLogFirst {
			args = append(args, "note", "further rejects of this table are logged as counts")
		}
		lg.Warn("row rejected", args...)
		return
	}
	l.tick(lg, now)
}

// tick logs the counts of rejects not logged in full, at most every
// rejectLogEvery.
func (l *rejectLog) tick(lg *slog.Logger, now time.Time) {
	l.summary(lg, now, false)
}

// flush logs the remaining counts (end of run).
func (l *rejectLog) flush(lg *slog.Logger, now time.Time) { l.summary(lg, now, true) }

func (l *rejectLog) summary(lg *slog.Logger, now time.Time, force bool) {
	l.mu.Lock()
	if len(l.suppressed) == 0 || !force && now.Sub(l.last) < rejectLogEvery {
		l.mu.Unlock()
		return
	}
	type entry struct {
		key      string
		n, total int64
	}
	var es []entry
	for k, n := range l.suppressed {
		es = append(es, entry{k, n, l.total[k]})
	}
	clear(l.suppressed)
	l.last = now
	l.mu.Unlock()
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range es {
		lg.Warn("rows rejected (see the exceptions file)", "table", orUnknown(e.key), "rejected", e.n, "total_rejected", e.total)
	}
}
