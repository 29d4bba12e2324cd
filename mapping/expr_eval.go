package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// env is what an expression sees while evaluating one event.
type env struct {
	ev  *source.Event
	now func() time.Time
}

type evalFn func(env) tabledefs.Value

// compiledExpr is an expression compiled to closures with its column
// indexes resolved. Evaluation never panics: type errors, division by zero
// and the like give NULL, as in SQLite.
type compiledExpr struct {
	src  string
	eval evalFn
}

const maxExprLen = 64 << 10

func compileExpr(src string, t *tabledefs.Table) (*compiledExpr, error) {
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("expression longer than %d bytes", maxExprLen)
	}
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("expression is empty")
	}
	n, err := parseExpr(src, t)
	if err != nil {
		return nil, err
	}
	return &compiledExpr{src: src, eval: build(n)}, nil
}

var (
	vNull  = tabledefs.Null
	vTrue  = tabledefs.IntValue(1)
	vFalse = tabledefs.IntValue(0)
)

func boolVal(b bool) tabledefs.Value {
	if b {
		return vTrue
	}
	return vFalse
}

func build(n *node) evalFn {
	switch n.kind {
	case nLit:
		v := n.lit
		return func(env) tabledefs.Value { return v }
	case nCol:
		i := n.col
		return func(e env) tabledefs.Value {
			if i < len(e.ev.Values) {
				return e.ev.Values[i]
			}
			return vNull
		}
	case nVar:
		return buildVar(n.op)
	case nUnary:
		x := build(n.args[0])
		switch n.op {
		case "NOT":
			return func(e env) tabledefs.Value {
				t, ok := truth(x(e))
				if !ok {
					return vNull
				}
				return boolVal(!t)
			}
		case "-":
			return func(e env) tabledefs.Value {
				v := x(e)
				if v.IsNull() {
					return vNull
				}
				return negate(toNumber(v))
			}
		default:
			return x
		}
	case nIsNull:
		x := build(n.args[0])
		want := n.op == "ISNULL"
		return func(e env) tabledefs.Value { return boolVal(x(e).IsNull() == want) }
	case nIn:
		return buildIn(n)
	case nBinary:
		return buildBinary(n)
	case nCall:
		return buildCall(n)
	case nCase:
		return buildCase(n)
	}
	return func(env) tabledefs.Value { return vNull }
}

func buildBinary(n *node) evalFn {
	l, r := build(n.args[0]), build(n.args[1])
	switch n.op {
	case "AND":
		return func(e env) tabledefs.Value {
			a, aok := truth(l(e))
			if aok && !a {
				return vFalse
			}
			b, bok := truth(r(e))
			if bok && !b {
				return vFalse
			}
			if !aok || !bok {
				return vNull
			}
			return vTrue
		}
	case "OR":
		return func(e env) tabledefs.Value {
			a, aok := truth(l(e))
			if aok && a {
				return vTrue
			}
			b, bok := truth(r(e))
			if bok && b {
				return vTrue
			}
			if !aok || !bok {
				return vNull
			}
			return vFalse
		}
	case "||":
		return func(e env) tabledefs.Value {
			a, b := l(e), r(e)
			if a.IsNull() || b.IsNull() {
				return vNull
			}
			buf := make([]byte, 0, 32)
			buf = appendExprText(buf, a)
			buf = appendExprText(buf, b)
			return tabledefs.StringValue(string(buf))
		}
	case "+", "-", "*", "/", "%":
		op := n.op[0]
		return func(e env) tabledefs.Value {
			a, b := l(e), r(e)
			if a.IsNull() || b.IsNull() {
				return vNull
			}
			return arith(op, toNumber(a), toNumber(b))
		}
	case "=", "!=", "<", "<=", ">", ">=":
		op := n.op
		return func(e env) tabledefs.Value {
			a, b := l(e), r(e)
			if a.IsNull() || b.IsNull() {
				return vNull
			}
			return boolVal(cmpHolds(op, compareAny(a, b)))
		}
	case "IS", "IS NOT":
		want := n.op == "IS"
		return func(e env) tabledefs.Value {
			a, b := l(e), r(e)
			var same bool
			switch {
			case a.IsNull() || b.IsNull():
				same = a.IsNull() && b.IsNull()
			default:
				same = compareAny(a, b) == 0
			}
			return boolVal(same == want)
		}
	}
	return func(env) tabledefs.Value { return vNull }
}

