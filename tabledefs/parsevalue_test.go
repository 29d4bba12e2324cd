package tabledefs

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

func col(t Type) *Column { return &Column{Name: "c", Type: t} }

func numeric(p, s int) *Column { return &Column{Name: "c", Type: TypeNumeric, Precision: p, Scale: s} }

func withLength(t Type, n int) *Column { return &Column{Name: "c", Type: t, Length: n} }

func temporal(t Type, scale int, format string) *Column {
	return &Column{Name: "c", Type: t, Scale: scale, DateFormat: format}
}

func ts(s string) Value {
	tm, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	if err != nil {
		panic(err)
	}
	return TimestampValue(tm)
}

func date(s string) Value {
	tm, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return DateValue(tm.Unix() / 86400)
}

func clock(s string) Value {
	tm, err := time.Parse("15:04:05.999999999", s)
	if err != nil {
		panic(err)
	}
	return TimeValue(int64(tm.Hour())*int64(time.Hour) + int64(tm.Minute())*int64(time.Minute) +
		int64(tm.Second())*int64(time.Second) + int64(tm.Nanosecond()))
}

type valueCase struct {
	col   *Column
	in    string
	want  Value
	err   string // full Error() text; "" for success
	trunc bool
}

func runValueCases(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := tc.col.ParseValue(tc.in)
		name := tc.col.Type.String() + "/" + tc.in
		if tc.err == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", name, err)
				continue
			}
			if got != tc.want {
				t.Errorf("%s: got %+v, want %+v", name, got, tc.want)
			}
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) {
			t.Errorf("%s: got %v, %v; want ValueError %q", name, got, err, tc.err)
			continue
		}
		if ve.Error() != tc.err {
			t.Errorf("%s: error\n got %s\nwant %s", name, ve.Error(), tc.err)
		}
		if ve.Truncation != tc.trunc {
			t.Errorf("%s: Truncation = %v, want %v", name, ve.Truncation, tc.trunc)
		}
		if ve.Type != tc.col.Type || ve.Text != tc.in {
			t.Errorf("%s: error carries %s %q", name, ve.Type, ve.Text)
		}
	}
}

func TestParseValueIntegers(t *testing.T) {
	runValueCases(t, []valueCase{
		{col: col(TypeInt1), in: "127", want: IntValue(127)},
		{col: col(TypeInt1), in: "-128", want: IntValue(-128)},
		{col: col(TypeInt1), in: "128", err: `"128" is not a valid INT1: out of range -128 to 127`},
		{col: col(TypeInt1), in: "-129", err: `"-129" is not a valid INT1: out of range -128 to 127`},
		{col: col(TypeInt2), in: "32767", want: IntValue(32767)},
		{col: col(TypeInt2), in: "-32768", want: IntValue(-32768)},
		{col: col(TypeInt2), in: "32768", err: `"32768" is not a valid INT2: out of range -32768 to 32767`},
		{col: col(TypeInt4), in: "2147483647", want: IntValue(math.MaxInt32)},
		{col: col(TypeInt4), in: "-2147483648", want: IntValue(math.MinInt32)},
		{col: col(TypeInt4), in: "2147483648", err: `"2147483648" is not a valid INT4: out of range -2147483648 to 2147483647`},
		{col: col(TypeInt4), in: "+0042", want: IntValue(42)},
		{col: col(TypeInt4), in: "-0", want: IntValue(0)},
		{col: col(TypeInt4), in: "12x", err: `"12x" is not a valid INT4: unexpected character 'x'`},
		{col: col(TypeInt4), in: " 12", err: `" 12" is not a valid INT4: unexpected character ' '`},
		{col: col(TypeInt4), in: "1.0", err: `"1.0" is not a valid INT4: unexpected character '.'`},
		{col: col(TypeInt4), in: "1e3", err: `"1e3" is not a valid INT4: unexpected character 'e'`},
		{col: col(TypeInt4), in: "", err: `"" is not a valid INT4: empty value`},
		{col: col(TypeInt4), in: "-", err: `"-" is not a valid INT4: no digits`},
		{col: col(TypeInt4), in: "١٢", err: `"١٢" is not a valid INT4: unexpected character '١'`},
		{col: col(TypeInt8), in: "9223372036854775807", want: IntValue(math.MaxInt64)},
		{col: col(TypeInt8), in: "-9223372036854775808", want: IntValue(math.MinInt64)},
		{col: col(TypeInt8), in: "9223372036854775808", err: `"9223372036854775808" is not a valid INT8: out of range -9223372036854775808 to 9223372036854775807`},
		{col: col(TypeInt8), in: "-9223372036854775809", err: `"-9223372036854775809" is not a valid INT8: out of range -9223372036854775808 to 9223372036854775807`},
		{col: col(TypeInt8), in: "99999999999999999999999", err: `"99999999999999999999999" is not a valid INT8: out of range -9223372036854775808 to 9223372036854775807`},
		{col: col(TypeInt8), in: "99999999999999999999999x", err: `"99999999999999999999999x" is not a valid INT8: unexpected character 'x'`},
		{col: col(TypeUint1), in: "255", want: UintValue(255)},
		{col: col(TypeUint1), in: "256", err: `"256" is not a valid UINT1: out of range 0 to 255`},
		{col: col(TypeUint1), in: "-1", err: `"-1" is not a valid UINT1: out of range 0 to 255`},
		{col: col(TypeUint1), in: "-0", want: UintValue(0)},
		{col: col(TypeUint2), in: "65535", want: UintValue(65535)},
		{col: col(TypeUint2), in: "65536", err: `"65536" is not a valid UINT2: out of range 0 to 65535`},
		{col: col(TypeUint4), in: "4294967295", want: UintValue(math.MaxUint32)},
		{col: col(TypeUint4), in: "4294967296", err: `"4294967296" is not a valid UINT4: out of range 0 to 4294967295`},
		{col: col(TypeUint8), in: "18446744073709551615", want: UintValue(math.MaxUint64)},
		{col: col(TypeUint8), in: "+18446744073709551615", want: UintValue(math.MaxUint64)},
		{col: col(TypeUint8), in: "18446744073709551616", err: `"18446744073709551616" is not a valid UINT8: out of range 0 to 18446744073709551615`},
		{col: col(TypeUint8), in: "9223372036854775808", want: UintValue(1 << 63)},
	})
	if v, _ := col(TypeUint8).ParseValue("18446744073709551615"); v.Uint64() != math.MaxUint64 || v.Kind != KindUint {
		t.Errorf("UINT8 max lost bits: %+v", v)
	}
}

