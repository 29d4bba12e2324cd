package mapping

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

func (c *compiler) parseObjectMapping(o *tabledefs.Object, r *rule) {
	r.action, _ = o.String("rule-action", true)
	good := r.action != "" && c.oneOf(o.KeyPath("rule-action"), r, "object-mapping rule-action", r.action, objectMapActions)
	locOK := c.parseLocator(o, r, true, false)
	if locOK && !r.hasTable {
		c.problem(r.locPath+".table-name", r, "is required")
		locOK = false
	}
	spec := &objectMapSpec{path: r.path}
	if s, ok := o.String("target-table-name", false); ok {
		if s == "" {
			c.problem(o.KeyPath("target-table-name"), r, "must not be empty")
			good = false
		}
		spec.targetTable, spec.hasTarget = s, true
	}
	if mp, ok := o.Object("mapping-parameters", false); ok {
		good = c.parseMappingParameters(mp, r, spec) && good
	} else if o.Has("mapping-parameters") {
		good = false
	}
	r.om = spec
	if !good || !locOK {
		r.action = ""
	}
}

func (c *compiler) parseMappingParameters(mp *tabledefs.Object, r *rule, spec *objectMapSpec) bool {
	good := true
	if s, ok := mp.String("partition-key-type", false); ok {
		if c.oneOf(mp.KeyPath("partition-key-type"), r, "partition-key-type", s, partitionKeyTypes) {
			spec.keyType = s
		} else {
			good = false
		}
	}
	if s, ok := mp.String("partition-key-name", false); ok {
		spec.keyName = s
		if spec.keyType != "attribute-name" {
			c.problem(mp.KeyPath("partition-key-name"), r, "partition-key-name needs partition-key-type attribute-name")
			good = false
		}
	} else if spec.keyType == "attribute-name" {
		c.problem(mp.KeyPath("partition-key-name"), r, "is required by partition-key-type attribute-name")
		good = false
	}
	if pk, ok := mp.Object("partition-key", false); ok {
		if s, ok := pk.String("value", true); ok {
			spec.keyValue, spec.hasKeyValue = s, true
			if s == "" {
				c.problem(pk.KeyPath("value"), r, "a Kinesis partition key must not be empty")
				good = false
			}
		} else {
			good = false
		}
		pk.Unknown()
		switch spec.keyType {
		case "", "constant":
			spec.keyType = "constant"
		default:
			c.problem(mp.KeyPath("partition-key"), r, "a constant partition-key conflicts with partition-key-type %s", spec.keyType)
			good = false
		}
	} else if mp.Has("partition-key") {
		good = false
	} else if spec.keyType == "constant" {
		c.problem(mp.KeyPath("partition-key"), r, "is required by partition-key-type constant: {\"value\": \"...\"}")
		good = false
	}
	if ex, ok := mp.Array("exclude-columns", false); ok {
		for i, v := range ex {
			s, isStr := v.(string)
			if !isStr || s == "" {
				c.problem(mp.KeyPath("exclude-columns")+"["+strconv.Itoa(i)+"]", r, "must be a column name")
				good = false
				continue
			}
			spec.exclude = append(spec.exclude, s)
		}
	} else if mp.Has("exclude-columns") {
		good = false
	}
	if am, ok := mp.Array("attribute-mappings", false); ok {
		for i, v := range am {
			path := mp.KeyPath("attribute-mappings") + "[" + strconv.Itoa(i) + "]"
			if a, ok := c.parseAttr(v, path, r); ok {
				spec.attrs = append(spec.attrs, a)
			} else {
				good = false
			}
		}
	} else if mp.Has("attribute-mappings") {
		good = false
	}
	mp.Unknown()
	return good
}

