package mapping

import (
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// TargetTable is a table as targets see it after transformation rules:
// renamed schema, table and columns, removed and added columns, changed types.
type TargetTable struct {
	Schema  string
	Name    string
	Columns []tabledefs.Column
	Source  *tabledefs.Table // the source-side definition it came from
	// Document is set by map-record-to-document: targets write the whole
	// record as one JSON document under "_doc" when Kinesis renders it.
	Document bool
	// JSONColumns lists the indexes of Columns that hold JSON documents
	// (object-mapping attributes with attribute-sub-type json): their
	// values are KindString holding JSON text, which JSON targets embed as
	// JSON rather than as a string.
	JSONColumns []int
}

// IsJSON reports whether column i holds JSON document text.
func (t *TargetTable) IsJSON(i int) bool {
	for _, j := range t.JSONColumns {
		if j == i {
			return true
		}
	}
	return false
}

// Record is an event after mapping, ready for every target.
type Record struct {
	Event *source.Event // the source event (op, transaction details, origin)
	Table *TargetTable
	// Values and Before are in Table.Columns order.
	Values []tabledefs.Value
	Before []tabledefs.Value
	// PartitionKey is the Kinesis partition key (≤ 256 characters).
	PartitionKey     string
	PartitionKeyType string // DMS metadata "partition-key-type", e.g. "primary-key"
	// Time is the DMS metadata "timestamp": when the runner handed the
	// record to the targets, the same for every target. Zero means the
	// target's own clock.
	Time time.Time
}
