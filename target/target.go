// Package target declares what the task runner needs from a target endpoint.
package target

import (
	"context"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
)

// Target writes mapped records.
//
// Durability contract: Write may buffer; Flush returns only when every
// record passed to Write before it is durable at the target (Kinesis:
// acknowledged by PutRecords; Parquet: object upload completed). The runner
// acknowledges a change to its source only after every target's Flush.
type Target interface {
	Write(ctx context.Context, recs []mapping.Record) error
	Flush(ctx context.Context) error
	Close(ctx context.Context) error
}

// Rejecter receives records a target refuses (for example a Kinesis record
// above the maximum record size). The runner writes them to the exceptions
// file and counts them; the target then carries on or fails per ErrorBehavior.
type Rejecter interface {
	Reject(r source.Reject) error
}
