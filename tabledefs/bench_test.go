package tabledefs

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchCases holds one typical field per type; the zero-allocation and
// round-trip tests reuse them.
var benchCases = []struct {
	name string
	col  *Column
	in   string
}{
	{"INT1", col(TypeInt1), "-100"},
	{"INT2", col(TypeInt2), "31000"},
	{"INT4", col(TypeInt4), "-2000000000"},
	{"INT8", col(TypeInt8), "9123456789012345678"},
	{"UINT1", col(TypeUint1), "200"},
	{"UINT2", col(TypeUint2), "65000"},
	{"UINT4", col(TypeUint4), "4000000000"},
	{"UINT8", col(TypeUint8), "18000000000000000000"},
	{"NUMERIC", numeric(12, 2), "-1234567.89"},
	{"NUMERIC38", numeric(38, 10), "1234567890123456789012345678.0123456789"},
	{"REAL4", col(TypeReal4), "3.14159"},
	{"REAL8", col(TypeReal8), "-2.718281828459045e-10"},
	{"BOOLEAN", col(TypeBoolean), "true"},
	{"STRING", withLength(TypeString, 64), "Hello, world: a typical short text value"},
	{"CLOB", col(TypeClob), strings.Repeat("lorem ipsum ", 40)},
	{"BYTE", withLength(TypeByte, 16), "0x00112233445566778899AABBCCDDEEFF"},
	{"BLOB", col(TypeBlob), strings.Repeat("DEADBEEF", 32)},
	{"DATE", col(TypeDate), "2024-02-29"},
	{"DATE_fmt", temporal(TypeDate, 0, "MM/dd/YYYY HH:mm:ss"), "02/29/2024 00:00:00"},
	{"TIME", temporal(TypeTime, 3, ""), "23:59:58.123"},
	{"DATETIME", temporal(TypeDateTime, 6, ""), "2024-03-04 05:06:07.123456"},
	{"DATETIME_iso", temporal(TypeDateTime, 3, ""), "2024-03-04T05:06:07.123Z"},
	{"DATETIME_fmt", temporal(TypeDateTime, 3, "YYYYMMdd HH:mm:ss.F"), "20240304 05:06:07.123456"},
}

func BenchmarkParseValue(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				if _, err := bc.col.ParseValue(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseValueError measures the cost of a bad field, since a bad
// file can produce one per row.
func BenchmarkParseValueError(b *testing.B) {
	cases := []struct {
		name string
		col  *Column
		in   string
	}{
		{"INT4_badchar", col(TypeInt4), "12x"},
		{"INT4_range", col(TypeInt4), "99999999999"},
		{"DATETIME", col(TypeDateTime), "2023-02-30 00:00:00"},
		{"STRING_trunc", withLength(TypeString, 4), "too long"},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.col.ParseValue(bc.in); err == nil {
					b.Fatal("no error")
				}
			}
		})
	}
}

func BenchmarkAppendText(b *testing.B) {
	for _, bc := range benchCases {
		v, err := bc.col.ParseValue(bc.in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				buf = AppendText(buf[:0], v, bc.col)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("../testdata/tabledefs/valid/all_types.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("all_types.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibReference times what ParseValue replaces, for comparison
// with BenchmarkParseValue/INT8 and /DATETIME.
func BenchmarkStdlibReference(b *testing.B) {
	b.Run("strconv.ParseInt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := strconv.ParseInt("9123456789012345678", 10, 64); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("time.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := time.Parse("2006-01-02 15:04:05.999999", "2024-03-04 05:06:07.123456"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
