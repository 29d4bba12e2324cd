package s3csv

import (
	"errors"
	"strconv"

	"github.com/sluicedata/sluice/tabledefs"
)

// rowError is why a row could not become an event.
type rowError struct {
	reason     string
	truncation bool // a value too long for its column (DataTruncationErrorPolicy)
}

// converter turns the fields of a row into typed values. The NULL decision
// lives here, not in ParseValue: with CsvNullValue unset an unquoted empty
// field is NULL; with it set only that exact unquoted text is NULL. A quoted
// field is never NULL (`""` is the empty string), as in PostgreSQL's COPY.
type converter struct {
	t    *tabledefs.Table
	null *string
}

// fullLoadFields strips the optional leading "I" operation column DMS
// writes with IncludeOpForFullLoad, detected per row: exactly one field more
// than the table has columns, and that first field is I.
func (c *converter) fullLoadFields(fields []string) ([]string, *rowError) {
	n := len(c.t.Columns)
	switch {
	case len(fields) == n:
		return fields, nil
	case len(fields) == n+1 && fields[0] == "I":
		return fields[1:], nil
	}
	return nil, c.countError(len(fields))
}

func (c *converter) countError(got int) *rowError {
	want := len(c.t.Columns)
	what := "too few"
	if got > want {
		what = "too many"
	}
	return &rowError{reason: what + " columns: the row has " + strconv.Itoa(got) +
		" fields, table " + c.t.Owner + "." + c.t.Name + " has " + strconv.Itoa(want) + " columns"}
}

// values fills dst (one slot per column) from fields, whose count the
// caller has checked. quoted may be shorter than fields (then false).
func (c *converter) values(fields []string, quoted []bool, dst []tabledefs.Value) *rowError {
	cols := c.t.Columns
	for i := range cols {
		col := &cols[i]
		f := fields[i]
		q := i < len(quoted) && quoted[i]
		if !q && (c.null == nil && f == "" || c.null != nil && f == *c.null) {
			if !col.Nullable {
				what := "empty value"
				if c.null != nil {
					what = "NULL (" + strconv.Quote(*c.null) + ")"
				}
				return &rowError{reason: "column " + col.Name + ": " + what + " in a non-nullable column"}
			}
			dst[i] = tabledefs.Null
			continue
		}
		v, err := col.ParseValue(f)
		if err != nil {
			re := &rowError{reason: "column " + col.Name + ": " + err.Error()}
			var ve *tabledefs.ValueError
			if errors.As(err, &ve) {
				re.truncation = ve.Truncation
			}
			return re
		}
		dst[i] = v
	}
	return nil
}
