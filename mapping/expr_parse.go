package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sluicedata/sluice/tabledefs"
)

// The add-column expression language is a subset of SQLite:
//
//	literals      'text' ('' escapes a quote), "text", 12, -3.5, 1e3, NULL, TRUE, FALSE
//	columns       $name (source column; exact name first, then case-insensitive)
//	headers       $AR_H_OPERATION, $AR_H_COMMIT_TIMESTAMP, $AR_H_TIMESTAMP,
//	              $AR_H_STREAM_POSITION, $AR_H_CHANGE_SEQ, $AR_H_TRANSACTION_ID, $AR_H_USER
//	metadata      $AR_M_SOURCE_SCHEMA, $AR_M_SOURCE_TABLE_NAME
//	operators     || * / % + - < <= > >= = == != <> IS [NOT] NULL, ISNULL, NOTNULL,
//	              x IS [NOT] y, x [NOT] IN (a, b, …), NOT, AND, OR, unary - +
//	CASE          CASE [x] WHEN … THEN … [ELSE …] END
//	functions     upper lower length substr/substring trim ltrim rtrim replace
//	              coalesce ifnull nullif round abs instr datetime date time
//	              operation_indicator('D', 'U', 'I')
//
// Precedence, loosest first: OR; AND; NOT; = == != <> IS IN ISNULL NOTNULL;
// < <= > >=; + -; * / %; ||; unary - +.

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tStr
	tVar
	tIdent
	tPunct
)

type token struct {
	kind tokKind
	text string // identifier/punct as written; literal text for strings (unescaped)
	pos  int    // byte offset, for messages
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tStr:
		return strconv.Quote(t.text)
	case tVar:
		return "$" + t.text
	}
	return "'" + t.text + "'"
}

func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		ch := src[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '\'' || ch == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, fmt.Errorf("unterminated string starting at offset %d", i)
				}
				if src[j] == ch {
					if j+1 < len(src) && src[j+1] == ch {
						b.WriteByte(ch)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, token{kind: tStr, text: b.String(), pos: i})
			i = j + 1
		case ch >= '0' && ch <= '9' || ch == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{kind: tNum, text: src[i:j], pos: i})
			i = j
		case ch == '$':
			j := i + 1
			for j < len(src) {
				r, n := utf8.DecodeRuneInString(src[j:])
				if !isIdentRune(r) {
					break
				}
				j += n
			}
			if j == i+1 {
				return nil, fmt.Errorf("'$' at offset %d must be followed by a column or header name", i)
			}
			toks = append(toks, token{kind: tVar, text: src[i+1 : j], pos: i})
			i = j
		default:
			r, n := utf8.DecodeRuneInString(src[i:])
			if isIdentRune(r) && !(r >= '0' && r <= '9') {
				j := i
				for j < len(src) {
					r, n := utf8.DecodeRuneInString(src[j:])
					if !isIdentRune(r) {
						break
					}
					j += n
				}
				toks = append(toks, token{kind: tIdent, text: src[i:j], pos: i})
				i = j
				continue
			}
			for _, p := range []string{"||", "<=", ">=", "!=", "<>", "==", "(", ")", ",", "+", "-", "*", "/", "%", "<", ">", "="} {
				if strings.HasPrefix(src[i:], p) {
					toks = append(toks, token{kind: tPunct, text: p, pos: i})
					i += len(p)
					goto next
				}
			}
			return nil, fmt.Errorf("unexpected character %q at offset %d", r, i)
		next:
			_ = n
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

func isIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r > utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

type nodeKind uint8

const (
	nLit nodeKind = iota
	nCol
	nVar    // header or metadata variable; op holds the upper-case name
	nUnary  // op: "-", "+", "NOT"
	nBinary // op: "||", "+", …, "AND", "OR", "IS", "IS NOT"
	nIsNull // op: "ISNULL", "NOTNULL"
	nIn     // args[0] IN args[1:]; op "IN" or "NOT IN"
	nCall   // op: lower-case function name
	nCase   // args: [subject or nil, when1, then1, …, else or nil]
)

type node struct {
	kind nodeKind
	op   string
	lit  tabledefs.Value
	col  int
	args []*node
	pos  int
}

// Limits keep hostile expressions from building trees deep enough to
// exhaust the stack when compiled or evaluated.
const (
	maxExprDepth = 100
	maxChain     = 1000
)

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	table *tabledefs.Table
}