func TestParseValueNumeric(t *testing.T) {
	max38 := strings.Repeat("9", 38)
	runValueCases(t, []valueCase{
		{col: numeric(5, 2), in: "123.45", want: DecimalValue("123.45")},
		{col: numeric(5, 2), in: "-123.45", want: DecimalValue("-123.45")},
		{col: numeric(5, 2), in: "+123.45", want: DecimalValue("123.45")},
		{col: numeric(5, 2), in: "007.5", want: DecimalValue("7.50")},
		{col: numeric(5, 2), in: "-007.5", want: DecimalValue("-7.50")},
		{col: numeric(5, 2), in: ".5", want: DecimalValue("0.50")},
		{col: numeric(5, 2), in: "-.5", want: DecimalValue("-0.50")},
		{col: numeric(5, 2), in: "5.", want: DecimalValue("5.00")},
		{col: numeric(5, 2), in: "5", want: DecimalValue("5.00")},
		{col: numeric(5, 2), in: "0", want: DecimalValue("0.00")},
		{col: numeric(5, 2), in: "-0.00", want: DecimalValue("0.00")},
		{col: numeric(5, 2), in: "-000", want: DecimalValue("0.00")},
		{col: numeric(5, 2), in: "1.2300", want: DecimalValue("1.23")},
		{col: numeric(5, 2), in: "1.234", err: `"1.234" would be truncated as NUMERIC: more than 2 fraction digits`, trunc: true},
		{col: numeric(5, 2), in: "1234.5", err: `"1234.5" is not a valid NUMERIC: 4 integer digits exceed the 3 of NUMERIC(5,2)`},
		{col: numeric(5, 2), in: "0001.5", want: DecimalValue("1.50")},
		{col: numeric(5, 2), in: "1e5", err: `"1e5" is not a valid NUMERIC: unexpected character 'e'`},
		{col: numeric(5, 2), in: "1,5", err: `"1,5" is not a valid NUMERIC: unexpected character ','`},
		{col: numeric(5, 2), in: ".", err: `"." is not a valid NUMERIC: no digits`},
		{col: numeric(5, 2), in: "-", err: `"-" is not a valid NUMERIC: no digits`},
		{col: numeric(5, 2), in: "", err: `"" is not a valid NUMERIC: empty value`},
		{col: numeric(5, 2), in: "1.2.3", err: `"1.2.3" is not a valid NUMERIC: unexpected character '.'`},
		{col: numeric(5, 0), in: "12345", want: DecimalValue("12345")},
		{col: numeric(5, 0), in: "12345.000", want: DecimalValue("12345")},
		{col: numeric(5, 0), in: "-5.", want: DecimalValue("-5")},
		{col: numeric(5, 0), in: "123456", err: `"123456" is not a valid NUMERIC: 6 integer digits exceed the 5 of NUMERIC(5,0)`},
		{col: numeric(5, 5), in: "0.12345", want: DecimalValue("0.12345")},
		{col: numeric(5, 5), in: "1.5", err: `"1.5" is not a valid NUMERIC: 1 integer digits exceed the 0 of NUMERIC(5,5)`},
		{col: numeric(38, 0), in: max38, want: DecimalValue(max38)},
		{col: numeric(38, 0), in: "-" + max38, want: DecimalValue("-" + max38)},
		{col: numeric(38, 0), in: "1" + max38, err: `"1` + max38 + `" is not a valid NUMERIC: 39 integer digits exceed the 38 of NUMERIC(38,0)`},
		{col: numeric(38, 31), in: "1234567." + strings.Repeat("7", 31), want: DecimalValue("1234567." + strings.Repeat("7", 31))},
		{col: numeric(38, 31), in: "12345678.1", err: `"12345678.1" is not a valid NUMERIC: 8 integer digits exceed the 7 of NUMERIC(38,31)`},
		{col: numeric(0, 2), in: "123456789012345678901234567890123456789012", want: DecimalValue("123456789012345678901234567890123456789012.00")},
	})
}

