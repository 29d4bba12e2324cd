package kinesis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// Message formats (KinesisSettings.MessageFormat).
const (
	FormatJSON            = "json"             // indented over several lines, no trailing newline
	FormatJSONUnformatted = "json-unformatted" // one line terminated by "\n"
)

// Before-image column filters (BeforeImageSettings.ColumnFilter).
const (
	FilterPKOnly = "pk-only"
	FilterNonLOB = "non-lob"
	FilterAll    = "all"
)

// BeforeImageOptions are DMS's BeforeImageSettings.
type BeforeImageOptions struct {
	Enabled      bool
	FieldName    string // top-level member name, e.g. "before-image"
	ColumnFilter string // pk-only (default), non-lob, all
}

// MessageOptions are the KinesisSettings (and task settings) that shape a message.
type MessageOptions struct {
	MessageFormat               string // json (default) or json-unformatted
	IncludeTransactionDetails   bool
	IncludePartitionValue       bool
	PartitionIncludeSchemaTable bool // applied by mapping to the key; kept here for completeness
	IncludeTableAlterOperations bool
	IncludeControlDetails       bool
	IncludeNullAndEmpty         bool
	NoHexPrefix                 bool
	// UseLargeIntegerValue is accepted for compatibility; sluice always
	// renders 64-bit integers exactly (DMS uses scientific notation above
	// 16 digits unless it is set).
	UseLargeIntegerValue bool
	BeforeImage          BeforeImageOptions
	TaskID               string // partition-key-value of control records
}

// Validate reports options that cannot produce a valid message.
func (o MessageOptions) Validate() error {
	switch o.MessageFormat {
	case "", FormatJSON, FormatJSONUnformatted:
	default:
		return fmt.Errorf("MessageFormat %q: must be %q or %q", o.MessageFormat, FormatJSON, FormatJSONUnformatted)
	}
	if o.BeforeImage.Enabled {
		if o.BeforeImage.FieldName == "" {
			return errors.New("BeforeImageSettings.FieldName is required when EnableBeforeImage is true")
		}
		switch o.BeforeImage.ColumnFilter {
		case "", FilterPKOnly, FilterNonLOB, FilterAll:
		default:
			return fmt.Errorf("BeforeImageSettings.ColumnFilter %q: must be pk-only, non-lob or all", o.BeforeImage.ColumnFilter)
		}
	}
	return nil
}

// Encoder renders records as DMS messages. It keeps the transaction state
// needed for prev-transaction-id, so one Encoder serves one ordered stream
// of records and is not safe for concurrent use.
type Encoder struct {
	o      MessageOptions
	pretty bool

	curTx     string
	curTxRec  int64
	prevTx    string
	prevTxRec int64

	// Quoted column names per table (keyed by the address of the first
	// column: target tables live as long as the task), one entry hot.
	names     map[*tabledefs.Column][]string
	lastCols  *tabledefs.Column
	lastNames []string

	nowSec  int64
	nowUsec int64
	nowText []byte // cached metadata timestamp for (nowSec, nowUsec)
}

// NewEncoder returns an Encoder for the given options.
func NewEncoder(o MessageOptions) *Encoder {
	return &Encoder{o: o, pretty: o.MessageFormat != FormatJSONUnformatted}
}

// Options returns the options the encoder was built with.
func (e *Encoder) Options() MessageOptions { return e.o }

// Emits reports whether r becomes a message at all. Data records and the
// create-table/drop-table control records always do; truncate (a DDL
// operation) only with IncludeTableAlterOperations.
func (e *Encoder) Emits(r *mapping.Record) bool {
	if r.Event == nil {
		return false
	}
	switch r.Event.Op {
	case source.OpLoad, source.OpInsert, source.OpUpdate, source.OpDelete, source.OpCreateTable, source.OpDropTable:
		return true
	case source.OpTruncate:
		return e.o.IncludeTableAlterOperations
	}
	return false
}