// parseExpr parses src, resolving $columns against t.
func parseExpr(src string, t *tabledefs.Table) (*node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, table: t}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if tok := p.peek(); tok.kind != tEOF {
		return nil, fmt.Errorf("unexpected %s at offset %d", tok, tok.pos)
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// keyword reports whether the next token is the keyword kw, consuming it.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) punct(s string) bool {
	t := p.peek()
	if t.kind == tPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(s string) error {
	if p.punct(s) {
		return nil
	}
	t := p.peek()
	return fmt.Errorf("expected '%s' but found %s at offset %d", s, t, t.pos)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return fmt.Errorf("expression nested too deeply at offset %d", p.peek().pos)
	}
	return nil
}

func (p *parser) binary(next func() (*node, error), ops ...string) (*node, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	chain := 0
	for {
		t := p.peek()
		op := ""
		for _, o := range ops {
			if (t.kind == tPunct && t.text == o) || (t.kind == tIdent && strings.EqualFold(t.text, o)) {
				op = o
				break
			}
		}
		if op == "" {
			return l, nil
		}
		p.i++
		if chain++; chain > maxChain {
			return nil, fmt.Errorf("expression too long at offset %d", t.pos)
		}
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = &node{kind: nBinary, op: op, args: []*node{l, r}, pos: t.pos}
	}
}

func (p *parser) or() (*node, error)  { return p.binary(p.and, "OR") }
func (p *parser) and() (*node, error) { return p.binary(p.not, "AND") }

func (p *parser) not() (*node, error) {
	t := p.peek()
	if p.keyword("NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		x, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &node{kind: nUnary, op: "NOT", args: []*node{x}, pos: t.pos}, nil
	}
	return p.equality()
}

func (p *parser) equality() (*node, error) {
	l, err := p.compare()
	if err != nil {
		return nil, err
	}
	chain := 0
	for {
		t := p.peek()
		switch {
		case t.kind == tPunct && (t.text == "=" || t.text == "==" || t.text == "!=" || t.text == "<>"):
			p.i++
			r, err := p.compare()
			if err != nil {
				return nil, err
			}
			op := t.text
			if op == "==" {
				op = "="
			} else if op == "<>" {
				op = "!="
			}
			l = &node{kind: nBinary, op: op, args: []*node{l, r}, pos: t.pos}
		case p.keyword("ISNULL"):
			l = &node{kind: nIsNull, op: "ISNULL", args: []*node{l}, pos: t.pos}
		case p.keyword("NOTNULL"):
			l = &node{kind: nIsNull, op: "NOTNULL", args: []*node{l}, pos: t.pos}
		case p.keyword("IS"):
			op := "IS"
			if p.keyword("NOT") {
				op = "IS NOT"
			}
			r, err := p.compare()
			if err != nil {
				return nil, err
			}
			l = &node{kind: nBinary, op: op, args: []*node{l, r}, pos: t.pos}
		case t.kind == tIdent && (strings.EqualFold(t.text, "IN") || strings.EqualFold(t.text, "NOT") && p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1].text, "IN")):
			op := "IN"
			if p.keyword("NOT") {
				op = "NOT IN"
			}
			p.keyword("IN")
			if err := p.expect("("); err != nil {
				return nil, err
			}
			args := []*node{l}
			for {
				x, err := p.or()
				if err != nil {
					return nil, err
				}
				args = append(args, x)
				if !p.punct(",") {
					break
				}
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			l = &node{kind: nIn, op: op, args: args, pos: t.pos}
		case t.kind == tIdent && strings.EqualFold(t.text, "NOT") && p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1].text, "NULL"):
			p.i += 2
			l = &node{kind: nIsNull, op: "NOTNULL", args: []*node{l}, pos: t.pos}
		default:
			return l, nil
		}
		if chain++; chain > maxChain {
			return nil, fmt.Errorf("expression too long at offset %d", t.pos)
		}
	}
}

func (p *parser) compare() (*node, error)  { return p.binary(p.additive, "<=", ">=", "<", ">") }
func (p *parser) additive() (*node, error) { return p.binary(p.multiplicative, "+", "-") }
func (p *parser) multiplicative() (*node, error) {
	return p.binary(p.concat, "*", "/", "%")
}
func (p *parser) concat() (*node, error) { return p.binary(p.unary, "||") }

