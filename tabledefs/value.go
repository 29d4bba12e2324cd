package tabledefs

import (
	"math"
	"time"
)

// Kind says how a Value's fields are to be read.
type Kind uint8

// Value kinds. Every Type parses to exactly one Kind (see Type.Kind).
const (
	KindNull      Kind = iota
	KindInt            // Int: INT1..INT8
	KindUint           // Int holds the uint64 bits: UINT1..UINT8
	KindFloat          // Int holds the float64 bits: REAL4, REAL8
	KindDecimal        // Str: canonical decimal text with exactly Scale fraction digits, e.g. "-12.50"
	KindBool           // Int: 0 or 1
	KindString         // Str: STRING, CLOB
	KindBytes          // Str: raw bytes of BYTE, BLOB (decoded from hex)
	KindDate           // Int: days since 1970-01-01
	KindTime           // Int: nanoseconds since midnight
	KindTimestamp      // Int: seconds since 1970-01-01 UTC; Nano: nanoseconds within the second
)

// Value is one typed column value. It is a small struct passed by value so
// that parsing a row allocates nothing beyond the strings it must keep.
type Value struct {
	Kind Kind
	Nano int32
	Int  int64
	Str  string
}

// Null is the NULL value.
var Null = Value{}

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Int64 returns the value of a KindInt, KindBool, KindDate or KindTime value.
func (v Value) Int64() int64 { return v.Int }

// Uint64 returns the value of a KindUint value.
func (v Value) Uint64() uint64 { return uint64(v.Int) }

// Float64 returns the value of a KindFloat value.
func (v Value) Float64() float64 { return math.Float64frombits(uint64(v.Int)) }

// Bool returns the value of a KindBool value.
func (v Value) Bool() bool { return v.Int != 0 }

// Time returns a KindTimestamp value as UTC time, or a KindDate value as midnight UTC.
func (v Value) Time() time.Time {
	if v.Kind == KindDate {
		return time.Unix(v.Int*86400, 0).UTC()
	}
	return time.Unix(v.Int, int64(v.Nano)).UTC()
}

// IntValue makes a KindInt value.
func IntValue(i int64) Value { return Value{Kind: KindInt, Int: i} }

// UintValue makes a KindUint value.
func UintValue(u uint64) Value { return Value{Kind: KindUint, Int: int64(u)} }

// FloatValue makes a KindFloat value.
func FloatValue(f float64) Value { return Value{Kind: KindFloat, Int: int64(math.Float64bits(f))} }

// BoolValue makes a KindBool value.
func BoolValue(b bool) Value {
	if b {
		return Value{Kind: KindBool, Int: 1}
	}
	return Value{Kind: KindBool}
}

// StringValue makes a KindString value.
func StringValue(s string) Value { return Value{Kind: KindString, Str: s} }

// BytesValue makes a KindBytes value holding raw bytes.
func BytesValue(b string) Value { return Value{Kind: KindBytes, Str: b} }

// DecimalValue makes a KindDecimal value from canonical decimal text.
func DecimalValue(s string) Value { return Value{Kind: KindDecimal, Str: s} }

// DateValue makes a KindDate value from days since the Unix epoch.
func DateValue(days int64) Value { return Value{Kind: KindDate, Int: days} }

// TimeValue makes a KindTime value from nanoseconds since midnight.
func TimeValue(nanos int64) Value { return Value{Kind: KindTime, Int: nanos} }

// TimestampValue makes a KindTimestamp value.
func TimestampValue(t time.Time) Value {
	return Value{Kind: KindTimestamp, Int: t.Unix(), Nano: int32(t.Nanosecond())}
}

// Kind returns the Kind values of this type parse to.
func (t Type) Kind() Kind {
	switch t {
	case TypeInt1, TypeInt2, TypeInt4, TypeInt8:
		return KindInt
	case TypeUint1, TypeUint2, TypeUint4, TypeUint8:
		return KindUint
	case TypeReal4, TypeReal8:
		return KindFloat
	case TypeNumeric:
		return KindDecimal
	case TypeBoolean:
		return KindBool
	case TypeString, TypeClob:
		return KindString
	case TypeByte, TypeBlob:
		return KindBytes
	case TypeDate:
		return KindDate
	case TypeTime:
		return KindTime
	case TypeDateTime:
		return KindTimestamp
	}
	return KindNull
}