// Append appends the message for r to dst. now is the metadata timestamp
// (the time the message is built, rendered with microseconds as DMS does).
// With MessageFormat json-unformatted the message ends with "\n".
func (e *Encoder) Append(dst []byte, r *mapping.Record, now time.Time) []byte {
	w := jw{b: dst, pretty: e.pretty}
	w.open('{')
	if r.Event.Op.IsControl() {
		w.keyQ(`"control"`)
		e.control(&w, r)
	} else {
		w.keyQ(`"data"`)
		w.open('{')
		if r.Table.Document {
			w.keyQ(`"_doc"`)
			w.open('{')
			e.columns(&w, r.Table, r.Values, false)
			w.close('}')
		} else {
			e.columns(&w, r.Table, r.Values, false)
		}
		w.close('}')
		if r.Event.Op == source.OpUpdate && e.o.BeforeImage.Enabled && r.Before != nil {
			w.key(e.o.BeforeImage.FieldName)
			w.open('{')
			e.columns(&w, r.Table, r.Before, true)
			w.close('}')
		}
	}
	w.keyQ(`"metadata"`)
	e.metadata(&w, r, now)
	w.close('}')
	if !e.pretty {
		w.b = append(w.b, '\n')
	}
	return w.b
}

func (e *Encoder) columns(w *jw, t *mapping.TargetTable, vals []tabledefs.Value, before bool) {
	cols := t.Columns
	n := min(len(cols), len(vals))
	names := e.quotedNames(cols)
	for i := 0; i < n; i++ {
		c := &cols[i]
		if before {
			if c.Type == tabledefs.TypeBlob || c.Type == tabledefs.TypeClob {
				continue // DMS never puts LOBs in a before-image
			}
			if (e.o.BeforeImage.ColumnFilter == "" || e.o.BeforeImage.ColumnFilter == FilterPKOnly) && !c.IsPK {
				continue
			}
		}
		v := vals[i]
		if v.Kind == tabledefs.KindNull && !e.o.IncludeNullAndEmpty {
			continue
		}
		w.keyQ(names[i])
		if v.Kind == tabledefs.KindString && len(t.JSONColumns) > 0 && t.IsJSON(i) {
			w.b = appendJSONDocument(w.b, v.Str)
			continue
		}
		w.b = e.appendValue(w.b, v, c)
	}
}

// appendJSONDocument embeds the JSON text of an object-mapping document
// attribute (attribute-sub-type json) as JSON, compacted so that a message
// stays on one line; text that is not valid JSON is written as a string.
func appendJSONDocument(b []byte, doc string) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		return appendString(b, doc)
	}
	return append(b, buf.Bytes()...)
}

func (e *Encoder) appendValue(b []byte, v tabledefs.Value, c *tabledefs.Column) []byte {
	switch v.Kind {
	case tabledefs.KindNull:
		return append(b, "null"...)
	case tabledefs.KindInt:
		return strconv.AppendInt(b, v.Int, 10)
	case tabledefs.KindUint:
		return strconv.AppendUint(b, uint64(v.Int), 10)
	case tabledefs.KindFloat:
		bits := 64
		if c.Type == tabledefs.TypeReal4 {
			bits = 32
		}
		return appendFloat(b, v.Float64(), bits)
	case tabledefs.KindDecimal:
		if !isJSONNumber(v.Str) {
			return appendString(b, v.Str) // never emit invalid JSON
		}
		return append(b, v.Str...)
	case tabledefs.KindBool:
		if v.Int != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case tabledefs.KindString:
		return appendString(b, v.Str)
	case tabledefs.KindBytes:
		return appendHex(b, v.Str, !e.o.NoHexPrefix)
	case tabledefs.KindDate, tabledefs.KindTime:
		b = append(b, '"')
		b = tabledefs.AppendText(b, v, c) // 2015-10-17, 06:18:32[.f per Scale]
		return append(b, '"')
	case tabledefs.KindTimestamp:
		b = append(b, '"')
		b = tabledefs.AppendTimestampISO(b, v, c.Scale) // 2023-01-16T06:18:32[.f per Scale]Z
		return append(b, '"')
	}
	return append(b, "null"...)
}