func TestParseValueNumericNoAllocWhenCanonical(t *testing.T) {
	c := numeric(10, 2)
	for _, in := range []string{"123.45", "-123.45", "+123.45", "00123.45", "123.4500", "-0.50", "0.00"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := c.ParseValue(in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations, want 0", in, allocs)
		}
	}
}

func TestParseValueFloatBoolString(t *testing.T) {
	runValueCases(t, []valueCase{
		{col: col(TypeReal8), in: "0.1", want: FloatValue(0.1)},
		{col: col(TypeReal8), in: "-1.5e300", want: FloatValue(-1.5e300)},
		{col: col(TypeReal8), in: "1e400", err: `"1e400" is not a valid REAL8: out of range`},
		{col: col(TypeReal8), in: "abc", err: `"abc" is not a valid REAL8: not a number`},
		{col: col(TypeReal8), in: "", err: `"" is not a valid REAL8: empty value`},
		{col: col(TypeReal4), in: "0.1", want: FloatValue(float64(float32(0.1)))},
		{col: col(TypeReal4), in: "3.4028235e38", want: FloatValue(math.MaxFloat32)},
		{col: col(TypeReal4), in: "1e39", err: `"1e39" is not a valid REAL4: out of range`},
		{col: col(TypeBoolean), in: "true", want: BoolValue(true)},
		{col: col(TypeBoolean), in: "TRUE", want: BoolValue(true)},
		{col: col(TypeBoolean), in: "t", want: BoolValue(true)},
		{col: col(TypeBoolean), in: "1", want: BoolValue(true)},
		{col: col(TypeBoolean), in: "Y", want: BoolValue(true)},
		{col: col(TypeBoolean), in: "Yes", want: BoolValue(true)},
		{col: col(TypeBoolean), in: "False", want: BoolValue(false)},
		{col: col(TypeBoolean), in: "F", want: BoolValue(false)},
		{col: col(TypeBoolean), in: "0", want: BoolValue(false)},
		{col: col(TypeBoolean), in: "n", want: BoolValue(false)},
		{col: col(TypeBoolean), in: "NO", want: BoolValue(false)},
		{col: col(TypeBoolean), in: "2", err: `"2" is not a valid BOOLEAN: expected true/false, t/f, 1/0, y/n or yes/no`},
		{col: col(TypeBoolean), in: "truex", err: `"truex" is not a valid BOOLEAN: expected true/false, t/f, 1/0, y/n or yes/no`},
		{col: col(TypeBoolean), in: "", err: `"" is not a valid BOOLEAN: expected true/false, t/f, 1/0, y/n or yes/no`},
		{col: withLength(TypeString, 5), in: "héllo"[:5], want: StringValue("héll")},
		{col: withLength(TypeString, 5), in: "hello", want: StringValue("hello")},
		{col: withLength(TypeString, 5), in: "", want: StringValue("")},
		{col: withLength(TypeString, 5), in: "héllo", err: `"héllo" would be truncated as STRING: 6 bytes exceed ColumnLength 5`, trunc: true},
		{col: withLength(TypeString, 5), in: "a\xffb", err: `"a\xffb" is not a valid STRING: invalid UTF-8`},
		{col: col(TypeClob), in: strings.Repeat("x", 100000), want: StringValue(strings.Repeat("x", 100000))},
	})
	long := strings.Repeat("é", 50)
	_, err := withLength(TypeString, 10).ParseValue(long)
	if want := `"` + strings.Repeat("é", 32) + `"... would be truncated as STRING: 100 bytes exceed ColumnLength 10`; err == nil || err.Error() != want {
		t.Errorf("long text error:\n got %v\nwant %s", err, want)
	}
	s := "shared"
	v, _ := withLength(TypeString, 10).ParseValue(s)
	if v.Str != s || unsafe.StringData(v.Str) != unsafe.StringData(s) {
		t.Errorf("STRING did not return its input")
	}
}