func (p *parser) unary() (*node, error) {
	t := p.peek()
	if t.kind == tPunct && (t.text == "-" || t.text == "+") {
		p.i++
		if err := p.enter(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		if t.text == "-" && x.kind == nLit && (x.lit.Kind == tabledefs.KindInt || x.lit.Kind == tabledefs.KindFloat) {
			return &node{kind: nLit, lit: negate(x.lit), pos: t.pos}, nil
		}
		return &node{kind: nUnary, op: t.text, args: []*node{x}, pos: t.pos}, nil
	}
	return p.primary()
}

func (p *parser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		v, err := numberLiteral(t.text)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q at offset %d", t.text, t.pos)
		}
		return &node{kind: nLit, lit: v, pos: t.pos}, nil
	case tStr:
		return &node{kind: nLit, lit: tabledefs.StringValue(t.text), pos: t.pos}, nil
	case tVar:
		return p.variable(t)
	case tPunct:
		if t.text == "(" {
			if err := p.enter(); err != nil {
				return nil, err
			}
			x, err := p.or()
			p.depth--
			if err != nil {
				return nil, err
			}
			return x, p.expect(")")
		}
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "NULL":
			return &node{kind: nLit, pos: t.pos}, nil
		case "TRUE":
			return &node{kind: nLit, lit: tabledefs.IntValue(1), pos: t.pos}, nil
		case "FALSE":
			return &node{kind: nLit, lit: tabledefs.IntValue(0), pos: t.pos}, nil
		case "CASE":
			return p.caseExpr(t)
		}
		if p.punct("(") {
			return p.call(t)
		}
		return nil, fmt.Errorf("unknown identifier %q at offset %d (columns are written $%s)", t.text, t.pos, t.text)
	}
	return nil, fmt.Errorf("unexpected %s at offset %d", t, t.pos)
}

func (p *parser) caseExpr(t token) (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &node{kind: nCase, pos: t.pos, args: []*node{nil}}
	if nt := p.peek(); nt.kind == tIdent && (strings.EqualFold(nt.text, "END") || strings.EqualFold(nt.text, "ELSE")) {
		return nil, fmt.Errorf("CASE at offset %d needs at least one WHEN, found %s", t.pos, nt)
	}
	if !(p.peek().kind == tIdent && strings.EqualFold(p.peek().text, "WHEN")) {
		subj, err := p.or()
		if err != nil {
			return nil, err
		}
		n.args[0] = subj
	}
	for p.keyword("WHEN") {
		w, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.keyword("THEN") {
			tok := p.peek()
			return nil, fmt.Errorf("expected THEN but found %s at offset %d", tok, tok.pos)
		}
		th, err := p.or()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, w, th)
	}
	if len(n.args) == 1 {
		tok := p.peek()
		return nil, fmt.Errorf("CASE at offset %d needs at least one WHEN, found %s", t.pos, tok)
	}
	var els *node
	if p.keyword("ELSE") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		els = e
	}
	n.args = append(n.args, els)
	if !p.keyword("END") {
		tok := p.peek()
		return nil, fmt.Errorf("expected END but found %s at offset %d", tok, tok.pos)
	}
	return n, nil
}

// funcArity gives the allowed argument counts of each function.
var funcArity = map[string][2]int{
	"upper": {1, 1}, "lower": {1, 1}, "length": {1, 1}, "substr": {2, 3}, "substring": {2, 3},
	"trim": {1, 2}, "ltrim": {1, 2}, "rtrim": {1, 2}, "replace": {3, 3},
	"coalesce": {2, 1 << 20}, "ifnull": {2, 2}, "nullif": {2, 2}, "round": {1, 2}, "abs": {1, 1},
	"instr": {2, 2}, "datetime": {1, 1}, "date": {1, 1}, "time": {1, 1},
	"operation_indicator": {3, 3},
}

