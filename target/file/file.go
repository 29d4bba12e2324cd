// Package file is the JSON-lines target: one line per record,
// {"PartitionKey":"…","Data":{…the DMS message…}}, in the order the Kinesis
// target would send them. It serves debugging, piping and tests.
package file

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/target"
	"github.com/sluicedata/sluice/target/kinesis"
)

// Option adjusts a Target.
type Option func(*Target)

// WithNow sets the clock used for the metadata timestamp of records without
// mapping.Record.Time (tests).
func WithNow(now func() time.Time) Option { return func(t *Target) { t.now = now } }

// Target appends records to a local file. Restarting appends to what is
// there (at-least-once: records after the last checkpoint appear again).
type Target struct {
	path string
	f    *os.File
	// regular is false for pipes and devices (/dev/stdout, a FIFO read by
	// another program): they cannot be fsynced or trimmed, and what was
	// written to them is as durable as it gets.
	regular bool
	w       *bufio.Writer
	enc     *kinesis.Encoder
	buf     []byte
	now     func() time.Time
}

// New opens (creating if needed) path for appending. Whatever msg's
// MessageFormat says, Data holds the single-line message as a JSON object.
func New(path string, msg kinesis.MessageOptions, opts ...Option) (*Target, error) {
	if err := msg.Validate(); err != nil {
		return nil, fmt.Errorf("file target: %w", err)
	}
	msg.MessageFormat = kinesis.FormatJSONUnformatted
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening file target: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening file target %s: %w", path, err)
	}
	if st.Mode().IsRegular() {
		if err := trimTornTail(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("opening file target %s: %w", path, err)
		}
	}
	t := &Target{path: path, f: f, regular: st.Mode().IsRegular(), w: bufio.NewWriterSize(f, 1<<20), enc: kinesis.NewEncoder(msg), now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

// trimTornTail cuts a last line left half-written by a process that was
// killed mid-write, so that appending starts on a line of its own. The
// record it held is re-delivered from the checkpoint, so nothing is lost.
func trimTornTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	buf := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := int64(len(buf))
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				if keep := pos + i + 1; keep != end {
					return f.Truncate(keep)
				}
				return nil
			}
		}
	}
	if end > 0 {
		return f.Truncate(0)
	}
	return nil
}

// Write encodes recs into the buffer; records DMS would not send (for
// example truncate without IncludeTableAlterOperations) are skipped.
func (t *Target) Write(ctx context.Context, recs []mapping.Record) error {
	var clock time.Time
	for i := range recs {
		r := &recs[i]
		if !t.enc.Emits(r) {
			continue
		}
		// One timestamp per record across targets: the runner's, when set.
		now := r.Time
		if now.IsZero() {
			if clock.IsZero() {
				clock = t.now()
			}
			now = clock
		}
		b := append(t.buf[:0], `{"PartitionKey":`...)
		b = kinesis.AppendJSONString(b, r.PartitionKey)
		b = append(b, `,"Data":`...)
		b = t.enc.Append(b, r, now)
		b = append(b[:len(b)-1], "}\n"...) // replace the message's newline
		t.buf = b
		if _, err := t.w.Write(b); err != nil {
			return fmt.Errorf("writing %s: %w", t.path, err)
		}
	}
	return ctx.Err()
}

// Flush writes the buffer and fsyncs the file: records are durable after it.
func (t *Target) Flush(ctx context.Context) error {
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", t.path, err)
	}
	if !t.regular {
		return nil
	}
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", t.path, err)
	}
	return nil
}

// Close flushes and closes the file.
func (t *Target) Close(ctx context.Context) error {
	if t.f == nil {
		return nil
	}
	err := t.Flush(ctx)
	if cerr := t.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", t.path, cerr)
	}
	t.f = nil
	return err
}

var _ target.Target = (*Target)(nil)