func cmpHolds(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func buildIn(n *node) evalFn {
	x := build(n.args[0])
	list := make([]evalFn, len(n.args)-1)
	for i, a := range n.args[1:] {
		list[i] = build(a)
	}
	neg := n.op == "NOT IN"
	return func(e env) tabledefs.Value {
		v := x(e)
		if v.IsNull() {
			return vNull
		}
		sawNull := false
		for _, f := range list {
			w := f(e)
			if w.IsNull() {
				sawNull = true
				continue
			}
			if compareAny(v, w) == 0 {
				return boolVal(!neg)
			}
		}
		if sawNull {
			return vNull
		}
		return boolVal(neg)
	}
}

func buildCase(n *node) evalFn {
	var subj evalFn
	if n.args[0] != nil {
		subj = build(n.args[0])
	}
	var whens, thens []evalFn
	for i := 1; i+1 < len(n.args); i += 2 {
		whens = append(whens, build(n.args[i]))
		thens = append(thens, build(n.args[i+1]))
	}
	var els evalFn
	if last := n.args[len(n.args)-1]; last != nil {
		els = build(last)
	}
	return func(e env) tabledefs.Value {
		var s tabledefs.Value
		if subj != nil {
			s = subj(e)
		}
		for i, w := range whens {
			wv := w(e)
			hit := false
			if subj != nil {
				hit = !s.IsNull() && !wv.IsNull() && compareAny(s, wv) == 0
			} else {
				hit, _ = truth(wv)
			}
			if hit {
				return thens[i](e)
			}
		}
		if els != nil {
			return els(e)
		}
		return vNull
	}
}

func buildVar(name string) evalFn {
	switch name {
	case "AR_H_OPERATION":
		return func(e env) tabledefs.Value {
			switch e.ev.Op {
			case source.OpUpdate:
				return tabledefs.StringValue("UPDATE")
			case source.OpDelete:
				return tabledefs.StringValue("DELETE")
			}
			return tabledefs.StringValue("INSERT") // full load rows count as inserts
		}
	case "AR_H_COMMIT_TIMESTAMP", "AR_H_TIMESTAMP":
		// sluice sources carry the commit time only; both headers use it and
		// fall back to the current time during full load, as DMS does.
		return func(e env) tabledefs.Value {
			if !e.ev.CommitTime.IsZero() {
				return tabledefs.TimestampValue(e.ev.CommitTime)
			}
			return tabledefs.TimestampValue(e.now())
		}
	case "AR_H_STREAM_POSITION":
		return func(e env) tabledefs.Value {
			if e.ev.Op == source.OpLoad {
				return tabledefs.StringValue("")
			}
			return tabledefs.StringValue(streamPosition(e.ev))
		}
	case "AR_H_CHANGE_SEQ":
		return func(e env) tabledefs.Value {
			if e.ev.Op == source.OpLoad {
				return tabledefs.StringValue("")
			}
			return tabledefs.StringValue(changeSeq(e.ev))
		}
	case "AR_H_TRANSACTION_ID":
		return func(e env) tabledefs.Value { return tabledefs.StringValue(e.ev.TxID) }
	case "AR_H_USER":
		// No sluice source reports the user who made a change.
		return func(env) tabledefs.Value { return tabledefs.StringValue("") }
	case "AR_M_SOURCE_SCHEMA":
		return func(e env) tabledefs.Value { return tabledefs.StringValue(e.ev.Table.Owner) }
	case "AR_M_SOURCE_TABLE_NAME":
		return func(e env) tabledefs.Value { return tabledefs.StringValue(e.ev.Table.Name) }
	}
	return func(env) tabledefs.Value { return vNull }
}

// streamPosition renders Origin and Seq as "origin:seq".
func streamPosition(ev *source.Event) string {
	return ev.Origin + ":" + strconv.FormatInt(ev.Seq, 10)
}

// changeSeq renders the 35-digit DMS change sequence: the commit time as
// YYYYMMDDHHmmSShh (hundredths of a second) and Seq as 19 zero-padded digits.
func changeSeq(ev *source.Event) string {
	b := make([]byte, 0, 35)
	t := ev.CommitTime.UTC()
	b = t.AppendFormat(b, "20060102150405")
	h := t.Nanosecond() / 10_000_000
	b = append(b, byte('0'+h/10), byte('0'+h%10))
	seq := strconv.FormatUint(uint64(ev.Seq), 10)
	for i := len(seq); i < 19; i++ {
		b = append(b, '0')
	}
	return string(append(b, seq...))
}

func buildCall(n *node) evalFn {
	args := make([]evalFn, len(n.args))
	for i, a := range n.args {
		args[i] = build(a)
	}
	a0 := args[0]
	switch n.op {
	case "upper", "lower":
		up := n.op == "upper"
		return func(e env) tabledefs.Value {
			v := a0(e)
			if v.IsNull() {
				return vNull
			}
			s := exprText(v)
			if up {
				return tabledefs.StringValue(strings.ToUpper(s))
			}
			return tabledefs.StringValue(strings.ToLower(s))
		}
	case "length":
		return func(e env) tabledefs.Value {
			v := a0(e)
			switch v.Kind {
			case tabledefs.KindNull:
				return vNull
			case tabledefs.KindBytes:
				return tabledefs.IntValue(int64(len(v.Str)))
			}
			return tabledefs.IntValue(int64(utf8.RuneCountInString(exprText(v))))
		}
	case "substr", "substring":
		return func(e env) tabledefs.Value {
			v, p1v := a0(e), args[1](e)
			if v.IsNull() || p1v.IsNull() {
				return vNull
			}
			p1 := clampInt(toInt(p1v))
			p2, hasLen := int64(math.MaxInt32), false
			if len(args) == 3 {
				p2v := args[2](e)
				if p2v.IsNull() {
					return vNull
				}
				p2, hasLen = clampInt(toInt(p2v)), true
			}
			return tabledefs.StringValue(substr(exprText(v), p1, p2, hasLen))
		}
	case "trim", "ltrim", "rtrim":
		op := n.op
		return func(e env) tabledefs.Value {
			v := a0(e)
			if v.IsNull() {
				return vNull
			}
			cut := " "
			if len(args) == 2 {
				c := args[1](e)
				if c.IsNull() {
					return vNull
				}
				cut = exprText(c)
			}
			s := exprText(v)
			switch op {
			case "ltrim":
				s = strings.TrimLeft(s, cut)
			case "rtrim":
				s = strings.TrimRight(s, cut)
			default:
				s = strings.Trim(s, cut)
			}
			return tabledefs.StringValue(s)
		}
	case "replace":
		return func(e env) tabledefs.Value {
			v, from, to := a0(e), args[1](e), args[2](e)
			if v.IsNull() || from.IsNull() || to.IsNull() {
				return vNull
			}
			s, f := exprText(v), exprText(from)
			if f == "" {
				return tabledefs.StringValue(s)
			}
			return tabledefs.StringValue(strings.ReplaceAll(s, f, exprText(to)))
		}
	case "coalesce", "ifnull":
		return func(e env) tabledefs.Value {
			for _, a := range args {
				if v := a(e); !v.IsNull() {
					return v
				}
			}
			return vNull
		}
	case "nullif":
		return func(e env) tabledefs.Value {
			a, b := a0(e), args[1](e)
			if !a.IsNull() && !b.IsNull() && compareAny(a, b) == 0 {
				return vNull
			}
			return a
		}
	case "instr":
		return func(e env) tabledefs.Value {
			a, b := a0(e), args[1](e)
			if a.IsNull() || b.IsNull() {
				return vNull
			}
			s := exprText(a)
			i := strings.Index(s, exprText(b))
			if i < 0 {
				return vFalse
			}
			return tabledefs.IntValue(int64(utf8.RuneCountInString(s[:i]) + 1))
		}
	case "round":
		return func(e env) tabledefs.Value {
			v := a0(e)
			if v.IsNull() {
				return vNull
			}
			digits := int64(0)
			if len(args) == 2 {
				d := args[1](e)
				if d.IsNull() {
					return vNull
				}
				digits = min(max(toInt(d), 0), 30)
			}
			f := toFloat(toNumber(v))
			p := math.Pow(10, float64(digits))
			r := math.Round(f*p) / p
			if math.IsInf(r, 0) || math.IsNaN(r) {
				r = f
			}
			return tabledefs.FloatValue(r)
		}
	case "abs":
		return func(e env) tabledefs.Value {
			v := a0(e)
			if v.IsNull() {
				return vNull
			}
			x := toNumber(v)
			if x.Kind == tabledefs.KindFloat {
				return tabledefs.FloatValue(math.Abs(x.Float64()))
			}
			if x.Int == math.MinInt64 {
				return tabledefs.FloatValue(-float64(x.Int))
			}
			if x.Int < 0 {
				return tabledefs.IntValue(-x.Int)
			}
			return x
		}
	case "datetime", "date", "time":
		op := n.op
		return func(e env) tabledefs.Value {
			v := a0(e)
			var ts time.Time
			switch v.Kind {
			case tabledefs.KindNull:
				return vNull
			case tabledefs.KindTimestamp, tabledefs.KindDate:
				ts = v.Time()
			case tabledefs.KindTime:
				ts = time.Unix(0, v.Int).UTC()
			default:
				s := exprText(v)
				if strings.EqualFold(s, "now") {
					ts = e.now().UTC()
				} else {
					var ok bool
					if ts, ok = parseTimestampText(s); !ok {
						return vNull
					}
				}
			}
			switch op {
			case "date":
				return tabledefs.DateValue(floorDiv(ts.Unix(), 86400))
			case "time":
				return tabledefs.TimeValue((ts.Unix() - floorDiv(ts.Unix(), 86400)*86400) * 1e9)
			}
			return tabledefs.TimestampValue(ts.Truncate(time.Second))
		}
	case "operation_indicator":
		d, u, i := n.args[0].lit, n.args[1].lit, n.args[2].lit
		return func(e env) tabledefs.Value {
			switch e.ev.Op {
			case source.OpDelete:
				return d
			case source.OpUpdate:
				return u
			}
			return i // inserts and full-load rows
		}
	}
	return func(env) tabledefs.Value { return vNull }
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// parseTimestampText reads "YYYY-MM-DD[( |T)HH:MM:SS[.f]][Z]".
func parseTimestampText(s string) (time.Time, bool) {
	c := tabledefs.Column{Type: tabledefs.TypeDateTime, Scale: 9, Nullable: true}
	v, err := c.ParseValue(strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return v.Time(), true
}

func clampInt(i int64) int64 { return min(max(i, -math.MaxInt32), math.MaxInt32) }

// substr follows SQLite's substr(X, Y, Z) on characters: Y is 1-based,
// negative Y counts from the end, negative Z takes characters before Y.
func substr(s string, p1, p2 int64, hasLen bool) string {
	rs := []rune(s)
	n := int64(len(rs))
	neg := false
	if hasLen && p2 < 0 {
		p2, neg = -p2, true
	}
	switch {
	case p1 < 0:
		p1 += n
		if p1 < 0 {
			p2 += p1
			if p2 < 0 {
				p2 = 0
			}
			p1 = 0
		}
	case p1 > 0:
		p1--
	case p2 > 0:
		p2--
	}
	if neg {
		p1 -= p2
		if p1 < 0 {
			p2 += p1
			p1 = 0
		}
	}
	if p1 >= n || p2 <= 0 {
		return ""
	}
	if p1+p2 > n {
		p2 = n - p1
	}
	return string(rs[p1 : p1+p2])
}

// truth reads a value as a condition; ok is false for NULL.
func truth(v tabledefs.Value) (bool, bool) {
	if v.IsNull() {
		return false, false
	}
	x := toNumber(v)
	if x.Kind == tabledefs.KindFloat {
		return x.Float64() != 0, true
	}
	return x.Int != 0, true
}

// toNumber converts a value to KindInt or KindFloat the way SQLite does
// for arithmetic: text contributes its longest numeric prefix (or 0).
func toNumber(v tabledefs.Value) tabledefs.Value {
	switch v.Kind {
	case tabledefs.KindInt, tabledefs.KindFloat:
		return v
	case tabledefs.KindBool:
		return tabledefs.IntValue(v.Int)
	case tabledefs.KindUint:
		if v.Int >= 0 {
			return tabledefs.IntValue(v.Int)
		}
		return tabledefs.FloatValue(float64(uint64(v.Int)))
	case tabledefs.KindDecimal:
		return textNumber(v.Str)
	case tabledefs.KindNull:
		return vFalse
	}
	return textNumber(exprText(v))
}

func textNumber(s string) tabledefs.Value {
	s = strings.TrimSpace(s)
	end := numericPrefix(s)
	if end == 0 {
		return vFalse
	}
	if i, err := strconv.ParseInt(s[:end], 10, 64); err == nil {
		return tabledefs.IntValue(i)
	}
	if f, err := strconv.ParseFloat(s[:end], 64); err == nil || isRangeErr(err) {
		return tabledefs.FloatValue(f)
	}
	return vFalse
}

// numericPrefix returns the length of the longest prefix of s of the form
// [+-]digits[.digits][(e|E)[+-]digits] with at least one digit, in one pass.
func numericPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j, digits = j+1, digits+1
		}
		if digits > 0 {
			i = j
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	return i
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// looksNumeric reports whether the whole text is a number.
func looksNumeric(s string) (tabledefs.Value, bool) {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return tabledefs.IntValue(i), true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "inIN") {
		return tabledefs.FloatValue(f), true
	}
	return vNull, false
}

func toFloat(v tabledefs.Value) float64 {
	if v.Kind == tabledefs.KindFloat {
		return v.Float64()
	}
	return float64(v.Int)
}

func toInt(v tabledefs.Value) int64 {
	x := toNumber(v)
	if x.Kind == tabledefs.KindFloat {
		f := x.Float64()
		switch {
		case math.IsNaN(f):
			return 0
		case f >= math.MaxInt64:
			return math.MaxInt64
		case f <= math.MinInt64:
			return math.MinInt64
		}
		return int64(f)
	}
	return x.Int
}

func negate(v tabledefs.Value) tabledefs.Value {
	if v.Kind == tabledefs.KindFloat {
		return tabledefs.FloatValue(-v.Float64())
	}
	if v.Int == math.MinInt64 {
		return tabledefs.FloatValue(-float64(v.Int))
	}
	return tabledefs.IntValue(-v.Int)
}

// arith applies + - * / % to two numbers (KindInt or KindFloat). Integer
// overflow switches to floating point and division by zero gives NULL, as
// in SQLite.
func arith(op byte, a, b tabledefs.Value) tabledefs.Value {
	if a.Kind == tabledefs.KindInt && b.Kind == tabledefs.KindInt {
		x, y := a.Int, b.Int
		switch op {
		case '+':
			if s := x + y; (s > x) == (y > 0) {
				return tabledefs.IntValue(s)
			}
		case '-':
			if s := x - y; (s < x) == (y > 0) {
				return tabledefs.IntValue(s)
			}
		case '*':
			if x == 0 || y == 0 {
				return tabledefs.IntValue(0)
			}
			if s := x * y; s/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64) {
				return tabledefs.IntValue(s)
			}
		case '/':
			if y == 0 {
				return vNull
			}
			if x == math.MinInt64 && y == -1 {
				return tabledefs.FloatValue(-float64(x))
			}
			return tabledefs.IntValue(x / y)
		case '%':
			if y == 0 {
				return vNull
			}
			if y == -1 {
				return tabledefs.IntValue(0)
			}
			return tabledefs.IntValue(x % y)
		}
	}
	if op == '%' {
		x, y := toInt(a), toInt(b)
		if y == 0 {
			return vNull
		}
		if y == -1 {
			return tabledefs.IntValue(0)
		}
		return tabledefs.IntValue(x % y)
	}
	x, y := toFloat(a), toFloat(b)
	var r float64
	switch op {
	case '+':
		r = x + y
	case '-':
		r = x - y
	case '*':
		r = x * y
	case '/':
		if y == 0 {
			return vNull
		}
		r = x / y
	}
	return tabledefs.FloatValue(r)
}

func isNumericKind(k tabledefs.Kind) bool {
	switch k {
	case tabledefs.KindInt, tabledefs.KindUint, tabledefs.KindFloat, tabledefs.KindDecimal, tabledefs.KindBool:
		return true
	}
	return false
}

func isTemporalKind(k tabledefs.Kind) bool {
	return k == tabledefs.KindDate || k == tabledefs.KindTime || k == tabledefs.KindTimestamp
}

// compareAny orders two non-NULL values: numbers numerically (decimals
// exactly), same-kind dates and times chronologically, text bytewise; a
// number against text compares numerically when the text is a number and
// sorts first otherwise; other mixtures compare as text.
func compareAny(a, b tabledefs.Value) int {
	an, bn := isNumericKind(a.Kind), isNumericKind(b.Kind)
	switch {
	case a.Kind == b.Kind && a.Kind != tabledefs.KindFloat:
		return compareSame(a, b)
	case an && bn:
		if a.Kind == tabledefs.KindDecimal && b.Kind == tabledefs.KindDecimal {
			return cmpDecimal(a.Str, b.Str)
		}
		return cmpNumbers(toNumber(a), toNumber(b))
	case an && b.Kind == tabledefs.KindString:
		if bv, ok := looksNumeric(b.Str); ok {
			return cmpNumbers(toNumber(a), bv)
		}
		return -1
	case bn && a.Kind == tabledefs.KindString:
		if av, ok := looksNumeric(a.Str); ok {
			return cmpNumbers(av, toNumber(b))
		}
		return 1
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(exprText(a), exprText(b))
}

func cmpNumbers(a, b tabledefs.Value) int {
	if a.Kind == tabledefs.KindInt && b.Kind == tabledefs.KindInt {
		return cmpInt(a.Int, b.Int)
	}
	x, y := toFloat(a), toFloat(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// exprText is the text form of a value inside expressions.
func exprText(v tabledefs.Value) string {
	if v.Kind == tabledefs.KindString {
		return v.Str
	}
	return string(appendExprText(nil, v))
}

func appendExprText(dst []byte, v tabledefs.Value) []byte {
	if v.Kind == tabledefs.KindTimestamp && v.Nano != 0 {
		return tabledefs.AppendText(dst, v, &tabledefs.Column{Type: tabledefs.TypeDateTime, Scale: 6})
	}
	return tabledefs.AppendText(dst, v, nil)
}
