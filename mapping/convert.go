package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

// coerce converts v to the type of column to: the result of an add-column
// expression or a change-data-type rule. Text converts through the column's
// parser (so DATE from YYYY-MM-DD, DATETIME from YYYY-MM-DD HH:MM:SS, …);
// numbers convert numerically (fractions truncate toward zero into integer
// types, round half away from zero into NUMERIC scale); anything converts to
// text. A *tabledefs.ValueError (possibly a truncation) explains a failure.
func coerce(v tabledefs.Value, to *tabledefs.Column) (tabledefs.Value, error) {
	if v.IsNull() {
		return v, nil
	}
	want := to.Type.Kind()
	if v.Kind == want && unconstrained(to) {
		return v, nil
	}
	pc := *to
	pc.Nullable = true
	pc.DateFormat = ""
	switch want {
	case tabledefs.KindString:
		if v.Kind == tabledefs.KindString {
			return pc.ParseValue(v.Str)
		}
		return pc.ParseValue(string(appendExprText(nil, v)))
	case tabledefs.KindBytes:
		if v.Kind == tabledefs.KindString || v.Kind == tabledefs.KindBytes {
			if to.Type == tabledefs.TypeByte && to.Length > 0 && len(v.Str) > to.Length {
				return tabledefs.Null, &tabledefs.ValueError{Type: to.Type, Text: v.Str, Reason: fmt.Sprintf("%d bytes exceed the length %d", len(v.Str), to.Length), Truncation: true}
			}
			return tabledefs.BytesValue(v.Str), nil
		}
	case tabledefs.KindInt, tabledefs.KindUint:
		switch v.Kind {
		case tabledefs.KindFloat:
			f := math.Trunc(v.Float64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return tabledefs.Null, &tabledefs.ValueError{Type: to.Type, Text: strconv.FormatFloat(v.Float64(), 'g', -1, 64), Reason: "not a finite number"}
			}
			return pc.ParseValue(strconv.FormatFloat(f, 'f', 0, 64))
		case tabledefs.KindDecimal:
			ip, _, _ := strings.Cut(v.Str, ".")
			if ip == "-0" || ip == "-" || ip == "" {
				ip = "0"
			}
			return pc.ParseValue(ip)
		case tabledefs.KindBool:
			return pc.ParseValue(strconv.FormatInt(v.Int, 10))
		}
	case tabledefs.KindFloat:
		switch v.Kind {
		case tabledefs.KindInt, tabledefs.KindBool:
			return tabledefs.FloatValue(float64(v.Int)), nil
		case tabledefs.KindUint:
			return tabledefs.FloatValue(float64(uint64(v.Int))), nil
		case tabledefs.KindFloat:
			if to.Type == tabledefs.TypeReal4 {
				return tabledefs.FloatValue(float64(float32(v.Float64()))), nil
			}
			return v, nil
		}
	case tabledefs.KindDecimal:
		switch v.Kind {
		case tabledefs.KindDecimal:
			return pc.ParseValue(rescaleDecimal(v.Str, to.Scale))
		case tabledefs.KindFloat:
			f := v.Float64()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return tabledefs.Null, &tabledefs.ValueError{Type: to.Type, Text: strconv.FormatFloat(f, 'g', -1, 64), Reason: "not a finite number"}
			}
			return pc.ParseValue(strconv.FormatFloat(f, 'f', to.Scale, 64))
		}
	case tabledefs.KindBool:
		switch v.Kind {
		case tabledefs.KindInt, tabledefs.KindUint:
			return tabledefs.BoolValue(v.Int != 0), nil
		case tabledefs.KindFloat:
			return tabledefs.BoolValue(v.Float64() != 0), nil
		}
	case tabledefs.KindDate:
		if v.Kind == tabledefs.KindTimestamp {
			return tabledefs.DateValue(floorDiv(v.Int, 86400)), nil
		}
	case tabledefs.KindTime:
		if v.Kind == tabledefs.KindTimestamp {
			return tabledefs.TimeValue((v.Int-floorDiv(v.Int, 86400)*86400)*1e9 + int64(v.Nano)), nil
		}
	case tabledefs.KindTimestamp:
		if v.Kind == tabledefs.KindDate {
			return tabledefs.Value{Kind: tabledefs.KindTimestamp, Int: v.Int * 86400}, nil
		}
		if v.Kind == tabledefs.KindTimestamp {
			return v, nil
		}
	}
	if v.Kind == tabledefs.KindBytes || (isTemporalKind(v.Kind) && !isTemporalKind(want) && want != tabledefs.KindString) {
		return tabledefs.Null, &tabledefs.ValueError{Type: to.Type, Text: string(appendExprText(nil, v)), Reason: "cannot convert a " + kindName(v.Kind) + " value"}
	}
	return pc.ParseValue(string(appendExprText(nil, v)))
}

// unconstrained reports whether every value of the column's kind fits the
// column, so that a value of that kind needs no conversion.
func unconstrained(c *tabledefs.Column) bool {
	switch c.Type {
	case tabledefs.TypeInt8, tabledefs.TypeUint8, tabledefs.TypeReal8, tabledefs.TypeClob, tabledefs.TypeBlob,
		tabledefs.TypeDate, tabledefs.TypeTime, tabledefs.TypeBoolean, tabledefs.TypeDateTime:
		return true
	case tabledefs.TypeString, tabledefs.TypeByte:
		return c.Length <= 0
	}
	return false
}

func kindName(k tabledefs.Kind) string {
	switch k {
	case tabledefs.KindBytes:
		return "binary"
	case tabledefs.KindDate:
		return "date"
	case tabledefs.KindTime:
		return "time"
	case tabledefs.KindTimestamp:
		return "datetime"
	}
	return "value"
}

// rescaleDecimal gives decimal text exactly scale fraction digits, rounding
// half away from zero.
func rescaleDecimal(s string, scale int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" {
		ip = "0"
	}
	roundUp := false
	if len(fp) > scale {
		roundUp = fp[scale] >= '5'
		fp = fp[:scale]
	}
	for len(fp) < scale {
		fp += "0"
	}
	digits := []byte(ip + fp)
	if roundUp {
		i := len(digits) - 1
		for ; i >= 0; i-- {
			if digits[i] == '9' {
				digits[i] = '0'
				continue
			}
			digits[i]++
			break
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	out := string(digits[:len(digits)-scale])
	if scale > 0 {
		out += "." + string(digits[len(digits)-scale:])
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}
