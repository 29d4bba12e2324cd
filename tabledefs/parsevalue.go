package tabledefs

import (
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// ValueError says why field text could not be parsed as a column's type.
// Text aliases the parsed field like the Values do: clone it to keep it past
// the current batch.
type ValueError struct {
	Type   Type
	Text   string
	Reason string
	// Truncation is set when the text is well formed but keeping it would
	// lose data (STRING or BYTE longer than ColumnLength, NUMERIC fraction
	// digits beyond ColumnScale, a DATE with a time of day). Callers apply
	// DataTruncationErrorPolicy to these and DataErrorPolicy to the rest.
	Truncation bool
}

// maxShownText bounds how much of a field an error message quotes, so that
// a rejected CLOB does not produce a megabyte of log.
const maxShownText = 64

func (e *ValueError) Error() string {
	text := e.Text
	more := ""
	if len(text) > maxShownText {
		cut := maxShownText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text, more = text[:cut], "..."
	}
	verb := " is not a valid "
	if e.Truncation {
		verb = " would be truncated as "
	}
	return strconv.Quote(text) + more + verb + e.Type.String() + ": " + e.Reason
}

func valueErr(t Type, s, reason string) (Value, error) {
	return Null, &ValueError{Type: t, Text: s, Reason: reason}
}

func truncErr(t Type, s, reason string) (Value, error) {
	return Null, &ValueError{Type: t, Text: s, Reason: reason, Truncation: true}
}

// ParseValue parses the text of one non-NULL CSV field as the column's type.
// Deciding what is NULL (CsvNullValue, empty fields) is the caller's job.
// It returns a *ValueError when the text is not valid. On success nothing is
// allocated except for BYTE/BLOB (the decoded bytes) and NUMERIC text that is
// not already canonical; STRING, CLOB and canonical NUMERIC values alias s.
func (c *Column) ParseValue(s string) (Value, error) {
	switch c.Type {
	case TypeInt1:
		return parseSigned(s, TypeInt1, math.MinInt8, math.MaxInt8)
	case TypeInt2:
		return parseSigned(s, TypeInt2, math.MinInt16, math.MaxInt16)
	case TypeInt4:
		return parseSigned(s, TypeInt4, math.MinInt32, math.MaxInt32)
	case TypeInt8:
		return parseSigned(s, TypeInt8, math.MinInt64, math.MaxInt64)
	case TypeUint1:
		return parseUnsigned(s, TypeUint1, math.MaxUint8)
	case TypeUint2:
		return parseUnsigned(s, TypeUint2, math.MaxUint16)
	case TypeUint4:
		return parseUnsigned(s, TypeUint4, math.MaxUint32)
	case TypeUint8:
		return parseUnsigned(s, TypeUint8, math.MaxUint64)
	case TypeReal4:
		return parseFloat(s, TypeReal4, 32)
	case TypeReal8:
		return parseFloat(s, TypeReal8, 64)
	case TypeNumeric:
		if s != "" && canonicalDecimal(s, c.Precision, max(c.Scale, 0)) { // already canonical: alias s
			return DecimalValue(s), nil
		}
		return parseDecimal(s, c.Precision, c.Scale)
	case TypeBoolean:
		return parseBool(s)
	case TypeString, TypeClob:
		if c.Type == TypeString && c.Length > 0 && len(s) > c.Length {
			return truncErr(c.Type, s, strconv.Itoa(len(s))+" bytes exceed ColumnLength "+strconv.Itoa(c.Length))
		}
		if !validUTF8(s) {
			return valueErr(c.Type, s, "invalid UTF-8")
		}
		return StringValue(s), nil
	case TypeByte, TypeBlob:
		return parseHex(s, c)
	case TypeDate:
		if c.DateFormat == "" && len(s) == 10 {
			if days, ok := isoDate(s); ok {
				return DateValue(days), nil
			}
		}
		return parseTemporal(s, c)
	case TypeDateTime:
		if c.DateFormat == "" {
			if v, ok := isoDateTime(s, c.Scale); ok {
				return v, nil
			}
		}
		return parseTemporal(s, c)
	case TypeTime:
		return parseTemporal(s, c)
	}
	return valueErr(c.Type, s, "the column has no valid type")
}

// scanInteger reads [+-]digits into a sign and a 64-bit magnitude.
func scanInteger(s string) (neg bool, mag uint64, overflow bool, reason string) {
	if s == "" {
		return false, 0, false, "empty value"
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i = 1
	}
	if i == len(s) {
		return neg, 0, false, "no digits"
	}
	if len(s)-i <= 19 { // 19 digits cannot overflow a uint64: skip the check
		for ; i+8 <= len(s); i += 8 {
			w := load64(s, i)
			if !eightDigits(w) {
				break // the loop below finds the bad character
			}
			mag = mag*100_000_000 + eightDigitsValue(w)
		}
		for ; i < len(s); i++ {
			d := s[i] - '0'
			if d > 9 {
				return neg, 0, false, unexpectedChar(s, i)
			}
			mag = mag*10 + uint64(d)
		}
		return neg, mag, false, ""
	}
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return neg, 0, false, unexpectedChar(s, i)
		}
		if mag > (math.MaxUint64-uint64(d))/10 {
			overflow = true
			continue // keep scanning: a bad character is the better reason
		}
		if !overflow {
			mag = mag*10 + uint64(d)
		}
	}
	return neg, mag, overflow, ""
}

