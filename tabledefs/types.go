package tabledefs

import "strings"

// Type is one of the 19 DMS column types allowed in an external table definition.
type Type uint8

// The DMS column types, in the order of the reference table (dms-behaviour.md §1.4).
const (
	TypeInvalid Type = iota
	TypeByte
	TypeDate
	TypeTime
	TypeDateTime
	TypeInt1
	TypeInt2
	TypeInt4
	TypeInt8
	TypeNumeric
	TypeReal4
	TypeReal8
	TypeString
	TypeUint1
	TypeUint2
	TypeUint4
	TypeUint8
	TypeBlob
	TypeClob
	TypeBoolean
)

var typeNames = [...]string{
	TypeInvalid:  "INVALID",
	TypeByte:     "BYTE",
	TypeDate:     "DATE",
	TypeTime:     "TIME",
	TypeDateTime: "DATETIME",
	TypeInt1:     "INT1",
	TypeInt2:     "INT2",
	TypeInt4:     "INT4",
	TypeInt8:     "INT8",
	TypeNumeric:  "NUMERIC",
	TypeReal4:    "REAL4",
	TypeReal8:    "REAL8",
	TypeString:   "STRING",
	TypeUint1:    "UINT1",
	TypeUint2:    "UINT2",
	TypeUint4:    "UINT4",
	TypeUint8:    "UINT8",
	TypeBlob:     "BLOB",
	TypeClob:     "CLOB",
	TypeBoolean:  "BOOLEAN",
}

// String returns the DMS spelling of the type, e.g. "INT8".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "INVALID"
}

// Types lists every valid type in reference order.
func Types() []Type {
	ts := make([]Type, 0, len(typeNames)-1)
	for t := TypeByte; t <= TypeBoolean; t++ {
		ts = append(ts, t)
	}
	return ts
}

// ParseType maps a DMS type name (case-insensitive) to its Type.
func ParseType(s string) (Type, bool) {
	for t := TypeByte; t <= TypeBoolean; t++ {
		if strings.EqualFold(typeNames[t], s) {
			return t, true
		}
	}
	return TypeInvalid, false
}

// Column is one column of a table definition, in CSV field order.
type Column struct {
	Name       string
	Type       Type
	Length     int  // STRING, BYTE: maximum length in bytes
	Precision  int  // NUMERIC
	Scale      int  // NUMERIC: digits after the point; DATETIME: fractional-second digits kept
	Nullable   bool // default false: an empty value is a row error
	IsPK       bool
	DateFormat string // one of DateFormats, or "" for ISO-like input
}

// Table is one table of an external table definition.
type Table struct {
	Name    string // TableName: "table-name" downstream
	Path    string // TablePath: prefix of the full-load objects, below BucketFolder
	Owner   string // TableOwner: the schema, "schema-name" downstream
	Columns []Column
}

// PKIndexes returns the positions of the primary-key columns in column order.
func (t *Table) PKIndexes() []int {
	var idx []int
	for i := range t.Columns {
		if t.Columns[i].IsPK {
			idx = append(idx, i)
		}
	}
	return idx
}

// ColumnIndex returns the position of the named column (case-insensitive), or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// Definition is a parsed external table definition.
type Definition struct {
	Tables []Table
}

// Lookup finds a table by schema and name, case-insensitively as DMS matches them.
func (d *Definition) Lookup(schema, table string) *Table {
	for i := range d.Tables {
		t := &d.Tables[i]
		if strings.EqualFold(t.Owner, schema) && strings.EqualFold(t.Name, table) {
			return t
		}
	}
	return nil
}