func (p *parser) call(t token) (*node, error) {
	name := strings.ToLower(t.text)
	ar, ok := funcArity[name]
	if !ok {
		names := make([]string, 0, len(funcArity))
		for k := range funcArity {
			names = append(names, k)
		}
		if s := tabledefs.Closest(name, names); s != "" {
			return nil, fmt.Errorf("unknown function %s at offset %d (did you mean %s?)", t.text, t.pos, s)
		}
		return nil, fmt.Errorf("unknown function %s at offset %d", t.text, t.pos)
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	n := &node{kind: nCall, op: name, pos: t.pos}
	if !p.punct(")") {
		for {
			x, err := p.or()
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, x)
			if p.punct(")") {
				break
			}
			if !p.punct(",") {
				tok := p.peek()
				return nil, fmt.Errorf("expected ',' or ')' but found %s at offset %d", tok, tok.pos)
			}
		}
	}
	if len(n.args) < ar[0] || len(n.args) > ar[1] {
		want := strconv.Itoa(ar[0])
		if ar[1] > ar[0] && ar[1] < 1<<20 {
			want += " to " + strconv.Itoa(ar[1])
		} else if ar[1] > ar[0] {
			want = "at least " + want
		}
		return nil, fmt.Errorf("%s at offset %d takes %s arguments, not %d", name, t.pos, want, len(n.args))
	}
	switch name {
	case "operation_indicator":
		for _, a := range n.args {
			if a.kind != nLit || a.lit.Kind != tabledefs.KindString {
				return nil, fmt.Errorf("operation_indicator at offset %d takes three string literals (deleted, updated, inserted)", t.pos)
			}
		}
	case "datetime", "date", "time":
		a := n.args[0]
		if a.kind == nLit && a.lit.Kind == tabledefs.KindString && !strings.EqualFold(a.lit.Str, "now") {
			if _, ok := parseTimestampText(a.lit.Str); !ok {
				return nil, fmt.Errorf("%s at offset %d: %q is neither 'now' nor a date and time (modifiers are not supported)", name, t.pos, a.lit.Str)
			}
		}
	}
	return n, nil
}

// Header and metadata variables.
var variables = []string{
	"AR_H_OPERATION", "AR_H_COMMIT_TIMESTAMP", "AR_H_TIMESTAMP", "AR_H_STREAM_POSITION",
	"AR_H_CHANGE_SEQ", "AR_H_TRANSACTION_ID", "AR_H_USER",
	"AR_M_SOURCE_SCHEMA", "AR_M_SOURCE_TABLE_NAME",
}

func (p *parser) variable(t token) (*node, error) {
	up := strings.ToUpper(t.text)
	for _, v := range variables {
		if up == v {
			return &node{kind: nVar, op: v, pos: t.pos}, nil
		}
	}
	if strings.HasPrefix(up, "AR_H_") || strings.HasPrefix(up, "AR_M_") {
		if up == "AR_M_SOURCE_COLUMN_NAME" || up == "AR_M_SOURCE_COLUMN_DATATYPE" {
			return nil, fmt.Errorf("$%s at offset %d is only defined in column-level expressions, which sluice does not support", t.text, t.pos)
		}
		if s := tabledefs.Closest(up, variables); s != "" {
			return nil, fmt.Errorf("unknown header variable $%s at offset %d (did you mean $%s?)", t.text, t.pos, s)
		}
		return nil, fmt.Errorf("unknown header variable $%s at offset %d", t.text, t.pos)
	}
	tbl := p.table
	if tbl == nil {
		return nil, fmt.Errorf("column $%s at offset %d: no table", t.text, t.pos)
	}
	idx, _ := findColumn(tbl, t.text)
	if idx < 0 {
		idx = tbl.ColumnIndex(t.text)
	}
	if idx < 0 {
		names := make([]string, len(tbl.Columns))
		for i := range tbl.Columns {
			names[i] = tbl.Columns[i].Name
		}
		if s := tabledefs.Closest(t.text, names); s != "" {
			return nil, fmt.Errorf("column $%s at offset %d does not exist in %s.%s (did you mean $%s?)", t.text, t.pos, tbl.Owner, tbl.Name, s)
		}
		return nil, fmt.Errorf("column $%s at offset %d does not exist in %s.%s", t.text, t.pos, tbl.Owner, tbl.Name)
	}
	return &node{kind: nCol, col: idx, pos: t.pos}, nil
}

func numberLiteral(s string) (tabledefs.Value, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return tabledefs.IntValue(i), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return tabledefs.FloatValue(f), nil
		}
		return tabledefs.Null, err
	}
	return tabledefs.FloatValue(f), nil
}
