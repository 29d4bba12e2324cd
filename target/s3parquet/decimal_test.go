package s3parquet

import (
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in          string
		prec, scale int32
		want        string // unscaled integer, or "error"
	}{
		{"0", 10, 0, "0"},
		{"-12.50", 10, 2, "-1250"},
		{"+7.1", 10, 2, "710"},
		{"0.05", 3, 2, "5"},
		{"99999999999999999999999999999999999999", 38, 0, "99999999999999999999999999999999999999"},
		{"-99999999999999999999999999999999999999", 38, 0, "-99999999999999999999999999999999999999"},
		{"1234567890123456789012345678.0123456789", 38, 10, "12345678901234567890123456780123456789"},
		{"000123", 3, 0, "123"},
		{"5", 38, 37, "50000000000000000000000000000000000000"},
		{"123.45", 4, 2, "error"},
		{"1.234", 10, 2, "error"},
		{"100000000000000000000000000000000000000", 38, 0, "error"},
		{"5", 38, 38, "error"},
		{"", 10, 0, "error"},
		{"-", 10, 0, "error"},
		{"1e5", 10, 0, "error"},
		{"1.2.3", 10, 2, "error"},
	} {
		n, err := parseDecimal(tc.in, tc.prec, tc.scale)
		got := "error"
		if err == nil {
			got = n.BigInt().String()
		}
		if got != tc.want {
			t.Errorf("parseDecimal(%q, %d, %d) = %s (%v), want %s", tc.in, tc.prec, tc.scale, got, err, tc.want)
		}
	}
}

// FuzzParseDecimal checks parseDecimal against math/big on any input it
// accepts: the unscaled value must be exactly the text times 10^scale.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "-12.50", "99999999999999999999999999999999999999", "0.000001", "+1.", ".5"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, sc uint8) {
		scale := int32(sc % 39)
		n, err := parseDecimal(s, 38, scale)
		if err != nil {
			return
		}
		r, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
		if !ok {
			t.Fatalf("parseDecimal accepted %q, big.Rat does not", s)
		}
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
		if !r.IsInt() || r.Num().Cmp(n.BigInt()) != 0 {
			t.Fatalf("parseDecimal(%q, scale %d) = %s, want %s", s, scale, n.BigInt(), r.RatString())
		}
	})
}
