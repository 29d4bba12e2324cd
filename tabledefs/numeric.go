package tabledefs

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"sync"
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

// canonicalDecimal reports whether s is already the canonical text of a
// NUMERIC(precision, scale) value, the common case: [-]D[digits][.scale
// digits] with D a non-zero digit, or 0[.scale digits] without a sign; and
// at most precision-scale integer digits. Anything else is left to the
// general path, which also decides errors.
func canonicalDecimal(s string, precision, scale int) bool {
	neg := 0
	if s[0] == '-' {
		neg = 1
	}
	end := len(s) // of the integer digits
	if scale > 0 {
		end = len(s) - scale - 1
		if end <= neg || s[end] != '.' || !allDigits(s[end+1:]) {
			return false
		}
	}
	if end <= neg {
		return false
	}
	ip := s[neg:end]
	intDigits := len(ip)
	if ip[0] == '0' {
		if intDigits != 1 || neg == 1 {
			return false // leading zeros, or a "-0"
		}
		intDigits = 0
	}
	return (precision <= 0 || intDigits <= precision-scale) && allDigits(ip)
}

// allDigits reports whether s holds only ASCII digits, testing 8 (or 4)
// at a time; the last word overlaps the previous one.
func allDigits(s string) bool {
	n := len(s)
	switch {
	case n >= 8:
		for i := 0; i+8 < n; i += 8 {
			if !eightDigits(load64(s, i)) {
				return false
			}
		}
		return eightDigits(load64(s, n-8))
	case n >= 4:
		return fourDigits(load32(s)) && fourDigits(load32(s[n-4:]))
	}
	for i := 0; i < n; i++ {
		if s[i]-'0' > 9 {
			return false
		}
	}
	return true
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

// REAL8 parsing. strconv.ParseFloat spends most of its time reading the
// text (it accepts hex, underscores, "inf" and more); the plain decimal
// forms CSV files hold are read here and converted exactly: Clinger's fast
// path when the mantissa and power of ten are both exact float64s,
// otherwise Eisel-Lemire, which either yields the correctly rounded result
// or says it cannot decide. Anything else (special values, more than 19
// significant digits, out of range, undecided) goes to strconv, so the
// results and errors are strconv's in every case.

// parseFloat64 returns the float64 strconv.ParseFloat(s, 64) returns when ok.
func parseFloat64(s string) (f float64, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		i = 1
	}
	// Read the digits without caring for overflow, 8 at a time where it
	// can; with more than 19 of them, read them again carefully.
	var man uint64
	start := i
	man, i = decimalDigits(s, i, man)
	intEnd := i
	digits, e10 := intEnd-start, 0
	if i < len(s) && s[i] == '.' {
		man, i = decimalDigits(s, i+1, man)
		e10 = intEnd + 1 - i
		digits -= e10
	}
	if digits == 0 {
		return 0, false
	}
	if digits > 19 {
		var ok bool
		if man, e10, ok = significand(s[start:i]); !ok {
			return 0, false
		}
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		estart, x := i, 0
		for ; i < len(s); i++ {
			d := s[i] - '0'
			if d > 9 {
				break
			}
			x = x*10 + int(d)
		}
		if n := i - estart; n == 0 || n > 4 {
			return 0, false // no digits (strconv's error), or a long exponent
		}
		if eneg {
			x = -x
		}
		e10 += x
	}
	if i != len(s) {
		return 0, false
	}
	if man>>53 == 0 && -22 <= e10 && e10 <= 22 {
		f = float64(man)
		if e10 >= 0 {
			f *= float64Pow10[e10]
		} else {
			f /= float64Pow10[-e10]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	return eiselLemire64(man, e10, neg)
}

// decimalDigits appends the decimal digits at s[i:] to man (modulo 2^64)
// and returns it with the position after them.
func decimalDigits(s string, i int, man uint64) (uint64, int) {
	for i+8 <= len(s) {
		w := load64(s, i)
		if !eightDigits(w) {
			break
		}
		man = man*100_000_000 + eightDigitsValue(w)
		i += 8
	}
	if len(s)-i >= 4 {
		if w := load32(s[i:]); fourDigits(w) {
			man = man*10_000 + fourDigitsValue(w)
			i += 4
		}
	}
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		man = man*10 + uint64(d)
	}
	return man, i
}

// significand reads digits[.digits] (already checked) into a mantissa and
// power of ten, skipping leading zeros; ok is false beyond 19 significant
// digits.
func significand(s string) (man uint64, e10 int, ok bool) {
	nd, point := 0, -1
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			point = i
			continue
		}
		d := s[i] - '0'
		if man|uint64(d) != 0 {
			if nd == 19 {
				return 0, 0, false
			}
			man = man*10 + uint64(d)
			nd++
		}
	}
	if point >= 0 {
		e10 = point + 1 - len(s)
	}
	return man, e10, true
}

