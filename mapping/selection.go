package mapping

import (
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

var filterOperators = []string{"eq", "noteq", "lte", "ste", "gte", "between", "notbetween", "null", "notnull"}

func (c *compiler) parseSelection(o *tabledefs.Object, r *rule) {
	r.action, _ = o.String("rule-action", true)
	actionOK := r.action != "" && c.oneOf(o.KeyPath("rule-action"), r, "selection rule-action", r.action, selectionActions)
	locOK := c.parseLocator(o, r, true, false)
	if locOK && !r.hasTable {
		c.problem(r.locPath+".table-name", r, "is required")
		locOK = false
	}
	if locOK && r.action == "explicit" {
		if r.schema.hasWildcard() {
			c.problem(r.locPath+".schema-name", r, "explicit selection needs an exact schema name, not the pattern %q", r.schema.raw)
			actionOK = false
		}
		if r.table.hasWildcard() {
			c.problem(r.locPath+".table-name", r, "explicit selection needs an exact table name, not the pattern %q", r.table.raw)
			actionOK = false
		}
	}
	if !locOK {
		actionOK = false
	}
	if n, ok := o.Int("load-order", false); ok {
		if n < 0 {
			c.problem(o.KeyPath("load-order"), r, "must not be negative")
		}
		r.loadOrder = n
	}
	if fs, ok := o.Array("filters", false); ok {
		if r.action == "exclude" {
			c.problem(o.KeyPath("filters"), r, "filters are only honoured on include and explicit rules")
		}
		for i, fv := range fs {
			if f, ok := c.parseFilter(fv, o.KeyPath("filters")+"["+itoa(i)+"]", r); ok {
				r.filters = append(r.filters, f)
			}
		}
		if locOK && r.table.hasWildcard() && r.action != "exclude" {
			c.problem(o.KeyPath("filters"), r, "source filters need an exact table name, not the pattern %q", r.table.raw)
			r.filters = nil
		}
	}
	if !actionOK {
		r.action = ""
	}
}

func (c *compiler) parseFilter(v any, path string, r *rule) (filterSpec, bool) {
	f := filterSpec{path: path}
	o, ok := tabledefs.AsObject(v, c.file, path, &c.p)
	if !ok {
		return f, false
	}
	good := true
	if ft, ok := o.String("filter-type", true); ok {
		good = c.oneOf(o.KeyPath("filter-type"), r, "filter-type", ft, []string{"source"}) && good
	} else {
		good = false
	}
	if f.column, ok = o.String("column-name", true); !ok {
		good = false
	}
	conds, ok := o.Array("filter-conditions", true)
	if ok && len(conds) == 0 {
		c.problem(o.KeyPath("filter-conditions"), r, "needs at least one condition")
		good = false
	}
	for i, cv := range conds {
		cp := o.KeyPath("filter-conditions") + "[" + itoa(i) + "]"
		co, ok := tabledefs.AsObject(cv, c.file, cp, &c.p)
		if !ok {
			good = false
			continue
		}
		cs := condSpec{path: cp}
		op, ok := co.String("filter-operator", true)
		if !ok || !c.oneOf(co.KeyPath("filter-operator"), r, "filter-operator", op, filterOperators) {
			good = false
			co.Unknown("value", "start-value", "end-value")
			continue
		}
		cs.op = op
		switch op {
		case "between", "notbetween":
			s, ok1 := co.String("start-value", true)
			e, ok2 := co.String("end-value", true)
			cs.start, cs.end = s, e
			good = good && ok1 && ok2
		case "null", "notnull":
		default:
			cs.value, ok = co.String("value", true)
			good = good && ok
		}
		co.Unknown()
		f.conds = append(f.conds, cs)
	}
	for _, cs := range f.conds {
		if (cs.op == "noteq" || cs.op == "notbetween" || cs.op == "notnull") && len(f.conds) > 1 {
			c.problem(cs.path+".filter-operator", r, "the negative operator %s must be the only condition of its filter", cs.op)
			good = false
		}
	}
	o.Unknown()
	return f, good
}

// selectTables applies the selection rules to every table of the
// definition: a table is selected when an include or explicit rule matches it
// and no exclude rule does, whatever their order.
func (c *compiler) selectTables(sel []*rule) {
	if len(sel) == 0 {
		c.p.Add(c.file, "$.rules", "at least one selection rule is required")
		return
	}
	invalid := false
	for _, r := range sel {
		invalid = invalid || r.action == ""
	}
	for i := range c.def.Tables {
		t := &c.def.Tables[i]
		var inc []*rule
		excluded := false
		for _, r := range sel {
			if r.action == "" || !r.matchesTable(t) {
				continue
			}
			r.matched = true
			if r.action == "exclude" {
				excluded = true
			} else {
				inc = append(inc, r)
			}
		}
		if len(inc) == 0 || excluded {
			continue
		}
		ts := newTableState(t, i)
		for _, r := range inc {
			r.applied = true
			ts.loadOrder = max(ts.loadOrder, r.loadOrder)
			for _, f := range r.filters {
				if cf, ok := c.compileFilter(f, r, t); ok {
					ts.filters = append(ts.filters, cf)
				}
			}
		}
		c.tables = append(c.tables, ts)
	}
	for _, r := range sel {
		if r.action == "" || r.matched {
			continue
		}
		c.noSuchTable(r)
	}
	if len(c.tables) == 0 && !invalid {
		c.p.Add(c.file, "$.rules", "the selection rules select no table of the table definitions")
	}
}

// matchesTable reports whether the rule's schema and table patterns (and
// table-type, for selection rules) match t.
func (r *rule) matchesTable(t *tabledefs.Table) bool {
	if r.tableType == "view" {
		return false // sluice sources only have tables
	}
	if !r.hasSchema || !r.schema.match(t.Owner) {
		return false
	}
	return !r.hasTable || r.table.match(t.Name)
}

// noSuchTable reports an exact-name rule that matched no table, pointing at
// a differently-cased name when there is one (names are case-sensitive).
func (c *compiler) noSuchTable(r *rule) {
	if !r.hasSchema || r.schema.hasWildcard() || r.tableType == "view" {
		return
	}
	schema := r.schema.literal()
	if r.hasTable && r.table.hasWildcard() {
		for i := range c.def.Tables {
			if c.def.Tables[i].Owner == schema {
				return // the pattern just matches no table of an existing schema
			}
		}
		for i := range c.def.Tables {
			if strings.EqualFold(c.def.Tables[i].Owner, schema) {
				c.problem(r.locPath+".schema-name", r, "schema %q does not exist in the table definitions (did you mean %q? names are case-sensitive)", schema, c.def.Tables[i].Owner)
				return
			}
		}
		c.problem(r.locPath+".schema-name", r, "schema %q does not exist in the table definitions", schema)
		return
	}
	if !r.hasTable {
		for i := range c.def.Tables {
			if c.def.Tables[i].Owner == schema {
				c.problem(r.locPath+".schema-name", r, "no selected table is in schema %q", schema)
				return
			}
		}
		for i := range c.def.Tables {
			if strings.EqualFold(c.def.Tables[i].Owner, schema) {
				c.problem(r.locPath+".schema-name", r, "schema %q does not exist in the table definitions (did you mean %q? names are case-sensitive)", schema, c.def.Tables[i].Owner)
				return
			}
		}
		c.problem(r.locPath+".schema-name", r, "schema %q does not exist in the table definitions", schema)
		return
	}
	name := schema + "." + r.table.literal()
	if t := c.def.Lookup(schema, r.table.literal()); t != nil && t.Owner == schema && t.Name == r.table.literal() {
		c.problem(r.locPath+".table-name", r, "table %s is not selected by any selection rule", name)
		return
	} else if t != nil {
		c.problem(r.locPath+".table-name", r, "table %s does not exist in the table definitions (did you mean %s.%s? names are case-sensitive)", name, t.Owner, t.Name)
		return
	}
	c.problem(r.locPath+".table-name", r, "table %s does not exist in the table definitions", name)
}

// findColumn finds a column by exact name; when only a differently-cased
// column exists it returns -1 and that name as a hint.
func findColumn(t *tabledefs.Table, name string) (int, string) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i, ""
		}
	}
	if i := t.ColumnIndex(name); i >= 0 {
		return -1, t.Columns[i].Name
	}
	return -1, ""
}

func (c *compiler) noSuchColumn(path string, r *rule, t *tabledefs.Table, name, hint string) {
	if hint != "" {
		c.problem(path, r, "column %q does not exist in %s.%s (did you mean %q? names are case-sensitive)", name, t.Owner, t.Name, hint)
		return
	}
	names := make([]string, len(t.Columns))
	for i := range t.Columns {
		names[i] = t.Columns[i].Name
	}
	if s := tabledefs.Closest(name, names); s != "" {
		c.problem(path, r, "column %q does not exist in %s.%s (did you mean %q?)", name, t.Owner, t.Name, s)
		return
	}
	c.problem(path, r, "column %q does not exist in %s.%s", name, t.Owner, t.Name)
}
