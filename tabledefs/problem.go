package tabledefs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Problem is one finding of offline validation. It prints as
// "FILE:JSONPATH: message", or "FILE:LINE:COL: message" for JSON syntax errors.
type Problem struct {
	File string
	Path string // JSON path such as $.Tables[0].TableColumns[2].ColumnType
	Line int    // set for syntax errors only
	Col  int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	}
	return fmt.Sprintf("%s:%s: %s", p.File, p.Path, p.Msg)
}

// Problems collects every finding instead of stopping at the first.
type Problems []Problem

// Error joins the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Add records a problem at file and path.
func (ps *Problems) Add(file, path, format string, args ...any) {
	*ps = append(*ps, Problem{File: file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// DecodeJSON parses a JSON document into generic values (numbers as
// json.Number), reporting syntax errors with line and column.
func DecodeJSON(file string, data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, terr := dec.Token(); terr == nil {
			off := dec.InputOffset()
			line, col := lineCol(data, off)
			return nil, Problems{{File: file, Line: line, Col: col, Msg: "unexpected data after the JSON document"}}
		}
		return v, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, max(se.Offset-1, 0))
		return nil, Problems{{File: file, Line: line, Col: col, Msg: "invalid JSON: " + se.Error()}}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(data, int64(len(data)))
		return nil, Problems{{File: file, Line: line, Col: col, Msg: "invalid JSON: unexpected end of input"}}
	}
	return nil, Problems{{File: file, Path: "$", Msg: "invalid JSON: " + err.Error()}}
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Object walks one JSON object of a document, recording problems and which
// keys were read so that Unknown can report the rest.
type Object struct {
	File string
	Path string
	M    map[string]any
	P    *Problems
	used map[string]bool
}

// AsObject treats v as a JSON object at path; it records a problem if it is not one.
func AsObject(v any, file, path string, p *Problems) (*Object, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		p.Add(file, path, "must be a JSON object, not %s", jsonKind(v))
		return nil, false
	}
	return &Object{File: file, Path: path, M: m, P: p, used: map[string]bool{}}, true
}

// KeyPath returns the JSON path of key inside o.
func (o *Object) KeyPath(key string) string { return o.Path + "." + key }

// Raw returns the value at key and marks it known.
func (o *Object) Raw(key string) (any, bool) {
	o.used[key] = true
	v, ok := o.M[key]
	return v, ok
}

// Has reports whether key is present (and marks it known).
func (o *Object) Has(key string) bool {
	_, ok := o.Raw(key)
	return ok
}

// String reads a string value. A missing required key is a problem.
func (o *Object) String(key string, required bool) (string, bool) {
	v, ok := o.Raw(key)
	if !ok {
		if required {
			o.P.Add(o.File, o.KeyPath(key), "is required")
		}
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		o.P.Add(o.File, o.KeyPath(key), "must be a string, not %s", jsonKind(v))
		return "", false
	}
	return s, true
}

// Int reads an integer given as a JSON number or a string of digits, as AWS
// writes them ("5").
func (o *Object) Int(key string, required bool) (int, bool) {
	v, ok := o.Raw(key)
	if !ok {
		if required {
			o.P.Add(o.File, o.KeyPath(key), "is required")
		}
		return 0, false
	}
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = strings.TrimSpace(x)
	default:
		o.P.Add(o.File, o.KeyPath(key), "must be an integer, not %s", jsonKind(v))
		return 0, false
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		o.P.Add(o.File, o.KeyPath(key), "must be an integer, not %q", text)
		return 0, false
	}
	return n, true
}

// Bool reads a boolean given as true/false or as the strings "true",
// "false", "y", "n" (any case), as DMS accepts them.
func (o *Object) Bool(key string) (bool, bool) {
	v, ok := o.Raw(key)
	if !ok {
		return false, false
	}
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "y", "yes":
			return true, true
		case "false", "n", "no":
			return false, true
		}
		o.P.Add(o.File, o.KeyPath(key), "must be true or false, not %q", x)
		return false, false
	}
	o.P.Add(o.File, o.KeyPath(key), "must be true or false, not %s", jsonKind(v))
	return false, false
}

// Array reads a JSON array.
func (o *Object) Array(key string, required bool) ([]any, bool) {
	v, ok := o.Raw(key)
	if !ok {
		if required {
			o.P.Add(o.File, o.KeyPath(key), "is required")
		}
		return nil, false
	}
	a, isArr := v.([]any)
	if !isArr {
		o.P.Add(o.File, o.KeyPath(key), "must be an array, not %s", jsonKind(v))
		return nil, false
	}
	return a, true
}

// Object reads a nested JSON object.
func (o *Object) Object(key string, required bool) (*Object, bool) {
	v, ok := o.Raw(key)
	if !ok {
		if required {
			o.P.Add(o.File, o.KeyPath(key), "is required")
		}
		return nil, false
	}
	return AsObject(v, o.File, o.KeyPath(key), o.P)
}

// Unknown reports every key that was not read, suggesting the closest known
// one. Call it after reading all keys the object may hold; known lists keys
// that are accepted without being read.
func (o *Object) Unknown(known ...string) {
	for _, k := range known {
		o.used[k] = true
	}
	var keys []string
	for k := range o.M {
		if !o.used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	valid := make([]string, 0, len(o.used))
	for k := range o.used {
		valid = append(valid, k)
	}
	sort.Strings(valid)
	for _, k := range keys {
		if s := Closest(k, valid); s != "" {
			o.P.Add(o.File, o.KeyPath(k), "unknown key (did you mean %q?)", s)
		} else {
			o.P.Add(o.File, o.KeyPath(k), "unknown key")
		}
	}
}

// Closest returns the option nearest to s by edit distance (case-insensitive),
// or "" when none is near enough to be a plausible misspelling.
func Closest(s string, options []string) string {
	best, bestD := "", -1
	ls := strings.ToLower(s)
	for _, o := range options {
		d := editDistance(ls, strings.ToLower(o))
		if bestD < 0 || d < bestD {
			best, bestD = o, d
		}
	}
	if bestD < 0 || bestD > len(s)/2+1 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