func TestParseValueBytes(t *testing.T) {
	runValueCases(t, []valueCase{
		{col: withLength(TypeByte, 4), in: "DEADbeef", want: BytesValue("\xde\xad\xbe\xef")},
		{col: withLength(TypeByte, 4), in: "0xDEADBEEF", want: BytesValue("\xde\xad\xbe\xef")},
		{col: withLength(TypeByte, 4), in: "0X00ff", want: BytesValue("\x00\xff")},
		{col: withLength(TypeByte, 4), in: "", want: BytesValue("")},
		{col: withLength(TypeByte, 4), in: "0x", want: BytesValue("")},
		{col: withLength(TypeByte, 4), in: "ABC", err: `"ABC" is not a valid BYTE: odd number of hex digits`},
		{col: withLength(TypeByte, 4), in: "0xZZ", err: `"0xZZ" is not a valid BYTE: unexpected character 'Z'`},
		{col: withLength(TypeByte, 4), in: "0102030405", err: `"0102030405" would be truncated as BYTE: 5 bytes exceed ColumnLength 4`, trunc: true},
		{col: col(TypeBlob), in: strings.Repeat("ab", 5000), want: BytesValue(strings.Repeat("\xab", 5000))},
		{col: col(TypeBlob), in: "x0", err: `"x0" is not a valid BLOB: unexpected character 'x'`},
	})
}

