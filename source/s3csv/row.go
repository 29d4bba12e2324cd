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
	if c.null != nil {
		return c.valuesNullText(fields, quoted, dst, *c.null)
	}
	cols := c.t.Columns
	fields, dst = fields[:len(cols)], dst[:len(cols)] // one bounds check, not one per field
	for i := range cols {
		f := fields[i]
		if len(f) == 0 && !(i < len(quoted) && quoted[i]) {
			if !cols[i].Nullable {
				return nullError(&cols[i], false, "")
			}
			dst[i] = tabledefs.Null
			continue
		}
		v, err := cols[i].ParseValue(f)
		if err != nil {
			return parseError(&cols[i], err)
		}
		dst[i] = v
	}
	return nil
}

// valuesNullText is values when CsvNullValue is set: only that unquoted
// text is NULL. A loop of its own keeps the common one above short.
func (c *converter) valuesNullText(fields []string, quoted []bool, dst []tabledefs.Value, nullText string) *rowError {
	cols := c.t.Columns
	fields, dst = fields[:len(cols)], dst[:len(cols)]
	for i := range cols {
		f := fields[i]
		if f == nullText && !(i < len(quoted) && quoted[i]) {
			if !cols[i].Nullable {
				return nullError(&cols[i], true, nullText)
			}
			dst[i] = tabledefs.Null
			continue
		}
		v, err := cols[i].ParseValue(f)
		if err != nil {
			return parseError(&cols[i], err)
		}
		dst[i] = v
	}
	return nil
}

func nullError(col *tabledefs.Column, hasNull bool, nullText string) *rowError {
	what := "empty value"
	if hasNull {
		what = "NULL (" + strconv.Quote(nullText) + ")"
	}
	return &rowError{reason: "column " + col.Name + ": " + what + " in a non-nullable column"}
}

// parseError is the rejection of a field ParseValue refused; kept out of
// the loop above so that the loop stays small.
func parseError(col *tabledefs.Column, err error) *rowError {
	re := &rowError{reason: "column " + col.Name + ": " + err.Error()}
	var ve *tabledefs.ValueError
	if errors.As(err, &ve) {
		re.truncation = ve.Truncation
	}
	return re
}
