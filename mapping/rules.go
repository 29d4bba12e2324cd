package mapping

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

// Rule types and actions, spelt as DMS spells them (case-sensitive).
var (
	ruleTypes        = []string{"selection", "transformation", "object-mapping", "table-settings", "post-processing"}
	selectionActions = []string{"include", "exclude", "explicit"}
	transformActions = []string{
		"add-column", "include-column", "remove-column", "rename",
		"convert-lowercase", "convert-uppercase",
		"add-prefix", "remove-prefix", "replace-prefix",
		"add-suffix", "remove-suffix", "replace-suffix",
		"define-primary-key", "change-data-type", "add-before-image-columns",
		"data-masking-digits-mask", "data-masking-digits-randomize", "data-masking-hash-mask",
	}
	ruleTargets       = []string{"schema", "table", "column", "table-tablespace", "index-tablespace"}
	objectMapActions  = []string{"map-record-to-record", "map-record-to-document"}
	partitionKeyTypes = []string{"primary-key", "schema-table", "attribute-name", "constant", "transaction-id"}
)

// rule is one parsed entry of "rules" with its JSON path for messages.
type rule struct {
	path   string // $.rules[i]
	id     int
	name   string
	typ    string
	action string
	target string // transformation rule-target

	schema, table, column pattern
	hasSchema, hasTable   bool
	hasColumn             bool
	locPath               string // $.rules[i].object-locator
	locDataType           tabledefs.Type
	tableType             string

	loadOrder int
	filters   []filterSpec

	value, oldValue string
	hasValue        bool
	expr            string
	dataType        *dataTypeSpec
	pkDef           *pkDefSpec
	biDef           *biDefSpec
	om              *objectMapSpec

	matched bool // matched at least one object
	applied bool // was the winning rule for at least one object
}

// label names the rule in messages: `rule 7`.
func (r *rule) label() string { return fmt.Sprintf("rule %d", r.id) }

type filterSpec struct {
	path   string
	column string
	conds  []condSpec
}

type condSpec struct {
	path       string
	op         string
	value      string
	start, end string
}

type dataTypeSpec struct {
	path string
	col  tabledefs.Column // Type, Length, Precision, Scale
}

type pkDefSpec struct {
	path    string
	name    string
	origin  string
	columns []string
}

type biDefSpec struct {
	prefix, suffix, filter string
}

type objectMapSpec struct {
	path        string
	targetTable string
	hasTarget   bool
	keyType     string
	keyName     string
	keyValue    string
	hasKeyValue bool
	exclude     []string
	attrs       []attrSpec
}

type attrSpec struct {
	path    string
	name    string
	typ     string // scalar | document
	subType string // string | json
	value   any    // string, or a JSON object/array for documents
}

// problem records a finding for rule r at path.
func (c *compiler) problem(path string, r *rule, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r != nil && r.id != 0 {
		msg = r.label() + ": " + msg
	}
	c.p.Add(c.file, path, "%s", msg)
}

// oneOf checks s against the allowed values, suggesting the closest.
func (c *compiler) oneOf(path string, r *rule, what, s string, allowed []string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	if sug := tabledefs.Closest(s, allowed); sug != "" {
		c.problem(path, r, "unknown %s %q (did you mean %q?)", what, s, sug)
	} else {
		c.problem(path, r, "unknown %s %q (expected one of %s)", what, s, strings.Join(allowed, ", "))
	}
	return false
}

// parseRule reads one rule. It returns nil when the rule is too broken to
// take part in resolution; its problems are recorded either way.
func (c *compiler) parseRule(i int, raw any) *rule {
	path := fmt.Sprintf("$.rules[%d]", i)
	o, ok := tabledefs.AsObject(raw, c.file, path, &c.p)
	if !ok {
		return nil
	}
	r := &rule{path: path}
	id, okID := o.Int("rule-id", true)
	if okID {
		if id <= 0 {
			c.problem(o.KeyPath("rule-id"), nil, "must be a positive integer, not %d", id)
			okID = false
		}
		r.id = id
	}
	r.name, _ = o.String("rule-name", true)
	typ, okType := o.String("rule-type", true)
	if okType {
		okType = c.oneOf(o.KeyPath("rule-type"), r, "rule-type", typ, ruleTypes)
	}
	r.typ = typ
	if !okType {
		o.Unknown(knownRuleKeys...)
		return nil
	}
	switch typ {
	case "selection":
		c.parseSelection(o, r)
	case "transformation":
		c.parseTransformation(o, r)
	case "object-mapping":
		c.parseObjectMapping(o, r)
	case "table-settings":
		c.parseTableSettings(o, r)
	case "post-processing":
		c.parsePostProcessing(o, r)
	}
	o.Unknown("rule-type", "rule-id", "rule-name")
	if !okID {
		return nil
	}
	return r
}

// knownRuleKeys are accepted without complaint on a rule whose type is
// unknown, so that only the type is reported.
var knownRuleKeys = []string{
	"rule-action", "object-locator", "rule-target", "value", "old-value", "expression",
	"data-type", "filters", "load-order", "mapping-parameters", "target-table-name",
	"primary-key-def", "before-image-def", "parallel-load", "lob-settings", "tag-set",
}