func TestParseValueTemporal(t *testing.T) {
	const (
		dashF    = "YYYY-MM-dd HH:mm:ss.F"
		dash     = "YYYY-MM-dd HH:mm:ss"
		slash    = "YYYY/MM/dd HH:mm:ss"
		slashF   = "YYYY/MM/dd HH:mm:ss.F"
		mdy      = "MM/dd/YYYY HH:mm:ss"
		mdyF     = "MM/dd/YYYY HH:mm:ss.F"
		compact  = "YYYYMMdd HH:mm:ss"
		compactF = "YYYYMMdd HH:mm:ss.F"
	)
	iso := "expected YYYY-MM-DD, YYYY-MM-DD HH:MM:SS[.f] or YYYY-MM-DDTHH:MM:SS[.f][Z]"
	runValueCases(t, []valueCase{
		// DATE
		{col: col(TypeDate), in: "2024-02-29", want: date("2024-02-29")},
		{col: col(TypeDate), in: "1970-01-01", want: DateValue(0)},
		{col: col(TypeDate), in: "1969-12-31", want: DateValue(-1)},
		{col: col(TypeDate), in: "0001-01-01", want: date("0001-01-01")},
		{col: col(TypeDate), in: "9999-12-31", want: date("9999-12-31")},
		{col: col(TypeDate), in: "2000-02-29", want: date("2000-02-29")},
		{col: col(TypeDate), in: "2024-01-02 00:00:00", want: date("2024-01-02")},
		{col: col(TypeDate), in: "2024-01-02T00:00:00.000Z", want: date("2024-01-02")},
		{col: col(TypeDate), in: "2023-02-29", err: `"2023-02-29" is not a valid DATE: day out of range for the month`},
		{col: col(TypeDate), in: "1900-02-29", err: `"1900-02-29" is not a valid DATE: day out of range for the month`},
		{col: col(TypeDate), in: "2023-02-30", err: `"2023-02-30" is not a valid DATE: day out of range for the month`},
		{col: col(TypeDate), in: "2023-04-31", err: `"2023-04-31" is not a valid DATE: day out of range for the month`},
		{col: col(TypeDate), in: "2023-13-01", err: `"2023-13-01" is not a valid DATE: month out of range 01-12`},
		{col: col(TypeDate), in: "2023-00-01", err: `"2023-00-01" is not a valid DATE: month out of range 01-12`},
		{col: col(TypeDate), in: "2023-01-00", err: `"2023-01-00" is not a valid DATE: day out of range for the month`},
		{col: col(TypeDate), in: "0000-01-01", err: `"0000-01-01" is not a valid DATE: year out of range 0001-9999`},
		{col: col(TypeDate), in: "2023-1-01", err: `"2023-1-01" is not a valid DATE: ` + iso},
		{col: col(TypeDate), in: "2023/01/01", err: `"2023/01/01" is not a valid DATE: ` + iso},
		{col: col(TypeDate), in: "", err: `"" is not a valid DATE: empty value`},
		{col: col(TypeDate), in: "2024-01-02 10:00:00", err: `"2024-01-02 10:00:00" would be truncated as DATE: the time of day would be dropped`, trunc: true},
		{col: temporal(TypeDate, 0, slash), in: "2024/03/04", want: date("2024-03-04")},
		{col: temporal(TypeDate, 0, slash), in: "2024/03/04 00:00:00", want: date("2024-03-04")},
		{col: temporal(TypeDate, 0, mdy), in: "03/04/2024", want: date("2024-03-04")},
		{col: temporal(TypeDate, 0, compact), in: "20240304", want: date("2024-03-04")},
		{col: temporal(TypeDate, 0, slash), in: "2024-03-04", err: `"2024-03-04" is not a valid DATE: does not match ColumnDateFormat YYYY/MM/dd HH:mm:ss`},
		{col: &Column{Type: TypeDate, DateFormat: "bogus"}, in: "2024-03-04", err: `"2024-03-04" is not a valid DATE: unknown ColumnDateFormat`},

		// DATETIME without format
		{col: col(TypeDateTime), in: "2024-03-04 05:06:07", want: ts("2024-03-04 05:06:07")},
		{col: col(TypeDateTime), in: "2024-03-04T05:06:07Z", want: ts("2024-03-04 05:06:07")},
		{col: col(TypeDateTime), in: "2024-03-04 05:06:07Z", want: ts("2024-03-04 05:06:07")},
		{col: col(TypeDateTime), in: "2024-03-04", want: ts("2024-03-04 00:00:00")},
		{col: col(TypeDateTime), in: "2024-03-04 05:06:07.999", want: ts("2024-03-04 05:06:07")},
		{col: temporal(TypeDateTime, 3, ""), in: "2024-03-04 05:06:07.123456", want: ts("2024-03-04 05:06:07.123")},
		{col: temporal(TypeDateTime, 3, ""), in: "2024-03-04 05:06:07.1", want: ts("2024-03-04 05:06:07.1")},
		{col: temporal(TypeDateTime, 9, ""), in: "2024-03-04T05:06:07.123456789Z", want: ts("2024-03-04 05:06:07.123456789")},
		{col: temporal(TypeDateTime, 9, ""), in: "2024-03-04T05:06:07.1234567891234Z", want: ts("2024-03-04 05:06:07.123456789")},
		{col: temporal(TypeDateTime, 6, ""), in: "1969-12-31 23:59:59.5", want: ts("1969-12-31 23:59:59.5")},
		{col: temporal(TypeDateTime, 6, ""), in: "0001-01-01 00:00:00", want: ts("0001-01-01 00:00:00")},
		{col: temporal(TypeDateTime, 6, ""), in: "9999-12-31 23:59:59.999999", want: ts("9999-12-31 23:59:59.999999")},
		{col: col(TypeDateTime), in: "2024-03-04 24:00:00", err: `"2024-03-04 24:00:00" is not a valid DATETIME: hour out of range 00-23`},
		{col: col(TypeDateTime), in: "2024-03-04 23:60:00", err: `"2024-03-04 23:60:00" is not a valid DATETIME: minute out of range 00-59`},
		{col: col(TypeDateTime), in: "2016-12-31 23:59:60", err: `"2016-12-31 23:59:60" is not a valid DATETIME: second out of range 00-59`},
		{col: col(TypeDateTime), in: "2024-03-04 05:06:07.", err: `"2024-03-04 05:06:07." is not a valid DATETIME: no digits after the decimal point`},
		{col: col(TypeDateTime), in: "2024-03-04 05:06:07+01:00", err: `"2024-03-04 05:06:07+01:00" is not a valid DATETIME: ` + iso},
		{col: col(TypeDateTime), in: "2024-03-04 05:06", err: `"2024-03-04 05:06" is not a valid DATETIME: ` + iso},
		{col: col(TypeDateTime), in: "2024-03-04  05:06:07", err: `"2024-03-04  05:06:07" is not a valid DATETIME: ` + iso},
		{col: col(TypeDateTime), in: "2024-03-04 05:06:07ZZ", err: `"2024-03-04 05:06:07ZZ" is not a valid DATETIME: ` + iso},

		// DATETIME with each format
		{col: temporal(TypeDateTime, 3, dashF), in: "2024-03-04 05:06:07.891", want: ts("2024-03-04 05:06:07.891")},
		{col: temporal(TypeDateTime, 3, dashF), in: "2024-03-04 05:06:07", want: ts("2024-03-04 05:06:07")},
		{col: temporal(TypeDateTime, 3, dash), in: "2024-03-04 05:06:07", want: ts("2024-03-04 05:06:07")},
		{col: temporal(TypeDateTime, 3, dash), in: "2024-03-04 05:06:07.5", err: `"2024-03-04 05:06:07.5" is not a valid DATETIME: does not match ColumnDateFormat YYYY-MM-dd HH:mm:ss`},
		{col: temporal(TypeDateTime, 3, dash), in: "2024-03-04T05:06:07", err: `"2024-03-04T05:06:07" is not a valid DATETIME: does not match ColumnDateFormat YYYY-MM-dd HH:mm:ss`},
		{col: temporal(TypeDateTime, 0, slash), in: "2024/03/04 05:06:07", want: ts("2024-03-04 05:06:07")},
		{col: temporal(TypeDateTime, 2, slashF), in: "2024/03/04 05:06:07.129", want: ts("2024-03-04 05:06:07.12")},
		{col: temporal(TypeDateTime, 0, mdy), in: "03/04/2024 05:06:07", want: ts("2024-03-04 05:06:07")},
		{col: temporal(TypeDateTime, 0, mdy), in: "02/29/2023 05:06:07", err: `"02/29/2023 05:06:07" is not a valid DATETIME: day out of range for the month`},
		{col: temporal(TypeDateTime, 0, mdy), in: "3/4/2024 05:06:07", err: `"3/4/2024 05:06:07" is not a valid DATETIME: does not match ColumnDateFormat MM/dd/YYYY HH:mm:ss`},
		{col: temporal(TypeDateTime, 6, mdyF), in: "12/31/1999 23:59:59.999999", want: ts("1999-12-31 23:59:59.999999")},
		{col: temporal(TypeDateTime, 0, compact), in: "20240304 05:06:07", want: ts("2024-03-04 05:06:07")},
		{col: temporal(TypeDateTime, 9, compactF), in: "20240304 05:06:07.000000001", want: ts("2024-03-04 05:06:07.000000001")},
		{col: temporal(TypeDateTime, 9, compactF), in: "2024030405:06:07", err: `"2024030405:06:07" is not a valid DATETIME: does not match ColumnDateFormat YYYYMMdd HH:mm:ss.F`},

		// TIME
		{col: col(TypeTime), in: "00:00:00", want: TimeValue(0)},
		{col: col(TypeTime), in: "23:59:59", want: clock("23:59:59")},
		{col: col(TypeTime), in: "12:34:56.789", want: clock("12:34:56")},
		{col: temporal(TypeTime, 3, ""), in: "12:34:56.789999", want: clock("12:34:56.789")},
		{col: temporal(TypeTime, 3, ""), in: "2024-03-04T12:34:56.789Z", want: clock("12:34:56.789")},
		{col: col(TypeTime), in: "24:00:00", err: `"24:00:00" is not a valid TIME: hour out of range 00-23`},
		{col: col(TypeTime), in: "12:34", err: `"12:34" is not a valid TIME: ` + iso},
		{col: col(TypeTime), in: "2024-03-04", err: `"2024-03-04" is not a valid TIME: no time of day`},
		{col: temporal(TypeTime, 0, mdy), in: "03/04/2024 05:06:07", want: clock("05:06:07")},
		{col: temporal(TypeTime, 0, mdy), in: "05:06:07", want: clock("05:06:07")},
		{col: temporal(TypeTime, 0, mdy), in: "05:06:07.5", err: `"05:06:07.5" is not a valid TIME: does not match ColumnDateFormat MM/dd/YYYY HH:mm:ss`},
		{col: temporal(TypeTime, 1, mdyF), in: "05:06:07.56", want: clock("05:06:07.5")},
	})
}