// float64Pow10 are the powers of ten a float64 holds exactly.
var float64Pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

const (
	pow10Min = -348
	pow10Max = 347
)

// pow10Table holds, for e in [pow10Min, pow10Max], the top 128 bits
// (rounded down) of 10^e as {hi, lo}. It is computed exactly with math/big
// on first use instead of being a 700-line literal.
var pow10Table = sync.OnceValue(func() *[pow10Max - pow10Min + 1][2]uint64 {
	var t [pow10Max - pow10Min + 1][2]uint64
	one, ten := big.NewInt(1), big.NewInt(10)
	mask := new(big.Int).SetUint64(math.MaxUint64)
	n, m, q := new(big.Int), new(big.Int), new(big.Int)
	n.Exp(ten, big.NewInt(-pow10Min), nil)
	for e := pow10Min; e <= pow10Max; e++ {
		switch {
		case e < 0 && e > pow10Min:
			n.Quo(n, ten)
		case e == 0:
			n.SetInt64(1)
		case e > 0:
			n.Mul(n, ten)
		} // n is 10^|e|
		l := uint(n.BitLen())
		if e >= 0 {
			if l > 128 {
				m.Rsh(n, l-128)
			} else {
				m.Lsh(n, 128-l)
			}
		} else {
			// 10^-e is not a power of two: 2^(l+127)/10^-e lies strictly
			// between 2^127 and 2^128.
			m.Quo(q.Lsh(one, l+127), n)
		}
		t[e-pow10Min] = [2]uint64{q.Rsh(m, 64).Uint64(), q.And(m, mask).Uint64()}
	}
	return &t
})

// eiselLemire64 converts man×10^e10 to the nearest float64, or reports
// that it cannot decide (ok false); see
// https://nigeltao.github.io/blog/2020/eisel-lemire.html for the steps.
func eiselLemire64(man uint64, e10 int, neg bool) (f float64, ok bool) {
	if man == 0 {
		if neg {
			f = math.Copysign(0, -1)
		}
		return f, true
	}
	if e10 < pow10Min || e10 > pow10Max {
		return 0, false
	}
	pow := &pow10Table()[e10-pow10Min]
	// 10^e10 = pow/2^128 × 2^exp2 with exp2 = 1 + floor(e10×log2(10)).
	exp2 := 1 + (e10*108853)>>15
	clz := bits.LeadingZeros64(man)
	man <<= uint(clz)
	retExp2 := uint64(exp2+63+1023) - uint64(clz) // biased

	xHi, xLo := bits.Mul64(man, pow[0])
	if xHi&0x1FF == 0x1FF && xLo+man < man { // the low word of pow matters
		yHi, yLo := bits.Mul64(man, pow[1])
		mergedHi, mergedLo := xHi, xLo+yHi
		if mergedLo < xLo {
			mergedHi++
		}
		if mergedHi&0x1FF == 0x1FF && mergedLo+1 == 0 && yLo+man < man {
			return 0, false
		}
		xHi, xLo = mergedHi, mergedLo
	}
	msb := xHi >> 63
	retMantissa := xHi >> (msb + 9)
	retExp2 -= 1 ^ msb
	if xLo == 0 && xHi&0x1FF == 0 && retMantissa&3 == 1 { // halfway: undecided
		return 0, false
	}
	retMantissa += retMantissa & 1
	retMantissa >>= 1
	if retMantissa>>53 > 0 {
		retMantissa >>= 1
		retExp2++
	}
	if retExp2-1 >= 0x7FF-1 { // subnormal, infinite or NaN: strconv decides
		return 0, false
	}
	b := retExp2<<52 | retMantissa&(1<<52-1)
	if neg {
		b |= 1 << 63
	}
	return math.Float64frombits(b), true
}
