package tabledefs

import (
	"math"
	"testing"
	"time"
)

func TestAppendText(t *testing.T) {
	tests := []struct {
		col  *Column
		v    Value
		want string
	}{
		{col(TypeInt8), IntValue(math.MinInt64), "-9223372036854775808"},
		{col(TypeUint8), UintValue(math.MaxUint64), "18446744073709551615"},
		{numeric(5, 2), DecimalValue("-1.50"), "-1.50"},
		{col(TypeReal8), FloatValue(0.1), "0.1"},
		{col(TypeReal8), FloatValue(1e6), "1e+06"},
		{col(TypeReal8), FloatValue(123456), "123456"},
		{col(TypeReal4), FloatValue(float64(float32(0.1))), "0.1"},
		{col(TypeReal8), FloatValue(float64(float32(0.1))), "0.10000000149011612"},
		{nil, FloatValue(math.Inf(-1)), "-Inf"},
		{col(TypeBoolean), BoolValue(true), "true"},
		{col(TypeBoolean), BoolValue(false), "false"},
		{col(TypeString), StringValue("a,b"), "a,b"},
		{col(TypeByte), BytesValue("\x00\xab\xff"), "00ABFF"},
		{col(TypeBlob), BytesValue(""), ""},
		{col(TypeDate), DateValue(0), "1970-01-01"},
		{col(TypeDate), DateValue(-1), "1969-12-31"},
		{col(TypeDate), date("0001-01-01"), "0001-01-01"},
		{col(TypeDate), date("2024-02-29"), "2024-02-29"},
		{col(TypeTime), clock("01:02:03.5"), "01:02:03"},
		{temporal(TypeTime, 3, ""), clock("01:02:03.5"), "01:02:03.500"},
		{col(TypeDateTime), ts("2024-03-04 05:06:07.891"), "2024-03-04 05:06:07"},
		{temporal(TypeDateTime, 3, ""), ts("2024-03-04 05:06:07.891"), "2024-03-04 05:06:07.891"},
		{temporal(TypeDateTime, 9, ""), ts("1969-12-31 23:59:59.000000001"), "1969-12-31 23:59:59.000000001"},
		{temporal(TypeDateTime, 6, "MM/dd/YYYY HH:mm:ss.F"), ts("9999-12-31 23:59:59.999999"), "9999-12-31 23:59:59.999999"},
		{col(TypeString), Null, ""},
	}
	for _, tc := range tests {
		got := string(AppendText([]byte("x"), tc.v, tc.col))
		if got != "x"+tc.want {
			t.Errorf("AppendText(%+v) = %q, want %q", tc.v, got[1:], tc.want)
		}
	}
}

func TestAppendTimestampISO(t *testing.T) {
	tests := []struct {
		v     Value
		scale int
		want  string
	}{
		{ts("2024-03-04 05:06:07.891"), 0, "2024-03-04T05:06:07Z"},
		{ts("2024-03-04 05:06:07.891"), 3, "2024-03-04T05:06:07.891Z"},
		{ts("2024-03-04 05:06:07.891"), 6, "2024-03-04T05:06:07.891000Z"},
		{ts("1960-01-01 00:00:00.5"), 1, "1960-01-01T00:00:00.5Z"},
		{date("2024-03-04"), 0, "2024-03-04T00:00:00Z"},
		{IntValue(5), 0, ""},
	}
	for _, tc := range tests {
		if got := string(AppendTimestampISO(nil, tc.v, tc.scale)); got != tc.want {
			t.Errorf("AppendTimestampISO(%+v, %d) = %q, want %q", tc.v, tc.scale, got, tc.want)
		}
	}
}

// TestCivilDays checks the day arithmetic against the time package for every
// day from 0001 to 9999.
func TestCivilDays(t *testing.T) {
	start := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		days := d.Unix() / 86400
		if got := daysFromCivil(d.Year(), int(d.Month()), d.Day()); got != days {
			t.Fatalf("daysFromCivil(%s) = %d, want %d", d.Format(time.DateOnly), got, days)
		}
		y, m, dd := civilFromDays(days)
		if y != d.Year() || m != int(d.Month()) || dd != d.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %s", days, y, m, dd, d.Format(time.DateOnly))
		}
	}
}

// TestRoundTrip renders a parsed value and parses it again, per type.
func TestRoundTrip(t *testing.T) {
	for _, bc := range benchCases {
		c := *bc.col
		v, err := c.ParseValue(bc.in)
		if err != nil {
			t.Fatalf("%s %q: %v", c.Type, bc.in, err)
		}
		if v.Kind != c.Type.Kind() {
			t.Errorf("%s parsed to kind %d, want %d", c.Type, v.Kind, c.Type.Kind())
		}
		text := string(AppendText(nil, v, &c))
		c.DateFormat = ""
		back, err := c.ParseValue(text)
		if err != nil || back != v {
			t.Errorf("%s %q -> %q -> %+v, %v; want %+v", c.Type, bc.in, text, back, err, v)
		}
	}
}
