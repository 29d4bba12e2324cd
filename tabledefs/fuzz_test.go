package tabledefs

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Parse("f.json", data)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not a non-empty Problems: %v", err)
			}
			if def != nil {
				t.Fatal("definition returned along with problems")
			}
			for _, p := range ps {
				if p.File != "f.json" || p.Msg == "" || (p.Path == "" && p.Line == 0) {
					t.Fatalf("malformed problem %+v", p)
				}
			}
			return
		}
		if len(def.Tables) == 0 {
			t.Fatal("a valid definition without tables")
		}
		for _, tb := range def.Tables {
			if len(tb.Columns) == 0 {
				t.Fatalf("table %s without columns", tb.Name)
			}
			for _, c := range tb.Columns {
				if c.Type < TypeByte || c.Type > TypeBoolean || c.Type.Kind() == KindNull {
					t.Fatalf("column %s has invalid type %d", c.Name, c.Type)
				}
				if layoutOf(c.DateFormat) == layoutNone {
					t.Fatalf("column %s has invalid format %q", c.Name, c.DateFormat)
				}
			}
		}
	})
}

// fuzzColumn builds a valid column of any type from fuzzer bytes.
func fuzzColumn(typ, length, precision, scale, format uint8) Column {
	c := Column{Name: "c", Type: Types()[int(typ)%19]}
	switch c.Type {
	case TypeString, TypeByte:
		c.Length = int(length) + 1
	case TypeNumeric:
		c.Precision = int(precision)%MaxPrecision + 1
		c.Scale = int(scale) % (min(c.Precision, MaxNumericScale) + 1)
	case TypeDateTime, TypeTime:
		c.Scale = int(scale) % (MaxFractionDigits + 1)
	}
	if isTemporal(c.Type) && format%9 != 0 {
		c.DateFormat = dateFormats[format%9-1]
	}
	return c
}

func FuzzParseValue(f *testing.F) {
	for i, bc := range benchCases {
		f.Add(uint8(bc.col.Type-1), uint8(bc.col.Length), uint8(bc.col.Precision), uint8(bc.col.Scale), uint8(i), bc.in)
	}
	for _, s := range []string{"", "-", "0x", ".5", "-0", "NaN", "1e400", "2024-02-29 23:59:59.999999999Z", "2023-02-29", "2024-12-31T00:00:00.1234567891", "0000-01-01 00:00:00", "-0.00", "0.50", "00.5", "-0.05", "123.45", "1999-12-31 24:00:00.5", "12/31/1999 00:00:00.1", "20240101 01:02:03"} {
		f.Add(uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, typ, length, precision, scale, format uint8, s string) {
		c := fuzzColumn(typ, length, precision, scale, format)
		v, err := c.ParseValue(s)
		if c.Type == TypeReal8 { // the fast path must be strconv's twin
			want, serr := strconv.ParseFloat(s, 64)
			if (err == nil) != (serr == nil) || err == nil && v != FloatValue(want) {
				t.Fatalf("%q: %+v, %v; strconv: %v, %v", s, v, err, want, serr)
			}
		}
		if c.Type == TypeInt8 {
			want, serr := strconv.ParseInt(s, 10, 64)
			if (err == nil) != (serr == nil) || err == nil && v != IntValue(want) {
				t.Fatalf("%q: %+v, %v; strconv: %v, %v", s, v, err, want, serr)
			}
		}
		if c.Type == TypeNumeric { // the canonical fast path must not change results
			want, gerr := parseDecimal(s, c.Precision, c.Scale)
			if (err == nil) != (gerr == nil) || v != want || err != nil && err.Error() != gerr.Error() {
				t.Fatalf("%+v %q: %+v, %v; general path: %+v, %v", c, s, v, err, want, gerr)
			}
		}
		if c.Type == TypeDate || c.Type == TypeDateTime { // the ISO fast paths must be the general path's twin
			want, gerr := parseTemporal(s, &c)
			if (err == nil) != (gerr == nil) || v != want || err != nil && err.Error() != gerr.Error() {
				t.Fatalf("%+v %q: %+v, %v; general path: %+v, %v", c, s, v, err, want, gerr)
			}
		}
		if err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Type != c.Type || ve.Text != s || ve.Reason == "" || ve.Error() == "" {
				t.Fatalf("%+v %q: bad error %#v", c, s, err)
			}
			return
		}
		if v.Kind != c.Type.Kind() {
			t.Fatalf("%+v %q: kind %d, want %d", c, s, v.Kind, c.Type.Kind())
		}
		text := string(AppendText(nil, v, &c))
		c.DateFormat = ""
		back, err := c.ParseValue(text)
		if err != nil || back != v {
			t.Fatalf("%+v %q -> %q -> %+v, %v; want %+v", c, s, text, back, err, v)
		}
		if v.Kind == KindTimestamp || v.Kind == KindDate {
			_ = AppendTimestampISO(nil, v, c.Scale)
		}
	})
}

// FuzzParseFloat64 checks the REAL8 fast path against strconv bit for bit.
func FuzzParseFloat64(f *testing.F) {
	for _, s := range []string{"0", "-0.0", "1234.5678901234567", "-2.718281828459045e-10", "1e308", "4.9e-324",
		"9007199254740993", "0.000000000000000000000123", "1.7976931348623159e308", "2.2250738585072011e-308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseFloat64(s)
		want, err := strconv.ParseFloat(s, 64)
		if ok && (err != nil || math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("parseFloat64(%q) = %v, strconv: %v, %v", s, got, want, err)
		}
	})
}
