// Package source holds the change-event model every source produces and the
// Source interface the task runner drives.
//
// Durability contract: the runner calls Commit(pos) only after every target
// has made every event up to pos durable and the checkpoint holding pos is
// saved. A source must never advance its acknowledged position (S3 file
// cursor, PostgreSQL flush LSN) on its own: a crash re-delivers, never skips.
package source

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sluicedata/sluice/tabledefs"
)

// Op is the kind of change an event carries.
type Op uint8

// Operations. Load is a full-load row; CreateTable and DropTable are the
// control records DMS sends before a table's full load.
const (
	OpLoad Op = iota + 1
	OpInsert
	OpUpdate
	OpDelete
	OpCreateTable
	OpDropTable
	OpTruncate
)

var opNames = [...]string{"", "load", "insert", "update", "delete", "create-table", "drop-table", "truncate"}

// String returns the DMS metadata spelling ("load", "insert", …).
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "unknown"
}

// IsControl reports whether the operation is a control (non-data) record.
func (o Op) IsControl() bool { return o == OpCreateTable || o == OpDropTable || o == OpTruncate }

// Event is one change as read from a source.
type Event struct {
	Op    Op
	Table *tabledefs.Table // source-side definition; schema is Table.Owner
	// Values holds the row in Table.Columns order: the after-image for
	// inserts, updates and loads, the deleted row for deletes.
	Values []tabledefs.Value
	// Before holds the before-image when the source has it (nil otherwise).
	Before []tabledefs.Value
	// Unchanged lists Values indexes the source did not send (PostgreSQL
	// unchanged TOASTed columns of an update): those Values are NULL and
	// mean "not changed", not "set to NULL". nil for other sources.
	Unchanged []int

	TxID       string    // transaction id when the source has one
	CommitTime time.Time // zero when the source has none (S3 full load)
	// Origin and Seq together identify the event uniquely within the source
	// (S3: object key and line number; PostgreSQL: commit LSN and record
	// index), rendered as the DMS "stream-position".
	Origin string
	Seq    int64
}

// Position is a source-owned, versioned JSON document from which the source
// resumes. The runner stores it and hands it back; it never parses it.
type Position = json.RawMessage

// Reject is an input row or line the source could not turn into an event.
type Reject struct {
	Schema   string // may be empty when the line named no known table
	Table    string
	Position string // human-readable: "s3://bucket/key:17"
	Reason   string
	Raw      string
	// Truncation marks a value that did not fit its column (DMS applies
	// DataTruncationErrorPolicy to these instead of DataErrorPolicy).
	Truncation bool
}

// Batch is what one Next call returns. Pos is the position just after the
// last event and reject of the batch: committing it acknowledges them all.
type Batch struct {
	Events  []Event
	Rejects []Reject
	// RejectAt, when set, has one entry per Reject: the index into Events
	// before which that reject occurred in source order (len(Events) when
	// after the last event), non-decreasing. The runner applies a reject's
	// policy there, so a suspended table still gets its rows that came
	// before the bad one. nil means unknown: the runner then applies the
	// rejects after all the batch's events.
	RejectAt []int
	// Completed names tables ("schema.table") whose full load ended with
	// this batch.
	Completed []string
	Pos       Position
}

// ErrDone is returned by Next when a finite run (full load only, or --once)
// has delivered everything.
var ErrDone = errors.New("source: no more changes")

// Source produces batches of change events and learns through Commit how far
// the downstream has made them durable.
type Source interface {
	// Next blocks until a batch is ready, ctx is done, or the source is
	// exhausted (ErrDone). Batches are delivered in source order.
	Next(ctx context.Context) (Batch, error)
	// Commit acknowledges every batch up to and including the one whose Pos
	// is pos. Calls are monotonic.
	Commit(ctx context.Context, pos Position) error
	// Close releases connections; no other call follows it.
	Close() error
}

// TableError is an error confined to one table (a corrupt or unreadable
// input object): the table's read ended, the source carries on with the
// other tables at the next Next call. The runner applies TableErrorPolicy
// to it. It is never a retryable read error: retrying Next does not
// repeat it.
type TableError struct {
	Schema, Table string
	Err           error
}

func (e *TableError) Error() string {
	return "table " + e.Schema + "." + e.Table + ": " + e.Err.Error()
}

func (e *TableError) Unwrap() error { return e.Err }

// Retryable reports false: the error is handled per table, not by retrying.
func (e *TableError) Retryable() bool { return false }

// TableProgress is how far a source has read one table's full load.
type TableProgress struct {
	Table      string // "schema.table"
	BytesDone  int64
	BytesTotal int64 // 0 when unknown
	Rows       int64 // rows (and rejected rows) read so far
}
