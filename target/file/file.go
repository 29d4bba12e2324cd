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

// WithNow sets the clock used for the metadata timestamp (tests).
func WithNow(now func() time.Time) Option { return func(t *Target) { t.now = now } }

// Target appends records to a local file. Restarting appends to what is
// there (at-least-once: records after the last checkpoint appear again).
type Target struct {
	path string
	f    *os.File
	w    *bufio.Writer
	enc  *kinesis.Encoder
	buf  []byte
	now  func() time.Time
}

// New opens (creating if needed) path for appending. Whatever msg's
// MessageFormat says, Data holds the single-line message as a JSON object.
func New(path string, msg kinesis.MessageOptions, opts ...Option) (*Target, error) {
	if err := msg.Validate(); err != nil {
		return nil, fmt.Errorf("file target: %w", err)
	}
	msg.MessageFormat = kinesis.FormatJSONUnformatted
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening file target: %w", err)
	}
	t := &Target{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), enc: kinesis.NewEncoder(msg), now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

// Write encodes recs into the buffer; records DMS would not send (for
// example truncate without IncludeTableAlterOperations) are skipped.
func (t *Target) Write(ctx context.Context, recs []mapping.Record) error {
	now := t.now()
	for i := range recs {
		r := &recs[i]
		if !t.enc.Emits(r) {
			continue
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
