package s3parquet

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow/decimal128"
)

// parseDecimal turns canonical decimal text ("-12.50") into the unscaled
// 128-bit integer of a DECIMAL(prec, scale), exactly: digits are
// accumulated as integers, never through a float. Text with fewer fraction
// digits than scale is scaled up; more digits, or more integer digits than
// prec-scale allows, is an error (never rounded).
func parseDecimal(s string, prec, scale int32) (decimal128.Num, error) {
	t := s
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	var n decimal128.Num
	var chunk uint64
	chunkDigits, digits, frac := 0, 0, -1
	seen := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '.' && frac < 0 {
			frac = 0
			continue
		}
		if c < '0' || c > '9' {
			return n, fmt.Errorf("decimal %q: not a decimal number", s)
		}
		seen = true
		if frac >= 0 {
			frac++
		}
		if digits == 0 && c == '0' && frac < 0 {
			continue // leading zeros of the integer part
		}
		digits++
		if digits > 38 {
			return n, fmt.Errorf("decimal %q: more than 38 digits", s)
		}
		chunk = chunk*10 + uint64(c-'0')
		chunkDigits++
		if chunkDigits == 18 {
			n = n.Mul(decimal128.GetScaleMultiplier(18)).Add(decimal128.FromU64(chunk))
			chunk, chunkDigits = 0, 0
		}
	}
	if !seen {
		return n, fmt.Errorf("decimal %q: no digits", s)
	}
	if chunkDigits > 0 {
		n = n.Mul(decimal128.GetScaleMultiplier(chunkDigits)).Add(decimal128.FromU64(chunk))
	}
	frac = max(frac, 0)
	if int32(frac) > scale {
		return n, fmt.Errorf("decimal %q: more than %d fraction digits", s, scale)
	}
	if int32(frac) < scale {
		if int32(digits)+scale-int32(frac) > 38 {
			return n, fmt.Errorf("decimal %q does not fit DECIMAL(%d,%d)", s, prec, scale)
		}
		n = n.IncreaseScaleBy(scale - int32(frac))
	}
	if !n.FitsInPrecision(prec) {
		return n, fmt.Errorf("decimal %q does not fit DECIMAL(%d,%d)", s, prec, scale)
	}
	if neg {
		n = n.Negate()
	}
	return n, nil
}