// isJSONNumber reports whether s is a JSON number (canonical decimals are).
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i == len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else {
		if s[i] < '1' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

// controlTypes is the table-def type vocabulary DMS shows in control
// records (INT32, TIMESTAMP, …) rather than its definition type names.
var controlTypes = [...]string{
	tabledefs.TypeInt1:     "INT8",
	tabledefs.TypeInt2:     "INT16",
	tabledefs.TypeInt4:     "INT32",
	tabledefs.TypeInt8:     "INT64",
	tabledefs.TypeUint1:    "UINT8",
	tabledefs.TypeUint2:    "UINT16",
	tabledefs.TypeUint4:    "UINT32",
	tabledefs.TypeUint8:    "UINT64",
	tabledefs.TypeDateTime: "TIMESTAMP",
}

func controlType(t tabledefs.Type) string {
	if int(t) < len(controlTypes) && controlTypes[t] != "" {
		return controlTypes[t]
	}
	return t.String()
}

func (e *Encoder) control(w *jw, r *mapping.Record) {
	w.open('{')
	if r.Event.Op == source.OpCreateTable && e.o.IncludeControlDetails {
		w.keyQ(`"table-def"`)
		w.open('{')
		w.keyQ(`"columns"`)
		w.open('{')
		for i := range r.Table.Columns {
			c := &r.Table.Columns[i]
			w.key(c.Name)
			w.open('{')
			w.keyQ(`"type"`)
			w.b = appendString(w.b, controlType(c.Type))
			if c.Length > 0 && (c.Type == tabledefs.TypeString || c.Type == tabledefs.TypeByte) {
				w.keyQ(`"length"`)
				w.b = strconv.AppendInt(w.b, int64(c.Length), 10)
			}
			if c.Type == tabledefs.TypeNumeric {
				w.keyQ(`"precision"`)
				w.b = strconv.AppendInt(w.b, int64(c.Precision), 10)
				w.keyQ(`"scale"`)
				w.b = strconv.AppendInt(w.b, int64(c.Scale), 10)
			}
			w.keyQ(`"nullable"`)
			w.b = strconv.AppendBool(w.b, c.Nullable)
			w.close('}')
		}
		w.close('}')
		pk := false
		for i := range r.Table.Columns {
			if r.Table.Columns[i].IsPK {
				if !pk {
					w.keyQ(`"primary-key"`)
					w.open('[')
					pk = true
				}
				w.elem()
				w.b = appendString(w.b, r.Table.Columns[i].Name)
			}
		}
		if pk {
			w.close(']')
		}
		w.close('}')
	}
	w.close('}')
}

func (e *Encoder) metadata(w *jw, r *mapping.Record, now time.Time) {
	ev := r.Event
	control := ev.Op.IsControl()
	w.open('{')
	w.keyQ(`"timestamp"`)
	w.b = append(w.b, '"')
	w.b = e.appendNow(w.b, now)
	w.b = append(w.b, '"')
	w.keyQ(`"record-type"`)
	if control {
		w.b = append(w.b, `"control"`...)
	} else {
		w.b = append(w.b, `"data"`...)
	}
	w.keyQ(`"operation"`)
	w.b = appendString(w.b, ev.Op.String())
	w.keyQ(`"partition-key-type"`)
	if control {
		w.b = append(w.b, `"task-id"`...)
		w.keyQ(`"partition-key-value"`)
		w.b = appendString(w.b, e.o.TaskID)
	} else {
		pkt := r.PartitionKeyType
		if pkt == "" {
			pkt = "schema-table"
		}
		w.b = appendString(w.b, pkt)
		if e.o.IncludePartitionValue && pkt != "schema-table" {
			w.keyQ(`"partition-key-value"`)
			w.b = appendString(w.b, r.PartitionKey)
		}
	}
	w.keyQ(`"schema-name"`)
	w.b = appendString(w.b, r.Table.Schema)
	w.keyQ(`"table-name"`)
	w.b = appendString(w.b, r.Table.Name)
	if !control && ev.Op != source.OpLoad && ev.TxID != "" {
		// Track transactions in stream order (for prev-transaction-*).
		if ev.TxID != e.curTx {
			if e.curTx != "" {
				e.prevTx, e.prevTxRec = e.curTx, e.curTxRec
			}
			e.curTx, e.curTxRec = ev.TxID, 0
		}
		e.curTxRec++
		w.keyQ(`"transaction-id"`)
		w.b = appendTxID(w.b, ev.TxID)
		if e.o.IncludeTransactionDetails {
			w.keyQ(`"transaction-record-id"`)
			w.b = strconv.AppendInt(w.b, e.curTxRec, 10)
			if e.prevTx != "" {
				w.keyQ(`"prev-transaction-id"`)
				w.b = appendTxID(w.b, e.prevTx)
				w.keyQ(`"prev-transaction-record-id"`)
				w.b = strconv.AppendInt(w.b, e.prevTxRec, 10)
			}
		}
	}
	if e.o.IncludeTransactionDetails && !control {
		if ev.Op != source.OpLoad && !ev.CommitTime.IsZero() {
			t := ev.CommitTime
			w.keyQ(`"commit-timestamp"`)
			w.b = append(w.b, '"')
			w.b = appendTimestamp(w.b, t.Unix(), int64(t.Nanosecond()/1000*1000), 6)
			w.b = append(w.b, '"')
		}
		// Full-load records carry it too (DMS documents it for CDC only):
		// rows of tables without a primary key can then be de-duplicated.
		if ev.Origin != "" {
			w.keyQ(`"stream-position"`)
			w.b = append(w.b, '"')
			w.b = appendStringBody(w.b, ev.Origin)
			w.b = append(w.b, ':')
			w.b = strconv.AppendInt(w.b, ev.Seq, 10)
			w.b = append(w.b, '"')
		}
	}
	w.close('}')
}

// appendStringBody appends s JSON-escaped without the surrounding quotes.
func appendStringBody(b []byte, s string) []byte {
	n := len(b)
	b = appendString(b, s)
	copy(b[n:], b[n+1:len(b)-1])
	return b[:len(b)-2]
}

// appendTxID renders a numeric transaction id (PostgreSQL xid, MySQL) as a
// JSON number like DMS, any other id as a string.
func appendTxID(b []byte, id string) []byte {
	if len(id) > 0 && len(id) <= 19 && (id[0] != '0' || len(id) == 1) {
		digits := true
		for i := 0; i < len(id); i++ {
			if id[i] < '0' || id[i] > '9' {
				digits = false
				break
			}
		}
		if digits {
			return append(b, id...)
		}
	}
	return appendString(b, id)
}

// appendNow renders the metadata timestamp, caching the text per microsecond.
func (e *Encoder) appendNow(b []byte, now time.Time) []byte {
	sec, usec := now.Unix(), int64(now.Nanosecond()/1000)
	if e.nowText == nil || sec != e.nowSec || usec != e.nowUsec {
		e.nowSec, e.nowUsec = sec, usec
		e.nowText = appendTimestamp(e.nowText[:0], sec, usec*1000, 6)
	}
	return append(b, e.nowText...)
}

// quotedNames returns the JSON-quoted names of cols, built once per table.
func (e *Encoder) quotedNames(cols []tabledefs.Column) []string {
	if len(cols) == 0 {
		return nil
	}
	p := &cols[0]
	if p == e.lastCols && len(e.lastNames) == len(cols) {
		return e.lastNames
	}
	names, ok := e.names[p]
	if !ok || len(names) != len(cols) {
		names = make([]string, len(cols))
		for i := range cols {
			names[i] = string(appendString(nil, cols[i].Name))
		}
		if e.names == nil {
			e.names = make(map[*tabledefs.Column][]string)
		}
		e.names[p] = names
	}
	e.lastCols, e.lastNames = p, names
	return names
}