func (c *compiler) parseAttr(v any, path string, r *rule) (attrSpec, bool) {
	a := attrSpec{path: path}
	o, ok := tabledefs.AsObject(v, c.file, path, &c.p)
	if !ok {
		return a, false
	}
	good := true
	name, hasT := o.String("target-attribute-name", false)
	alt, hasA := o.String("attribute-name", false)
	switch {
	case hasT && hasA:
		c.problem(o.KeyPath("attribute-name"), r, "give target-attribute-name or attribute-name, not both")
		good = false
	case hasA:
		name = alt
	case !hasT:
		c.problem(o.KeyPath("target-attribute-name"), r, "is required")
		good = false
	}
	if (hasT || hasA) && name == "" {
		c.problem(o.KeyPath("target-attribute-name"), r, "must not be empty")
		good = false
	}
	a.name = name
	a.typ = "scalar"
	if s, ok := o.String("attribute-type", false); ok {
		if !c.oneOf(o.KeyPath("attribute-type"), r, "attribute-type", s, []string{"scalar", "document"}) {
			good = false
		}
		a.typ = s
	}
	a.subType = "string"
	if a.typ == "document" {
		a.subType = "json"
	}
	if s, ok := o.String("attribute-sub-type", false); ok {
		if !c.oneOf(o.KeyPath("attribute-sub-type"), r, "attribute-sub-type", s, []string{"string", "json"}) {
			good = false
		}
		a.subType = s
	}
	if good && (a.typ == "scalar") != (a.subType == "string") {
		c.problem(o.KeyPath("attribute-sub-type"), r, "attribute-type %s takes attribute-sub-type %s", a.typ, map[bool]string{true: "string", false: "json"}[a.typ == "scalar"])
		good = false
	}
	val, ok := o.Raw("value")
	switch {
	case !ok:
		c.problem(o.KeyPath("value"), r, "is required")
		good = false
	case a.subType == "json":
		switch val.(type) {
		case map[string]any, []any:
		default:
			c.problem(o.KeyPath("value"), r, "a json document attribute needs an object or array value")
			good = false
		}
	default:
		if _, isStr := val.(string); !isStr {
			c.problem(o.KeyPath("value"), r, "a scalar string attribute needs a string value such as \"${column}\"")
			good = false
		}
	}
	a.value = val
	o.Unknown()
	return a, good
}

// objectMapPlan is the resolved object mapping of one table.
type objectMapPlan struct {
	rule     *rule
	document bool
	excluded map[string]bool // lower-cased names of excluded target columns
	attrs    []attrPlan
}

type attrPlan struct {
	col  tabledefs.Column
	json bool
	tpl  template
}

// template renders an attribute-mapping value: literal text with ${column}
// placeholders replaced by the canonical text of source column values.
type template struct {
	parts []tplPart
}

type tplMode uint8

const (
	tplLit       tplMode = iota // lit only
	tplText                     // column text as is (scalar)
	tplJSONIn                   // column text escaped inside a JSON string
	tplJSONWhole                // a JSON string that is exactly ${column}: null when NULL
)

type tplPart struct {
	lit  string
	mode tplMode
	col  int
	def  *tabledefs.Column
}

func (c *compiler) objectMapping(rules []*rule) {
	for _, ts := range c.tables {
		for _, r := range rules {
			if r.action == "" || !r.matchesTable(ts.src) {
				continue
			}
			r.matched = true
			if ts.om != nil {
				continue
			}
			ts.om, r.applied = r, true
			ts.omPlan = c.resolveObjectMap(ts, r)
		}
	}
	for _, r := range rules {
		if r.action == "" {
			continue
		}
		switch {
		case r.matched && !r.applied:
			c.problem(r.path+".rule-id", r, "never applied: a rule with a lower rule-id already maps every table this rule matches; DMS applies one object mapping per table")
		case !r.matched:
			c.noSuchTable(r)
		}
	}
}

func (c *compiler) resolveObjectMap(ts *tableState, r *rule) *objectMapPlan {
	spec := r.om
	p := &objectMapPlan{rule: r, document: r.action == "map-record-to-document", excluded: map[string]bool{}}
	if spec.hasTarget {
		ts.name = spec.targetTable
	}
	// exclude-columns match target or source names, case-insensitively as
	// in the AWS examples.
	for i, name := range spec.exclude {
		found := false
		for j := range ts.cols {
			if ts.cols[j].keep && (strings.EqualFold(ts.cols[j].name, name) || strings.EqualFold(ts.src.Columns[j].Name, name)) {
				p.excluded[strings.ToLower(ts.cols[j].name)] = true
				found = true
			}
		}
		for _, a := range ts.added {
			if strings.EqualFold(a.col.Name, name) {
				p.excluded[strings.ToLower(a.col.Name)] = true
				found = true
			}
		}
		if !found {
			c.problem(spec.path+".mapping-parameters.exclude-columns["+strconv.Itoa(i)+"]", r, "column %q does not exist in %s.%s", name, ts.src.Owner, ts.src.Name)
		}
	}
	for _, a := range spec.attrs {
		if ts.hasTargetName(a.name) && !p.excluded[strings.ToLower(a.name)] {
			c.problem(a.path+".target-attribute-name", r, "attribute %q already exists in %s.%s (exclude the column first)", a.name, ts.src.Owner, ts.src.Name)
			continue
		}
		dup := false
		for _, b := range p.attrs {
			dup = dup || strings.EqualFold(b.col.Name, a.name)
		}
		if dup {
			c.problem(a.path+".target-attribute-name", r, "attribute %q is mapped twice", a.name)
			continue
		}
		ap := attrPlan{col: tabledefs.Column{Name: a.name, Type: tabledefs.TypeString, Nullable: true}, json: a.subType == "json"}
		var err error
		if ap.json {
			err = compileJSONTemplate(&ap.tpl, a.value, ts)
		} else {
			err = compileTextTemplate(&ap.tpl, a.value.(string), tplText, ts)
		}
		if err != nil {
			c.problem(a.path+".value", r, "%v", err)
			continue
		}
		p.attrs = append(p.attrs, ap)
	}
	return p
}

