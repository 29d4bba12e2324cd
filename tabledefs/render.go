package tabledefs

import (
	"strconv"
)

// AppendText appends the canonical text of v, a value of column c, to dst.
// Parsing that text with c.ParseValue (without ColumnDateFormat) gives v
// back. NULL appends nothing. c may be nil: floats then render as REAL8 and
// times without fraction digits.
func AppendText(dst []byte, v Value, c *Column) []byte {
	scale := 0
	if c != nil {
		scale = min(max(c.Scale, 0), MaxFractionDigits)
	}
	switch v.Kind {
	case KindInt:
		return strconv.AppendInt(dst, v.Int, 10)
	case KindUint:
		return strconv.AppendUint(dst, uint64(v.Int), 10)
	case KindFloat:
		bits := 64
		if c != nil && c.Type == TypeReal4 {
			bits = 32
		}
		return strconv.AppendFloat(dst, v.Float64(), 'g', -1, bits)
	case KindDecimal, KindString:
		return append(dst, v.Str...)
	case KindBool:
		if v.Int != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case KindBytes:
		const hexDigits = "0123456789ABCDEF"
		for i := 0; i < len(v.Str); i++ {
			dst = append(dst, hexDigits[v.Str[i]>>4], hexDigits[v.Str[i]&15])
		}
		return dst
	case KindDate:
		return appendDate(dst, v.Int)
	case KindTime:
		return appendClock(dst, v.Int, scale)
	case KindTimestamp:
		days, secs := floorDiv(v.Int, 86400)
		dst = appendDate(dst, days)
		dst = append(dst, ' ')
		return appendClock(dst, secs*1_000_000_000+int64(v.Nano), scale)
	}
	return dst
}

// AppendTimestampISO appends a DATETIME (or DATE, at midnight) value as
// 2006-01-02T15:04:05[.fff]Z with exactly scale fraction digits when
// scale > 0, for JSON encoders.
func AppendTimestampISO(dst []byte, v Value, scale int) []byte {
	scale = min(max(scale, 0), MaxFractionDigits)
	var days, nanos int64
	switch v.Kind {
	case KindDate:
		days = v.Int
	case KindTimestamp:
		var secs int64
		days, secs = floorDiv(v.Int, 86400)
		nanos = secs*1_000_000_000 + int64(v.Nano)
	default:
		return dst
	}
	dst = appendDate(dst, days)
	dst = append(dst, 'T')
	dst = appendClock(dst, nanos, scale)
	return append(dst, 'Z')
}

func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

func appendDate(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	if y >= 0 && y <= 9999 {
		dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		dst = strconv.AppendInt(dst, int64(y), 10) // outside what ParseValue accepts
	}
	return append(dst, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

func appendClock(dst []byte, nanos int64, scale int) []byte {
	_, nanos = floorDiv(nanos, nanosPerDay)
	secs := nanos / 1_000_000_000
	h, mi, s := secs/3600, secs/60%60, secs%60
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	if scale == 0 {
		return dst
	}
	frac := nanos % 1_000_000_000 / pow10[9-scale]
	dst = append(dst, '.')
	for i := scale - 1; i >= 0; i-- {
		dst = append(dst, byte('0'+frac/pow10[i]%10))
	}
	return dst
}