func TestParseValueInvalidType(t *testing.T) {
	_, err := (&Column{Name: "c"}).ParseValue("1")
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Reason != "the column has no valid type" {
		t.Errorf("got %v", err)
	}
}

// TestParseValueZeroAlloc pins the allocation promise of the package doc.
func TestParseValueZeroAlloc(t *testing.T) {
	for _, bc := range benchCases {
		want := 0.0
		if bc.col.Type == TypeByte || bc.col.Type == TypeBlob {
			want = 1
		}
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := bc.col.ParseValue(bc.in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != want {
			t.Errorf("%s %q: %v allocations, want %v", bc.col.Type, bc.in, allocs, want)
		}
	}
}

// checkFloat64 fails unless parseFloat64 agrees bit for bit with
// strconv.ParseFloat whenever it claims a result, and claims one for the
// plain decimals that strconv parses without error.
func checkFloat64(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseFloat(s, 64)
	got, ok := parseFloat64(s)
	if ok && (err != nil || math.Float64bits(got) != math.Float64bits(want)) {
		t.Fatalf("parseFloat64(%q) = %v (%#x), strconv: %v (%#x), %v", s, got, math.Float64bits(got), want, math.Float64bits(want), err)
	}
}

func TestParseFloat64AgreesWithStrconv(t *testing.T) {
	fixed := []string{"0", "-0", "+0", "0.0", "-0.0", ".5", "5.", "-.5e1", "1e308", "1.7976931348623157e308",
		"1.7976931348623159e308", "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "1e-400",
		"0e-400", "0e9999", "9007199254740993", "9007199254740992.5", "1e23", "8.41e21", "123456789012345678",
		"1234567890123456789", "12345678901234567890", "0.000000000000000000000123", "00000000000000000000000001",
		"1e", "1e+", "e5", ".", "-", "+.e1", "1_0", "0x1p3", "inf", "NaN", "1.5E-3", "1.5e-0003", "1e00001",
		"7.038531e-26", "9.999999999999999e22", "1e22", "1e-22", "4503599627370497.5", "-2.718281828459045e-10"}
	for _, s := range fixed {
		checkFloat64(t, s)
	}
	for _, s := range []string{"1234.5678901234567", "-0.12345678901234567", "1e22", "1.5", "-2.718281828459045e-10"} {
		if _, ok := parseFloat64(s); !ok {
			t.Errorf("parseFloat64(%q) fell back to strconv", s)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for range 10_000 { // benchmark-like values must not need strconv
		if _, ok := parseFloat64(strconv.FormatFloat(rng.NormFloat64()*1000, 'g', -1, 64)); ok {
			fast++
		}
	}
	if fast < 9_990 {
		t.Errorf("only %d of 10000 typical values took the fast path", fast)
	}
	n := 300_000
	if testing.Short() {
		n = 30_000
	}
	for range n {
		var s string
		switch rng.IntN(4) {
		case 0: // what ftoa writes: shortest round-trip text
			f := math.Float64frombits(rng.Uint64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			s = strconv.FormatFloat(f, "egf"[rng.IntN(3)], -1, 64)
		case 1: // normal-distributed values, as in the benchmark file
			s = strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)), 'g', -1, 64)
		case 2: // random digits and exponents, including halfway cases' neighbours
			digits := strings.Repeat("0", rng.IntN(3)*rng.IntN(12)) + strconv.FormatUint(rng.Uint64()>>rng.IntN(64), 10)
			if p := rng.IntN(len(digits) + 2); p <= len(digits) {
				digits = digits[:p] + "." + digits[p:]
			}
			s = digits
			if rng.IntN(3) > 0 {
				s += "eE"[rng.IntN(2):][:1] + strconv.Itoa(rng.IntN(700)-350)
			}
		default: // exact halfway points between float64s, and their neighbours
			f := math.Float64frombits(rng.Uint64() >> 2)
			m, e := math.Frexp(f)
			half := new(big.Float).SetPrec(200).SetMantExp(new(big.Float).SetFloat64(m), e)
			half.Add(half, new(big.Float).SetMantExp(big.NewFloat(1), e-54))
			s = half.Text('e', 40)
			if rng.IntN(2) == 0 {
				s = half.Text('g', 19)
			}
		}
		checkFloat64(t, s)
	}
}

func TestDaysFromYMDMatchesCivil(t *testing.T) {
	for y := 1; y <= 9999; y++ {
		for m := 1; m <= 12; m++ {
			for d := 1; d <= daysIn(y, m); d++ {
				if got, want := daysFromYMD(y, m, d), daysFromCivil(y, m, d); got != want {
					t.Fatalf("%04d-%02d-%02d: %d, want %d", y, m, d, got, want)
				}
			}
		}
	}
}

func TestValidUTF8(t *testing.T) {
	cases := []string{"", "a", "abcdefg", "abcdefgh", "abcdefghi", "héllo", "abcdefgh\xff", "\xffabcdefgh",
		"abcdefghijklmnop\xc3", "abcdefghijklmno\xc3\xa9", "abcdefg\xe2\x82", "日本語のテキストです", "\xed\xa0\x80abcdefgh"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
			if rng.IntN(30) == 0 {
				b[i] = byte(rng.IntN(256))
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := validUTF8(s), utf8.ValidString(s); got != want {
			t.Fatalf("validUTF8(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseBoolMatchesEqualFold(t *testing.T) {
	words := map[string]bool{"true": true, "false": false, "yes": true, "no": false}
	var buf []byte
	for w := range words {
		for mask := 0; mask < 1<<len(w); mask++ {
			buf = []byte(w)
			for i := range buf {
				if mask>>i&1 == 1 {
					buf[i] -= 'a' - 'A'
				}
			}
			if v, err := parseBool(string(buf)); err != nil || v != BoolValue(words[w]) {
				t.Errorf("parseBool(%q) = %v, %v", buf, v, err)
			}
		}
	}
	for _, s := range []string{"tru", "truee", "tRuE ", "fals", "falsE\x00", "yeſ", "ye", "nO ", "\x14rue", "TRU\x05", "fal\x13e", "2", "tr\x15e"} {
		if v, err := parseBool(s); err == nil {
			t.Errorf("parseBool(%q) = %v, want an error", s, v)
		}
	}
}

func TestScanIntegerMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []string{"12345678", "1234567x", "x2345678", "123456789012345678", "1234567890123456789",
		"9999999999999999999", "18446744073709551615", "18446744073709551616", "-00000000000000000000001",
		"+12345678", "1234:678", "1234/678", "12345678/", "0000000000"}
	for range 50_000 {
		n := rng.Uint64() >> rng.IntN(64)
		b := []byte(strconv.FormatUint(n, 10))
		if rng.IntN(4) == 0 {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b), "-"+string(b))
	}
	for _, s := range cases {
		neg, mag, overflow, reason := scanInteger(s)
		digits := s
		if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
			digits = s[1:]
		}
		want, err := strconv.ParseUint(digits, 10, 64)
		if digits != "" && (digits[0] == '-' || digits[0] == '+') {
			err = strconv.ErrSyntax // ParseUint takes no sign; ParseInt one
		}
		switch {
		case err == nil && (reason != "" || overflow || mag != want):
			t.Fatalf("%q: %v %d %v %q, want %d", s, neg, mag, overflow, reason, want)
		case err != nil && errors.Is(err, strconv.ErrRange) && (!overflow || reason != ""):
			t.Fatalf("%q: %v %d %v %q, want overflow", s, neg, mag, overflow, reason)
		case err != nil && errors.Is(err, strconv.ErrSyntax) && reason == "":
			t.Fatalf("%q: %v %d %v, want a syntax reason", s, neg, mag, overflow)
		}
	}
}

func TestPow10Table(t *testing.T) {
	// Entries checked against an independent computation of the top 128
	// bits of 10^e (the table strconv ships).
	for _, c := range []struct {
		e      int
		hi, lo uint64
	}{
		{-348, 0xfa8fd5a0081c0288, 0x1732c869cd60e453},
		{-1, 0xcccccccccccccccc, 0xcccccccccccccccc},
		{0, 0x8000000000000000, 0},
		{292, 0x80444b5e7aa7cf85, 0x7980d163cf5b81b3},
	} {
		if got := pow10Table()[c.e-pow10Min]; got != [2]uint64{c.hi, c.lo} {
			t.Errorf("10^%d: %#x, want {%#x %#x}", c.e, got, c.hi, c.lo)
		}
	}
}

func TestParseSignedMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []string{"", "-", "+", "0", "-0", "+0", "127", "128", "-128", "-129", "2147483647", "2147483648", "-2147483648",
		"-2147483649", "999999999999999999", "-999999999999999999", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "12345678x", "--1", "1-", "00000000000000000001", "٣"}
	for range 50_000 {
		b := []byte(strconv.FormatInt(int64(rng.Uint64())>>rng.IntN(64), 10))
		if rng.IntN(5) == 0 {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, typ := range []struct {
		t    Type
		bits int
	}{{TypeInt1, 8}, {TypeInt2, 16}, {TypeInt4, 32}, {TypeInt8, 64}} {
		c := col(typ.t)
		for _, s := range cases {
			v, err := c.ParseValue(s)
			want, serr := strconv.ParseInt(s, 10, typ.bits)
			if (err == nil) != (serr == nil) || err == nil && v != IntValue(want) {
				t.Fatalf("%v %q: %+v, %v; strconv: %d, %v", typ.t, s, v, err, want, serr)
			}
			allDigits := strings.Trim(strings.TrimLeft(s, "+-"), "0123456789") == "" && len(strings.TrimLeft(s, "+-")) >= len(s)-1
			if serr != nil && errors.Is(serr, strconv.ErrRange) && allDigits && !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("%v %q: %v, want out of range", typ.t, s, err)
			}
		}
	}
}

// TestISODateFastPath checks the DATE and DATETIME fast paths against the
// general algorithm for every day of the years around their year table.
func TestISODateFastPath(t *testing.T) {
	date := Column{Name: "d", Type: TypeDate}
	stamp := Column{Name: "ts", Type: TypeDateTime, Scale: 3}
	for z := daysFromCivil(1898, 1, 1); z <= daysFromCivil(2158, 12, 31); z++ {
		y, m, d := civilFromDays(z)
		s := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
		if v, err := date.ParseValue(s); err != nil || v != DateValue(z) {
			t.Fatalf("%s: %+v, %v; want day %d", s, v, err, z)
		}
		ts := s + " 23:59:58.123456"
		want := Value{Kind: KindTimestamp, Int: z*86400 + 86398, Nano: 123_000_000}
		if v, err := stamp.ParseValue(ts); err != nil || v != want {
			t.Fatalf("%s: %+v, %v; want %+v", ts, v, err, want)
		}
	}
	for _, s := range []string{"2023-02-29", "1900-02-29", "2000-02-30", "2024-13-01", "0000-01-01", "2024-1-01", "2024/01/01"} {
		if _, err := date.ParseValue(s); err == nil {
			t.Errorf("%s: accepted", s)
		}
	}
}
