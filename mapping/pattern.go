package mapping

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// pattern is a compiled DMS object-locator name: `%` matches any run of
// characters (also none), `_` exactly one, and `[...]` one character of a set
// (`[_]` a literal underscore, `[a-d]` a range, `[^ab]` or `[!ab]` any other
// character). Matching is case-sensitive, as DMS selection is, and happens
// only at compile time.
type pattern struct {
	raw   string
	exact bool // no wildcard: raw is the only name it matches
	toks  []ptok
}

type ptokKind uint8

const (
	ptLit  ptokKind = iota // lit, matched verbatim
	ptOne                  // any one character
	ptSet                  // one character in (or, negated, not in) ranges
	ptStar                 // any run
)

type ptok struct {
	kind   ptokKind
	lit    string
	ranges []runeRange
	neg    bool
}

type runeRange struct{ lo, hi rune }

// compilePattern parses s; the error says what is malformed.
func compilePattern(s string) (pattern, error) {
	p := pattern{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, ptok{kind: ptLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '%':
			flush()
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != ptStar {
				p.toks = append(p.toks, ptok{kind: ptStar})
			}
			i++
		case '_':
			flush()
			p.toks = append(p.toks, ptok{kind: ptOne})
			i++
		case '[':
			end := strings.IndexByte(s[i+1:], ']')
			if end < 0 {
				return p, fmt.Errorf("unclosed '[' at position %d", i+1)
			}
			body := s[i+1 : i+1+end]
			if body == "" {
				// "[]" cannot match anything; "[]x]" style is not DMS syntax.
				return p, fmt.Errorf("empty character set at position %d", i+1)
			}
			t, err := parseSet(body)
			if err != nil {
				return p, fmt.Errorf("character set at position %d: %w", i+1, err)
			}
			if !t.neg && len(t.ranges) == 1 && t.ranges[0].lo == t.ranges[0].hi {
				// A one-character set such as [_] or [%] is a literal.
				lit.WriteRune(t.ranges[0].lo)
			} else {
				flush()
				p.toks = append(p.toks, t)
			}
			i += end + 2
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			lit.WriteString(s[i : i+n])
			i += n
		}
	}
	flush()
	p.exact = len(p.toks) == 0 || (len(p.toks) == 1 && p.toks[0].kind == ptLit)
	return p, nil
}

func parseSet(body string) (ptok, error) {
	t := ptok{kind: ptSet}
	if len(body) > 1 && (body[0] == '^' || body[0] == '!') {
		t.neg = true
		body = body[1:]
	}
	rs := []rune(body)
	for i := 0; i < len(rs); i++ {
		lo := rs[i]
		if i+2 < len(rs) && rs[i+1] == '-' {
			hi := rs[i+2]
			if hi < lo {
				return t, fmt.Errorf("range %c-%c is reversed", lo, hi)
			}
			t.ranges = append(t.ranges, runeRange{lo, hi})
			i += 2
			continue
		}
		t.ranges = append(t.ranges, runeRange{lo, lo})
	}
	return t, nil
}

// hasWildcard reports whether the pattern can match more than one name.
func (p *pattern) hasWildcard() bool { return !p.exact }

// literal returns the single name an exact pattern matches (with `[_]`
// style escapes resolved).
func (p *pattern) literal() string {
	if len(p.toks) == 0 {
		return ""
	}
	return p.toks[0].lit
}

// match reports whether name matches the whole pattern. Every token other
// than % has a fixed width, so backtracking to the last % is enough.
func (p *pattern) match(name string) bool {
	toks := p.toks
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for si < len(name) {
		if ti < len(toks) {
			t := &toks[ti]
			if t.kind == ptStar {
				starTi, starSi = ti, si
				ti++
				continue
			}
			if n, ok := t.matchAt(name, si); ok {
				si += n
				ti++
				continue
			}
		}
		if starTi < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(name[starSi:])
		starSi += n
		si = starSi
		ti = starTi + 1
	}
	for ti < len(toks) && toks[ti].kind == ptStar {
		ti++
	}
	return ti == len(toks)
}

func (t *ptok) matchAt(s string, i int) (int, bool) {
	switch t.kind {
	case ptLit:
		if strings.HasPrefix(s[i:], t.lit) {
			return len(t.lit), true
		}
		return 0, false
	case ptOne:
		_, n := utf8.DecodeRuneInString(s[i:])
		return n, true
	case ptSet:
		r, n := utf8.DecodeRuneInString(s[i:])
		in := false
		for _, rg := range t.ranges {
			if r >= rg.lo && r <= rg.hi {
				in = true
				break
			}
		}
		return n, in != t.neg
	}
	return 0, false
}
