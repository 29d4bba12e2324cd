package s3parquet

import (
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/sluicedata/sluice/mapping"
	td "github.com/sluicedata/sluice/tabledefs"
)

// opColumn is the name DMS gives the operation column in Parquet.
const opColumn = "Op"

// layout is the column layout of one kind of file of one table: the
// optional Op column first, the table's columns, the optional timestamp
// column last.
type layout struct {
	table  *mapping.TargetTable
	op     bool
	tsName string
	schema *arrow.Schema
	dec    []decSpec // per table column; prec 0 for non-decimals
	millis bool
}

type decSpec struct{ prec, scale int32 }

func newLayout(t *mapping.TargetTable, op bool, tsName string, millis bool) *layout {
	l := &layout{table: t, op: op, tsName: tsName, millis: millis, dec: make([]decSpec, len(t.Columns))}
	fields := make([]arrow.Field, 0, len(t.Columns)+2)
	if op {
		fields = append(fields, arrow.Field{Name: opColumn, Type: arrow.BinaryTypes.String})
	}
	for i, c := range t.Columns {
		typ := arrowType(c, millis)
		if d, ok := typ.(*arrow.Decimal128Type); ok {
			l.dec[i] = decSpec{d.Precision, d.Scale}
		}
		// Every column is optional in the file: DMS writes NULLs for
		// columns missing from supplemental logging even when NOT NULL.
		fields = append(fields, arrow.Field{Name: c.Name, Type: typ, Nullable: true})
	}
	if tsName != "" {
		fields = append(fields, arrow.Field{Name: tsName, Type: arrow.BinaryTypes.String})
	}
	l.schema = arrow.NewSchema(fields, nil)
	return l
}

// arrowType is the §5.4 mapping. TIME follows the timestamp unit: TIME64
// microseconds by default, TIME32 milliseconds (DMS's TIME32) with
// ParquetTimestampInMillisecond.
func arrowType(c td.Column, millis bool) arrow.DataType {
	switch c.Type {
	case td.TypeInt1:
		return arrow.PrimitiveTypes.Int8
	case td.TypeInt2:
		return arrow.PrimitiveTypes.Int16
	case td.TypeInt4:
		return arrow.PrimitiveTypes.Int32
	case td.TypeInt8:
		return arrow.PrimitiveTypes.Int64
	case td.TypeUint1:
		return arrow.PrimitiveTypes.Uint8
	case td.TypeUint2:
		return arrow.PrimitiveTypes.Uint16
	case td.TypeUint4:
		return arrow.PrimitiveTypes.Uint32
	case td.TypeUint8:
		return arrow.PrimitiveTypes.Uint64
	case td.TypeNumeric:
		prec := int32(c.Precision)
		if prec <= 0 || prec > 38 {
			prec = 38
		}
		scale := min(max(int32(c.Scale), 0), prec)
		return &arrow.Decimal128Type{Precision: prec, Scale: scale}
	case td.TypeReal4:
		return arrow.PrimitiveTypes.Float32
	case td.TypeReal8:
		return arrow.PrimitiveTypes.Float64
	case td.TypeBoolean:
		return arrow.FixedWidthTypes.Boolean
	case td.TypeByte, td.TypeBlob:
		return arrow.BinaryTypes.Binary
	case td.TypeDate:
		return arrow.FixedWidthTypes.Date32
	case td.TypeTime:
		if millis {
			return arrow.FixedWidthTypes.Time32ms
		}
		return arrow.FixedWidthTypes.Time64us
	case td.TypeDateTime:
		if millis {
			return &arrow.TimestampType{Unit: arrow.Millisecond}
		}
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
	return arrow.BinaryTypes.String // STRING, CLOB (and anything newer: as text)
}

// check validates one row before anything of it is appended, so that a
// refused row leaves the builders untouched. Decimals are parsed into dec.
func (l *layout) check(vals []td.Value, dec []decimal128.Num) error {
	cols := l.table.Columns
	if len(vals) != len(cols) {
		return fmt.Errorf("row has %d values for %d columns", len(vals), len(cols))
	}
	for i, v := range vals {
		if v.Kind == td.KindNull {
			continue
		}
		want := cols[i].Type.Kind()
		if want == td.KindNull {
			want = td.KindString
		}
		if v.Kind != want {
			return fmt.Errorf("column %s (%s): value of the wrong kind %d", cols[i].Name, cols[i].Type, v.Kind)
		}
		if want == td.KindDecimal {
			n, err := parseDecimal(v.Str, l.dec[i].prec, l.dec[i].scale)
			if err != nil {
				return fmt.Errorf("column %s: %w", cols[i].Name, err)
			}
			dec[i] = n
		}
	}
	return nil
}

// appendRow appends a checked row. It returns the row's estimated size.
func (l *layout) appendRow(rb *array.RecordBuilder, op string, vals []td.Value, dec []decimal128.Num, ts string) int {
	f := 0
	size := 8 * len(vals)
	if l.op {
		rb.Field(0).(*array.StringBuilder).Append(op)
		f = 1
	}
	for i, v := range vals {
		b := rb.Field(f + i)
		if v.Kind == td.KindNull {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int8Builder:
			b.Append(int8(v.Int))
		case *array.Int16Builder:
			b.Append(int16(v.Int))
		case *array.Int32Builder:
			b.Append(int32(v.Int))
		case *array.Int64Builder:
			b.Append(v.Int)
		case *array.Uint8Builder:
			b.Append(uint8(v.Int))
		case *array.Uint16Builder:
			b.Append(uint16(v.Int))
		case *array.Uint32Builder:
			b.Append(uint32(v.Int))
		case *array.Uint64Builder:
			b.Append(uint64(v.Int))
		case *array.Float32Builder:
			b.Append(float32(v.Float64()))
		case *array.Float64Builder:
			b.Append(v.Float64())
		case *array.BooleanBuilder:
			b.Append(v.Int != 0)
		case *array.Decimal128Builder:
			b.Append(dec[i])
			size += 8
		case *array.StringBuilder:
			b.Append(v.Str)
			size += len(v.Str)
		case *array.BinaryBuilder:
			b.AppendString(v.Str)
			size += len(v.Str)
		case *array.Date32Builder:
			b.Append(arrow.Date32(v.Int))
		case *array.Time32Builder:
			b.Append(arrow.Time32(v.Int / int64(time.Millisecond)))
		case *array.Time64Builder:
			b.Append(arrow.Time64(v.Int / int64(time.Microsecond)))
		case *array.TimestampBuilder:
			if l.millis {
				b.Append(arrow.Timestamp(v.Int*1e3 + int64(v.Nano)/1e6))
			} else {
				b.Append(arrow.Timestamp(v.Int*1e6 + int64(v.Nano)/1e3))
			}
		}
	}
	if l.tsName != "" {
		rb.Field(rb.Schema().NumFields() - 1).(*array.StringBuilder).Append(ts)
		size += len(ts)
	}
	return size
}

// sameColumns reports whether two mapped tables have the same columns, so
// that a new *TargetTable for an unchanged table keeps its open file.
func sameColumns(a, b *mapping.TargetTable) bool {
	if len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		x, y := a.Columns[i], b.Columns[i]
		if x.Name != y.Name || x.Type != y.Type || x.Precision != y.Precision || x.Scale != y.Scale {
			return false
		}
	}
	return true
}