// eightDigits reports whether all 8 bytes of w are ASCII digits: each has
// the high nibble 3, and adding 6 does not carry out of the low nibble.
func eightDigits(w uint64) bool {
	const f0, x30, x06 = 0xF0F0F0F0F0F0F0F0, 0x3030303030303030, 0x0606060606060606
	return w&f0 == x30 && (w+x06)&f0 == x30
}

// fourDigits is eightDigits for 4 bytes.
func fourDigits(w uint32) bool {
	const f0, x30, x06 = 0xF0F0F0F0, 0x30303030, 0x06060606
	return w&f0 == x30 && (w+x06)&f0 == x30
}

// fourDigitsValue is eightDigitsValue for 4 digits.
func fourDigitsValue(w uint32) uint64 {
	w -= 0x30303030
	w = (w*10 + w>>8) & 0x00FF00FF
	return uint64((w*100 + w>>16) & 0xFFFF)
}

// eightDigitsValue is the value of 8 ASCII digits loaded little endian
// (first digit in the low byte), combining pairs, then quads, then halves.
func eightDigitsValue(w uint64) uint64 {
	w -= 0x3030303030303030
	w = (w*10 + w>>8) & 0x00FF00FF00FF00FF
	w = (w*100 + w>>16) & 0x0000FFFF0000FFFF
	return (w*10000 + w>>32) & 0xFFFFFFFF
}

func parseSigned(s string, t Type, lo, hi int64) (Value, error) {
	// Fast path: 1 to 18 digits, optionally after a '-', cannot overflow;
	// anything else takes scanInteger, which also finds the error.
	if n := len(s); n > 0 && n <= 18 {
		i := 0
		if s[0] == '-' {
			i = 1
		}
		start := i
		var mag uint64
		for ; i+8 <= n; i += 8 {
			w := load64(s, i)
			if !eightDigits(w) {
				break
			}
			mag = mag*100_000_000 + eightDigitsValue(w)
		}
		if n-i >= 4 && n-i < 8 { // (n-i >= 8 when the loop above stopped at a non-digit)
			if w := load32(s[i:]); fourDigits(w) {
				mag = mag*10_000 + fourDigitsValue(w)
				i += 4
			}
		}
		for ; i < n; i++ {
			d := s[i] - '0'
			if d > 9 {
				break
			}
			mag = mag*10 + uint64(d)
		}
		if i == n && n > start { // all digits, and at least one
			v := int64(mag)
			if s[0] == '-' {
				v = -v
			}
			if v < lo || v > hi {
				return valueErr(t, s, rangeReason[t])
			}
			return IntValue(v), nil
		}
	}
	neg, mag, overflow, reason := scanInteger(s)
	if reason != "" {
		return valueErr(t, s, reason)
	}
	if overflow || (!neg && mag > uint64(hi)) || (neg && mag > uint64(-(lo+1))+1) {
		return valueErr(t, s, rangeReason[t])
	}
	if neg {
		return IntValue(int64(-mag)), nil
	}
	return IntValue(int64(mag)), nil
}

func parseUnsigned(s string, t Type, hi uint64) (Value, error) {
	neg, mag, overflow, reason := scanInteger(s)
	if reason != "" {
		return valueErr(t, s, reason)
	}
	if overflow || mag > hi || (neg && mag != 0) {
		return valueErr(t, s, rangeReason[t])
	}
	return UintValue(mag), nil
}

