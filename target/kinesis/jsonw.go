package kinesis

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// jw appends JSON by hand. Pretty output (MessageFormat "json") indents by
// two spaces with `"key": value`, like encoding/json.MarshalIndent; compact
// output has no whitespace at all. The writer never allocates beyond dst.
type jw struct {
	b      []byte
	pretty bool
	depth  int
	n      [16]int // members written so far at each depth
}

func (w *jw) nl() {
	w.b = append(w.b, '\n')
	for i := 0; i < w.depth; i++ {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *jw) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.n[w.depth] = 0
}

func (w *jw) close(c byte) {
	n := w.n[w.depth]
	w.depth--
	if w.pretty && n > 0 {
		w.nl()
	}
	w.b = append(w.b, c)
}

// elem starts an array element or an object member.
func (w *jw) elem() {
	if w.n[w.depth] > 0 {
		w.b = append(w.b, ',')
	}
	w.n[w.depth]++
	if w.pretty {
		w.nl()
	}
}

func (w *jw) key(k string) {
	w.elem()
	w.b = appendString(w.b, k)
	w.b = append(w.b, ':')
	if w.pretty {
		w.b = append(w.b, ' ')
	}
}

// keyQ starts a member whose name is already quoted and escaped.
func (w *jw) keyQ(q string) {
	w.elem()
	w.b = append(w.b, q...)
	w.b = append(w.b, ':')
	if w.pretty {
		w.b = append(w.b, ' ')
	}
}

const hexDigits = "0123456789abcdef"

// safe marks ASCII bytes that need no escaping in a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for i := 0x20; i < utf8.RuneSelf; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// appendString appends s as a JSON string: control characters escaped,
// invalid UTF-8 replaced by U+FFFD, U+2028/U+2029 escaped for JavaScript
// consumers. HTML characters are kept as they are (DMS does not escape them).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat renders the shortest text that round-trips at the column's
// precision (32 bits for REAL4), in the same notation encoding/json uses.
// NaN and ±Inf have no JSON number: they are rendered as the strings
// "NaN", "Infinity", "-Infinity" (PostgreSQL's spelling) so that no value is lost.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func appendHex(b []byte, s string, prefix bool) []byte {
	const upper = "0123456789ABCDEF"
	b = append(b, '"')
	if prefix {
		b = append(b, '0', 'x')
	}
	for i := 0; i < len(s); i++ {
		b = append(b, upper[s[i]>>4], upper[s[i]&0xf])
	}
	return append(b, '"')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(days int64) (y int64, m, d int) {
	z := days + 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func appendYear(b []byte, y int64) []byte {
	if y >= 0 && y <= 9999 {
		return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	}
	return strconv.AppendInt(b, y, 10) // outside ISO's four digits; keep the exact year
}

// appendDate appends YYYY-MM-DD (no quotes).
func appendDate(b []byte, days int64) []byte {
	y, m, d := civil(days)
	b = appendYear(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, d)
}

// appendClock appends HH:MM:SS and, when digits > 0, exactly that many
// fraction digits of nanos (truncated).
func appendClock(b []byte, secOfDay int64, nanos int64, digits int) []byte {
	b = append2(b, int(secOfDay/3600))
	b = append(b, ':')
	b = append2(b, int(secOfDay/60%60))
	b = append(b, ':')
	b = append2(b, int(secOfDay%60))
	if digits > 0 {
		if digits > 9 {
			digits = 9
		}
		b = append(b, '.')
		var buf [9]byte
		for i := 8; i >= 0; i-- {
			buf[i] = byte('0' + nanos%10)
			nanos /= 10
		}
		b = append(b, buf[:digits]...)
	}
	return b
}

// appendTimestamp appends YYYY-MM-DDTHH:MM:SS[.f…]Z (no quotes).
func appendTimestamp(b []byte, sec int64, nanos int64, digits int) []byte {
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	b = appendDate(b, days)
	b = append(b, 'T')
	b = appendClock(b, rem, nanos, digits)
	return append(b, 'Z')
}

// AppendJSONString appends s as a JSON string with the escaping the
// messages use (for targets that wrap messages, like the file target).
func AppendJSONString(dst []byte, s string) []byte { return appendString(dst, s) }
