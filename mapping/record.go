package mapping

import (
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
}