var rangeReason = map[Type]string{
	TypeInt1:  "out of range -128 to 127",
	TypeInt2:  "out of range -32768 to 32767",
	TypeInt4:  "out of range -2147483648 to 2147483647",
	TypeInt8:  "out of range -9223372036854775808 to 9223372036854775807",
	TypeUint1: "out of range 0 to 255",
	TypeUint2: "out of range 0 to 65535",
	TypeUint4: "out of range 0 to 4294967295",
	TypeUint8: "out of range 0 to 18446744073709551615",
}

func unexpectedChar(s string, i int) string {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiCharReasons[c] // no allocation for the common case
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return "unexpected character " + strconv.QuoteRune(r)
}

var asciiCharReasons = func() (out [utf8.RuneSelf]string) {
	for c := range out {
		out[c] = "unexpected character " + strconv.QuoteRune(rune(c))
	}
	return out
}()

func parseFloat(s string, t Type, bits int) (Value, error) {
	if bits == 64 {
		if f, ok := parseFloat64(s); ok {
			return FloatValue(f), nil
		}
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if s == "" {
			return valueErr(t, s, "empty value")
		}
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return valueErr(t, s, "out of range")
		}
		return valueErr(t, s, "not a number")
	}
	return FloatValue(f), nil
}

func parseBool(s string) (Value, error) {
	// ASCII case folding by OR-ing 0x20: only 'T' and 't' become 't', and so
	// on, for the letters compared here. (strings.EqualFold would also fold
	// U+017F to 's', but that changes the length, so it never matched.)
	switch len(s) {
	case 1:
		switch s[0] {
		case '1', 't', 'T', 'y', 'Y':
			return BoolValue(true), nil
		case '0', 'f', 'F', 'n', 'N':
			return BoolValue(false), nil
		}
	case 2:
		if s[0]|0x20 == 'n' && s[1]|0x20 == 'o' {
			return BoolValue(false), nil
		}
	case 3:
		if s[0]|0x20 == 'y' && s[1]|0x20 == 'e' && s[2]|0x20 == 's' {
			return BoolValue(true), nil
		}
	case 4:
		if load32(s)|0x20202020 == 't'|'r'<<8|'u'<<16|'e'<<24 {
			return BoolValue(true), nil
		}
	case 5:
		if load32(s)|0x20202020 == 'f'|'a'<<8|'l'<<16|'s'<<24 && s[4]|0x20 == 'e' {
			return BoolValue(false), nil
		}
	}
	return valueErr(TypeBoolean, s, "expected true/false, t/f, 1/0, y/n or yes/no")
}

// load32 reads the first 4 bytes of s (len(s) >= 4), little endian.
func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// load64 reads 8 bytes of s at i (i+8 <= len(s)), little endian.
func load64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// validUTF8 is utf8.ValidString with a quicker check for ASCII text, 8
// bytes at a time: most STRING fields are ASCII.
func validUTF8(s string) bool {
	const hi = 0x8080808080808080
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return utf8.ValidString(s)
			}
		}
		return true
	}
	var or uint64
	for i := 0; i+8 <= len(s); i += 8 {
		or |= load64(s, i)
	}
	if (or|load64(s, len(s)-8))&hi != 0 {
		return utf8.ValidString(s)
	}
	return true
}

// parseHex decodes hex text, with an optional 0x or 0X prefix, into raw bytes.
func parseHex(s string, c *Column) (Value, error) {
	h := s
	if len(h) >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		h = h[2:]
	}
	if len(h)%2 != 0 {
		for i := 0; i < len(h); i++ {
			if unhex(h[i]) > 15 {
				return valueErr(c.Type, s, unexpectedChar(h, i))
			}
		}
		return valueErr(c.Type, s, "odd number of hex digits")
	}
	n := len(h) / 2
	if c.Type == TypeByte && c.Length > 0 && n > c.Length {
		return truncErr(c.Type, s, strconv.Itoa(n)+" bytes exceed ColumnLength "+strconv.Itoa(c.Length))
	}
	if n == 0 {
		return BytesValue(""), nil
	}
	b := make([]byte, n)
	for i := range b {
		hi, lo := unhex(h[2*i]), unhex(h[2*i+1])
		if hi|lo > 15 {
			j := 2 * i
			if hi <= 15 {
				j++
			}
			return valueErr(c.Type, s, unexpectedChar(h, j))
		}
		b[i] = hi<<4 | lo
	}
	// b is never written again: viewing it as a string saves a second copy.
	return BytesValue(unsafe.String(&b[0], n)), nil
}

func unhex(c byte) byte { return unhexTable[c] }

// unhexTable maps a hex digit to its value and anything else to 0xFF.
var unhexTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i], t['A'+i] = 10+i, 10+i
	}
	return t
}()