// compileTextTemplate splits s at ${column} placeholders.
func compileTextTemplate(t *template, s string, mode tplMode, ts *tableState) error {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			t.lit(s)
			return nil
		}
		t.lit(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return fmt.Errorf("unclosed ${ in %q", s)
		}
		name := s[i+2 : i+end]
		idx := ts.columnByName(name)
		if idx < 0 {
			return fmt.Errorf("${%s}: column %q does not exist in %s.%s", name, name, ts.src.Owner, ts.src.Name)
		}
		t.parts = append(t.parts, tplPart{mode: mode, col: idx, def: &ts.src.Columns[idx]})
		s = s[i+end+1:]
	}
}

func (t *template) lit(s string) {
	if s == "" {
		return
	}
	if n := len(t.parts); n > 0 && t.parts[n-1].mode == tplLit {
		t.parts[n-1].lit += s
		return
	}
	t.parts = append(t.parts, tplPart{mode: tplLit, lit: s})
}

// compileJSONTemplate renders a JSON value with placeholders in its strings.
// Object keys come out sorted: the decoded document does not keep their order.
func compileJSONTemplate(t *template, v any, ts *tableState) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.lit("{")
		for i, k := range keys {
			if i > 0 {
				t.lit(",")
			}
			kb, _ := json.Marshal(k)
			t.lit(string(kb) + ":")
			if err := compileJSONTemplate(t, x[k], ts); err != nil {
				return err
			}
		}
		t.lit("}")
	case []any:
		t.lit("[")
		for i, e := range x {
			if i > 0 {
				t.lit(",")
			}
			if err := compileJSONTemplate(t, e, ts); err != nil {
				return err
			}
		}
		t.lit("]")
	case string:
		if name, ok := wholePlaceholder(x); ok {
			idx := ts.columnByName(name)
			if idx < 0 {
				return fmt.Errorf("${%s}: column %q does not exist in %s.%s", name, name, ts.src.Owner, ts.src.Name)
			}
			t.parts = append(t.parts, tplPart{mode: tplJSONWhole, col: idx, def: &ts.src.Columns[idx]})
			return nil
		}
		var inner template
		if err := compileTextTemplate(&inner, x, tplJSONIn, ts); err != nil {
			return err
		}
		t.lit(`"`)
		for _, p := range inner.parts {
			if p.mode == tplLit {
				b, _ := json.Marshal(p.lit)
				t.lit(string(b[1 : len(b)-1]))
			} else {
				t.parts = append(t.parts, p)
			}
		}
		t.lit(`"`)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		t.lit(string(b))
	}
	return nil
}

func wholePlaceholder(s string) (string, bool) {
	if strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && strings.Count(s, "${") == 1 && strings.IndexByte(s, '}') == len(s)-1 {
		return s[2 : len(s)-1], true
	}
	return "", false
}

// render appends the template's text for the source row vals.
func (t *template) render(dst []byte, vals []tabledefs.Value) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		switch p.mode {
		case tplLit:
			dst = append(dst, p.lit...)
		case tplText:
			dst = tabledefs.AppendText(dst, vals[p.col], p.def)
		case tplJSONIn:
			dst = appendJSONEscaped(dst, vals[p.col], p.def)
		case tplJSONWhole:
			if vals[p.col].IsNull() {
				dst = append(dst, "null"...)
				continue
			}
			dst = append(dst, '"')
			dst = appendJSONEscaped(dst, vals[p.col], p.def)
			dst = append(dst, '"')
		}
	}
	return dst
}

func appendJSONEscaped(dst []byte, v tabledefs.Value, c *tabledefs.Column) []byte {
	start := len(dst)
	dst = tabledefs.AppendText(dst, v, c)
	text := string(dst[start:])
	dst = dst[:start]
	b, _ := json.Marshal(text)
	return append(dst, b[1:len(b)-1]...)
}
