package tabledefs

import (
	"strconv"
	"strings"
)

// parseDecimal reads [+-]digits[.digits] (".5" and "5." included; no
// exponent) as NUMERIC(precision, scale) into canonical text: no '+', no
// leading zeros, "-" only for non-zero values, exactly scale fraction digits.
// Fraction digits beyond scale are accepted when they are zeros and are a
// truncation error otherwise: DMS would cut them, and cutting is data loss.
// precision 0 (a Column built in code, never a parsed one) means no limit
// on integer digits.
func parseDecimal(s string, precision, scale int) (Value, error) {
	const t = TypeNumeric
	if s == "" {
		return valueErr(t, s, "empty value")
	}
	scale = max(scale, 0)
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i = 1
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(s) && s[i] == '.' {
		i++
		fracStart = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracEnd = i
	}
	if i != len(s) {
		return valueErr(t, s, unexpectedChar(s, i))
	}
	if intEnd == intStart && fracEnd == fracStart {
		return valueErr(t, s, "no digits")
	}
	lead := intStart
	for lead < intEnd && s[lead] == '0' {
		lead++
	}
	intDigits := intEnd - lead
	if precision > 0 && intDigits > precision-scale {
		return valueErr(t, s, strconv.Itoa(intDigits)+" integer digits exceed the "+
			strconv.Itoa(max(precision-scale, 0))+" of NUMERIC("+strconv.Itoa(precision)+","+strconv.Itoa(scale)+")")
	}
	frac := s[fracStart:fracEnd]
	if len(frac) > scale {
		for j := scale; j < len(frac); j++ {
			if frac[j] != '0' {
				return truncErr(t, s, "more than "+strconv.Itoa(scale)+" fraction digits")
			}
		}
		frac = frac[:scale]
	}
	if intDigits == 0 && allZeros(frac) {
		neg = false // no negative zero
	}

	// Most input is already canonical, or canonical after dropping a prefix
	// or suffix of s: return a substring then, to allocate nothing.
	if len(frac) == scale {
		a, ok := 0, true
		switch {
		case neg:
			ok = (intDigits > 0 && lead == intStart) || (intDigits == 0 && intEnd-intStart == 1)
		case intDigits > 0:
			a = lead
		case intEnd > intStart:
			a = intEnd - 1 // a single "0"
		default:
			ok = false // ".5" needs a "0" in front
		}
		if ok {
			b := intEnd
			if scale > 0 {
				b = fracStart + scale
			}
			return DecimalValue(s[a:b]), nil
		}
	}

	var b strings.Builder
	b.Grow(2 + max(intDigits, 1) + scale)
	if neg {
		b.WriteByte('-')
	}
	if intDigits == 0 {
		b.WriteByte('0')
	} else {
		b.WriteString(s[lead:intEnd])
	}
	if scale > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
		for j := len(frac); j < scale; j++ {
			b.WriteByte('0')
		}
	}
	return DecimalValue(b.String()), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allZeros(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
