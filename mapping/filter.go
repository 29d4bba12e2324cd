package mapping

import (
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

type filterOp uint8

const (
	opEq filterOp = iota
	opNotEq
	opLte
	opGte
	opBetween
	opNotBetween
	opNull
	opNotNull
)

var filterOpCodes = map[string]filterOp{
	"eq": opEq, "noteq": opNotEq, "lte": opLte, "ste": opLte, "gte": opGte,
	"between": opBetween, "notbetween": opNotBetween, "null": opNull, "notnull": opNotNull,
}

// filter is a compiled source filter: the row passes when any condition
// holds for the column's value.
type filter struct {
	col   int
	conds []cond
}

type cond struct {
	op   filterOp
	a, b tabledefs.Value // typed like the column
}

// compileFilter resolves the filter's column in t and parses its literals
// as the column's type, so that rows compare typed (numbers numerically,
// decimals exactly, dates chronologically, strings bytewise).
func (c *compiler) compileFilter(f filterSpec, r *rule, t *tabledefs.Table) (filter, bool) {
	idx, hint := findColumn(t, f.column)
	if idx < 0 {
		c.noSuchColumn(f.path+".column-name", r, t, f.column, hint)
		return filter{}, false
	}
	col := &t.Columns[idx]
	if col.Type == tabledefs.TypeBlob || col.Type == tabledefs.TypeClob {
		c.problem(f.path+".column-name", r, "source filters cannot use the LOB column %q", f.column)
		return filter{}, false
	}
	out := filter{col: idx}
	good := true
	parse := func(path, text string) tabledefs.Value {
		v, err := literalFor(col, text)
		if err != nil {
			c.problem(path, r, "filter value for column %q: %v", f.column, err)
			good = false
		}
		return v
	}
	for _, cs := range f.conds {
		cd := cond{op: filterOpCodes[cs.op]}
		switch cd.op {
		case opBetween, opNotBetween:
			cd.a = parse(cs.path+".start-value", cs.start)
			cd.b = parse(cs.path+".end-value", cs.end)
		case opNull, opNotNull:
		default:
			cd.a = parse(cs.path+".value", cs.value)
		}
		out.conds = append(out.conds, cd)
	}
	return out, good
}

// literalFor parses a rule's literal text as col's type. Limits that guard
// stored data (string length, numeric scale, fractional seconds) are lifted:
// a filter may compare against any value of the type.
func literalFor(col *tabledefs.Column, text string) (tabledefs.Value, error) {
	lc := *col
	lc.Nullable = true
	lc.Length = 0
	lc.DateFormat = ""
	switch lc.Type {
	case tabledefs.TypeNumeric:
		lc.Precision = 38
		lc.Scale = 0
		if dot := strings.IndexByte(text, '.'); dot >= 0 {
			lc.Scale = min(len(strings.TrimRight(text[dot+1:], " ")), 38)
		}
	case tabledefs.TypeDateTime, tabledefs.TypeTime:
		lc.Scale = 9
	case tabledefs.TypeByte:
		lc.Type = tabledefs.TypeBlob
	}
	return lc.ParseValue(text)
}

// pass reports whether the row passes every filter (AND across filters, OR
// within one). NULL satisfies only the null operator, as in SQL.
func passFilters(fs []filter, vals []tabledefs.Value) bool {
	for i := range fs {
		f := &fs[i]
		v := vals[f.col]
		ok := false
		for j := range f.conds {
			if f.conds[j].holds(v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (c *cond) holds(v tabledefs.Value) bool {
	if v.Kind == tabledefs.KindNull {
		return c.op == opNull
	}
	switch c.op {
	case opEq:
		return compareSame(v, c.a) == 0
	case opNotEq:
		return compareSame(v, c.a) != 0
	case opLte:
		return compareSame(v, c.a) <= 0
	case opGte:
		return compareSame(v, c.a) >= 0
	case opBetween:
		return compareSame(v, c.a) >= 0 && compareSame(v, c.b) <= 0
	case opNotBetween:
		return compareSame(v, c.a) < 0 || compareSame(v, c.b) > 0
	case opNull:
		return false
	case opNotNull:
		return true
	}
	return false
}

// compareSame orders two non-NULL values of one column type.
func compareSame(a, b tabledefs.Value) int {
	switch a.Kind {
	case tabledefs.KindInt, tabledefs.KindBool, tabledefs.KindDate, tabledefs.KindTime:
		return cmpInt(a.Int, b.Int)
	case tabledefs.KindUint:
		return cmpUint(uint64(a.Int), uint64(b.Int))
	case tabledefs.KindFloat:
		x, y := a.Float64(), b.Float64()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case tabledefs.KindDecimal:
		return cmpDecimal(a.Str, b.Str)
	case tabledefs.KindTimestamp:
		if c := cmpInt(a.Int, b.Int); c != 0 {
			return c
		}
		return cmpInt(int64(a.Nano), int64(b.Nano))
	}
	return strings.Compare(a.Str, b.Str)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpDecimal compares decimal texts ([-]digits[.digits]) exactly, whatever
// their scales.
func cmpDecimal(a, b string) int {
	na, nb := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
	a, b = strings.TrimLeft(a, "+-"), strings.TrimLeft(b, "+-")
	if isZeroDecimal(a) {
		na = false
	}
	if isZeroDecimal(b) {
		nb = false
	}
	if na != nb {
		if na {
			return -1
		}
		return 1
	}
	c := cmpMagnitude(a, b)
	if na {
		return -c
	}
	return c
}

func isZeroDecimal(s string) bool {
	return strings.Trim(s, "0.") == ""
}

func cmpMagnitude(a, b string) int {
	ai, af, _ := strings.Cut(a, ".")
	bi, bf, _ := strings.Cut(b, ".")
	ai, bi = strings.TrimLeft(ai, "0"), strings.TrimLeft(bi, "0")
	if len(ai) != len(bi) {
		return cmpInt(int64(len(ai)), int64(len(bi)))
	}
	if c := strings.Compare(ai, bi); c != 0 {
		return c
	}
	af, bf = strings.TrimRight(af, "0"), strings.TrimRight(bf, "0")
	return strings.Compare(af, bf) // equal-length prefixes compare digit by digit; a longer tail is larger
}

func itoa(i int) string { return strconv.Itoa(i) }