// parseLocator reads object-locator; want says which keys the rule may use.
func (c *compiler) parseLocator(o *tabledefs.Object, r *rule, wantTable, wantColumn bool) bool {
	loc, ok := o.Object("object-locator", true)
	if !ok {
		return false
	}
	r.locPath = loc.Path
	read := func(key string, dst *pattern, has *bool, want bool) bool {
		s, ok := loc.String(key, false)
		if !ok {
			return true
		}
		if !want {
			if r.typ == "transformation" {
				c.problem(loc.KeyPath(key), r, "%s is not used with rule-target %s and rule-action %s", key, r.target, r.action)
			} else {
				c.problem(loc.KeyPath(key), r, "%s is not used by %s rules", key, r.typ)
			}
			return false
		}
		p, err := compilePattern(s)
		if err != nil {
			c.problem(loc.KeyPath(key), r, "invalid name pattern %q: %v", s, err)
			return false
		}
		*dst, *has = p, true
		return true
	}
	good := read("schema-name", &r.schema, &r.hasSchema, true)
	if !r.hasSchema && good {
		if _, present := loc.M["schema-name"]; !present {
			c.problem(loc.KeyPath("schema-name"), r, "is required")
		}
		good = false
	}
	good = read("table-name", &r.table, &r.hasTable, wantTable) && good
	good = read("column-name", &r.column, &r.hasColumn, wantColumn) && good
	if dt, ok := loc.String("data-type", false); ok {
		t, known := transformType(dt)
		switch {
		case !wantColumn:
			c.problem(loc.KeyPath("data-type"), r, "data-type is only used by column rules")
			good = false
		case !known:
			c.problem(loc.KeyPath("data-type"), r, "unknown data-type %q", dt)
			good = false
		default:
			r.locDataType = t
		}
	}
	if tt, ok := loc.String("table-type", false); ok {
		if r.typ != "selection" {
			c.problem(loc.KeyPath("table-type"), r, "table-type is only used by selection rules")
		} else if c.oneOf(loc.KeyPath("table-type"), r, "table-type", tt, []string{"table", "view", "all"}) {
			r.tableType = tt
		}
	}
	loc.Unknown("table-tablespace-name", "index-tablespace-name")
	return good
}

// transformType maps the lowercase type names of transformation rules
// (bytes, int4, wstring, …) to the DMS type system.
func transformType(s string) (tabledefs.Type, bool) {
	switch strings.ToLower(s) {
	case "bytes":
		return tabledefs.TypeByte, true
	case "wstring":
		return tabledefs.TypeString, true
	case "nclob":
		return tabledefs.TypeClob, true
	}
	return tabledefs.ParseType(s)
}

// parseDataType reads a transformation data-type object.
func (c *compiler) parseDataType(o *tabledefs.Object, r *rule) *dataTypeSpec {
	d, ok := o.Object("data-type", true)
	if !ok {
		return nil
	}
	spec := &dataTypeSpec{path: d.Path}
	name, ok := d.String("type", true)
	good := ok
	if ok {
		t, known := transformType(name)
		switch {
		case known:
			spec.col.Type = t
		case name == "set" || name == "list" || name == "map" || name == "tuple":
			c.problem(d.KeyPath("type"), r, "data-type %q is not supported by sluice targets", name)
			good = false
		default:
			allowed := []string{"bytes", "date", "time", "datetime", "int1", "int2", "int4", "int8", "numeric",
				"real4", "real8", "string", "uint1", "uint2", "uint4", "uint8", "wstring", "blob", "nclob", "clob", "boolean"}
			c.oneOf(d.KeyPath("type"), r, "data-type", name, allowed)
			good = false
		}
	}
	if n, ok := d.Int("length", false); ok {
		spec.col.Length = n
	}
	if n, ok := d.Int("precision", false); ok {
		spec.col.Precision = n
	}
	if n, ok := d.Int("scale", false); ok {
		spec.col.Scale = n
	}
	d.Unknown()
	if !good {
		return nil
	}
	col := &spec.col
	switch col.Type {
	case tabledefs.TypeNumeric:
		if col.Precision == 0 {
			col.Precision = 38
		}
		if col.Precision < 1 || col.Precision > 38 || col.Scale < 0 || col.Scale > col.Precision {
			c.problem(d.Path, r, "numeric needs 1 <= precision <= 38 and 0 <= scale <= precision")
			return nil
		}
	case tabledefs.TypeDateTime:
		// DMS spells the fractional-second digits of datetime as precision.
		if col.Scale == 0 && col.Precision > 0 {
			col.Scale = col.Precision
		}
		if col.Scale > 9 {
			c.problem(d.Path, r, "datetime keeps at most 9 fractional-second digits")
			return nil
		}
	case tabledefs.TypeString, tabledefs.TypeByte:
		if col.Length < 0 {
			c.problem(d.KeyPath("length"), r, "must not be negative")
			return nil
		}
	}
	return spec
}
