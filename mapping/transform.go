package mapping

import (
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

// nameActions change a schema, table or column name.
var nameActions = map[string]bool{
	"rename": true, "convert-lowercase": true, "convert-uppercase": true,
	"add-prefix": true, "remove-prefix": true, "replace-prefix": true,
	"add-suffix": true, "remove-suffix": true, "replace-suffix": true,
}

func (c *compiler) parseTransformation(o *tabledefs.Object, r *rule) {
	r.action, _ = o.String("rule-action", true)
	r.target, _ = o.String("rule-target", true)
	good := r.action != "" && c.oneOf(o.KeyPath("rule-action"), r, "transformation rule-action", r.action, transformActions)
	tgtOK := r.target != "" && c.oneOf(o.KeyPath("rule-target"), r, "rule-target", r.target, ruleTargets)
	if tgtOK && (r.target == "table-tablespace" || r.target == "index-tablespace") {
		c.problem(o.KeyPath("rule-target"), r, "rule-target %s applies to Oracle sources only; sluice sources have no tablespaces", r.target)
		tgtOK = false
	}
	if good && strings.HasPrefix(r.action, "data-masking-") {
		c.problem(o.KeyPath("rule-action"), r, "%s is not supported by sluice", r.action)
		good = false
	}
	if good && tgtOK {
		allowed := true
		switch r.target {
		case "schema":
			allowed = nameActions[r.action]
		case "table":
			allowed = nameActions[r.action] || r.action == "define-primary-key"
		case "column":
			allowed = r.action != "define-primary-key"
		}
		if !allowed {
			c.problem(o.KeyPath("rule-action"), r, "rule-action %s does not apply to rule-target %s", r.action, r.target)
			good = false
		}
	}
	wantTable := r.target == "table" || r.target == "column" || !tgtOK
	wantColumn := (r.target == "column" || !tgtOK) && r.action != "add-column" && r.action != "add-before-image-columns"
	locOK := c.parseLocator(o, r, wantTable, wantColumn)
	if locOK && tgtOK {
		if wantTable && !r.hasTable {
			c.problem(r.locPath+".table-name", r, "is required")
			locOK = false
		}
		if wantColumn && !r.hasColumn {
			c.problem(r.locPath+".column-name", r, "is required")
			locOK = false
		}
		if r.action == "define-primary-key" && (r.schema.hasWildcard() || r.table.hasWildcard()) {
			c.problem(r.locPath, r, "define-primary-key needs exact schema and table names")
			locOK = false
		}
	}
	r.value, r.hasValue = o.String("value", false)
	old, hasOld := o.String("old-value", false)
	r.oldValue = old
	r.expr, _ = o.String("expression", false)
	hasExpr := o.Has("expression")
	hasDataType := o.Has("data-type")
	hasPK := o.Has("primary-key-def")
	hasBI := o.Has("before-image-def")
	if good {
		need := func(key string, has bool) {
			if !has {
				c.problem(o.KeyPath(key), r, "is required by %s", r.action)
				good = false
			}
		}
		unused := func(key string, has bool) {
			if has {
				c.problem(o.KeyPath(key), r, "is not used by %s", r.action)
				good = false
			}
		}
		switch r.action {
		case "rename", "add-prefix", "add-suffix", "remove-prefix", "remove-suffix":
			need("value", r.hasValue)
			unused("old-value", hasOld)
		case "replace-prefix", "replace-suffix":
			need("value", r.hasValue)
			need("old-value", hasOld)
		case "convert-lowercase", "convert-uppercase", "remove-column", "include-column":
			unused("value", r.hasValue)
			unused("old-value", hasOld)
		case "add-column":
			need("value", r.hasValue)
			need("expression", hasExpr)
			need("data-type", hasDataType)
		case "change-data-type":
			need("data-type", hasDataType)
		case "define-primary-key":
			need("primary-key-def", hasPK)
		}
		if r.action != "add-column" {
			unused("expression", hasExpr)
		}
		if r.action != "add-column" && r.action != "change-data-type" {
			unused("data-type", hasDataType)
		}
		if r.action != "define-primary-key" {
			unused("primary-key-def", hasPK)
		}
		if r.action != "add-before-image-columns" {
			unused("before-image-def", hasBI)
		}
		if r.hasValue && r.value == "" && (r.action == "rename" || r.action == "add-column") {
			c.problem(o.KeyPath("value"), r, "must not be empty")
			good = false
		}
	}
	if good && hasDataType {
		if r.dataType = c.parseDataType(o, r); r.dataType == nil {
			good = false
		}
	}
	if good && hasPK {
		if r.pkDef = c.parsePKDef(o, r); r.pkDef == nil {
			good = false
		}
	}
	if good && r.action == "add-before-image-columns" {
		if r.biDef = c.parseBIDef(o, r); r.biDef == nil {
			good = false
		}
	}
	if !good || !tgtOK || !locOK {
		r.action = "" // keeps the rule out of resolution; its problems are reported
	}
}

func (c *compiler) parsePKDef(o *tabledefs.Object, r *rule) *pkDefSpec {
	d, ok := o.Object("primary-key-def", true)
	if !ok {
		return nil
	}
	spec := &pkDefSpec{path: d.Path, origin: "primary-key"}
	spec.name, _ = d.String("name", true)
	good := true
	if origin, ok := d.String("origin", false); ok {
		good = c.oneOf(d.KeyPath("origin"), r, "origin", origin, []string{"primary-key", "unique-index"})
		spec.origin = origin
	}
	cols, ok := d.Array("columns", true)
	if ok && len(cols) == 0 {
		c.problem(d.KeyPath("columns"), r, "needs at least one column")
		good = false
	}
	for i, cv := range cols {
		s, isStr := cv.(string)
		if !isStr || s == "" {
			c.problem(d.KeyPath("columns")+"["+itoa(i)+"]", r, "must be a column name")
			good = false
			continue
		}
		spec.columns = append(spec.columns, s)
	}
	d.Unknown()
	if !good || !ok {
		return nil
	}
	return spec
}

func (c *compiler) parseBIDef(o *tabledefs.Object, r *rule) *biDefSpec {
	spec := &biDefSpec{prefix: "BI_", filter: "pk-only"}
	d, ok := o.Object("before-image-def", false)
	if !ok {
		if o.Has("before-image-def") {
			return nil
		}
		return spec
	}
	good := true
	if s, ok := d.String("column-prefix", false); ok {
		spec.prefix = s
	}
	if s, ok := d.String("column-suffix", false); ok {
		spec.suffix = s
	}
	if s, ok := d.String("column-filter", false); ok {
		good = c.oneOf(d.KeyPath("column-filter"), r, "column-filter", s, []string{"pk-only", "non-lob", "all"})
		spec.filter = s
	}
	if spec.prefix == "" && spec.suffix == "" {
		c.problem(d.Path, r, "column-prefix and column-suffix must not both be empty")
		good = false
	}
	d.Unknown()
	if !good {
		return nil
	}
	return spec
}

// applyName applies a name action of r to name.
func applyName(r *rule, name string) string {
	switch r.action {
	case "rename":
		return r.value
	case "convert-lowercase":
		return strings.ToLower(name)
	case "convert-uppercase":
		return strings.ToUpper(name)
	case "add-prefix":
		return r.value + name
	case "remove-prefix":
		return strings.TrimPrefix(name, r.value)
	case "replace-prefix":
		if strings.HasPrefix(name, r.oldValue) {
			return r.value + name[len(r.oldValue):]
		}
	case "add-suffix":
		return name + r.value
	case "remove-suffix":
		return strings.TrimSuffix(name, r.value)
	case "replace-suffix":
		if strings.HasSuffix(name, r.oldValue) {
			return name[:len(name)-len(r.oldValue)] + r.value
		}
	}
	return name
}

// transform resolves the transformation rules (sorted by rule-id) against
// the selected tables. DMS applies one action per object: for each slot of
// an object (its name, whether a column is kept, a column's type, a table's
// primary key, its before-image columns) the lowest rule-id that matches
// wins.
func (c *compiler) transform(rules []*rule) {
	var active []*rule
	for _, r := range rules {
		if r.action != "" {
			active = append(active, r)
		}
	}
	for _, ts := range c.tables {
		t := ts.src
		// Schema and table names.
		for _, slot := range []string{"schema", "table"} {
			done := false
			for _, r := range active {
				if r.target != slot || !nameActions[r.action] || !r.matchesTable(t) {
					continue
				}
				r.matched = true
				if done {
					continue
				}
				done, r.applied = true, true
				if slot == "schema" {
					ts.schema = applyName(r, ts.schema)
				} else {
					ts.name = applyName(r, ts.name)
				}
			}
		}
		// Columns: name, membership and type slots.
		included := false
		for i := range t.Columns {
			col := &t.Columns[i]
			cs := &ts.cols[i]
			var nameR, keepR, typR *rule
			for _, r := range active {
				if r.target != "column" || !r.hasColumn || !r.matchesColumn(t, col) {
					continue
				}
				r.matched = true
				switch {
				case nameActions[r.action]:
					if nameR == nil {
						nameR = r
					}
				case r.action == "remove-column" || r.action == "include-column":
					if keepR == nil {
						keepR = r
					}
					if r.action == "include-column" {
						included = true
					}
				case r.action == "change-data-type":
					if typR == nil && !isLOB(col.Type) {
						typR = r
					}
				}
			}
			if nameR != nil {
				nameR.applied = true
				cs.name = applyName(nameR, cs.name)
			}
			if keepR != nil {
				keepR.applied = true
				cs.keep = keepR.action == "include-column"
			}
			if typR != nil {
				typR.applied = true
				tc := typR.dataType.col
				tc.Name, tc.Nullable, tc.IsPK = cs.name, col.Nullable, col.IsPK
				cs.typ, cs.typRule = &tc, typR
			}
		}
		if included {
			// include-column switches the table to "keep only the listed
			// columns": a column no include-column rule won is dropped.
			for i := range ts.cols {
				if !ts.cols[i].keep {
					continue
				}
				kept := false
				for _, r := range active {
					if r.action == "include-column" && r.matchesColumn(t, &t.Columns[i]) {
						kept = true
						break
					}
				}
				ts.cols[i].keep = kept
			}
		}
		for _, r := range active {
			if r.target == "table" && r.action == "define-primary-key" && r.matchesTable(t) {
				r.matched = true
				if ts.pkRule == nil {
					r.applied = true
					c.definePK(ts, r)
				}
			}
		}
		for _, r := range active {
			if r.action == "add-column" && r.matchesTable(t) {
				r.matched, r.applied = true, true
				c.addColumn(ts, r)
			}
		}
		for _, r := range active {
			if r.action == "add-before-image-columns" && r.matchesTable(t) {
				r.matched = true
				if ts.biRule == nil {
					ts.biRule, r.applied = r, true
					c.addBeforeImage(ts, r)
				}
			}
		}
	}
	for _, r := range active {
		c.checkApplied(r)
	}
}

func isLOB(t tabledefs.Type) bool { return t == tabledefs.TypeBlob || t == tabledefs.TypeClob }

// matchesColumn reports whether a column rule's locator matches col of t.
func (r *rule) matchesColumn(t *tabledefs.Table, col *tabledefs.Column) bool {
	if !r.matchesTable(t) || !r.column.match(col.Name) {
		return false
	}
	return r.locDataType == tabledefs.TypeInvalid || r.locDataType == col.Type
}

// checkApplied reports rules naming objects that do not exist and rules
// that lose every object they match to a lower rule-id.
func (c *compiler) checkApplied(r *rule) {
	if r.applied {
		return
	}
	if r.matched {
		c.problem(r.path+".rule-id", r, "never applied: a rule with a lower rule-id already sets the same thing (%s) of every object this rule matches; DMS applies one action per object", slotName(r))
		return
	}
	exact := !r.schema.hasWildcard() && (!r.hasTable || !r.table.hasWildcard())
	if !exact {
		return
	}
	// The table may exist but not be selected, or not exist at all.
	var t *tabledefs.Table
	for i := range c.def.Tables {
		if r.matchesTable(&c.def.Tables[i]) {
			t = &c.def.Tables[i]
			break
		}
	}
	switch {
	case t == nil || !c.isSelected(t):
		c.noSuchTable(r)
	case r.hasColumn && !r.column.hasWildcard():
		name := r.column.literal()
		i, hint := findColumn(t, name)
		switch {
		case i < 0:
			c.noSuchColumn(r.locPath+".column-name", r, t, name, hint)
		case r.locDataType != tabledefs.TypeInvalid && t.Columns[i].Type != r.locDataType:
			c.problem(r.locPath+".data-type", r, "column %q of %s.%s is %s, not %s", name, t.Owner, t.Name, t.Columns[i].Type, r.locDataType)
		case r.action == "change-data-type" && isLOB(t.Columns[i].Type):
			c.problem(r.locPath+".column-name", r, "LOB column %q can only be removed, not changed", name)
		}
	}
}

func slotName(r *rule) string {
	switch {
	case nameActions[r.action]:
		return "the " + r.target + " name"
	case r.action == "remove-column" || r.action == "include-column":
		return "whether the column is kept"
	case r.action == "change-data-type":
		return "the column type"
	case r.action == "define-primary-key":
		return "the primary key"
	case r.action == "add-before-image-columns":
		return "the before-image columns"
	}
	return r.action
}

func (c *compiler) isSelected(t *tabledefs.Table) bool {
	for _, ts := range c.tables {
		if ts.src == t {
			return true
		}
	}
	return false
}

// targetIndex finds a kept column by target or source name: exact first,
// then case-insensitively. It returns the source index or -1.
func (ts *tableState) columnByName(name string) int {
	for i := range ts.cols {
		if ts.src.Columns[i].Name == name || ts.cols[i].name == name {
			return i
		}
	}
	for i := range ts.cols {
		if strings.EqualFold(ts.src.Columns[i].Name, name) || strings.EqualFold(ts.cols[i].name, name) {
			return i
		}
	}
	return -1
}

func (c *compiler) definePK(ts *tableState, r *rule) {
	ts.pkRule = r
	ts.pkDef = []int{}
	for i, name := range r.pkDef.columns {
		path := r.pkDef.path + ".columns[" + itoa(i) + "]"
		idx := ts.columnByName(name)
		if idx < 0 {
			c.noSuchColumn(path, r, ts.src, name, "")
			continue
		}
		if !ts.cols[idx].keep {
			c.problem(path, r, "primary-key column %q is removed by another rule", name)
			continue
		}
		ts.pkDef = append(ts.pkDef, idx)
	}
}

// targetNames lists the target names of kept and added columns.
func (ts *tableState) hasTargetName(name string) bool {
	for i := range ts.cols {
		if ts.cols[i].keep && strings.EqualFold(ts.cols[i].name, name) {
			return true
		}
	}
	for _, a := range ts.added {
		if strings.EqualFold(a.col.Name, name) {
			return true
		}
	}
	return false
}

func (c *compiler) addColumn(ts *tableState, r *rule) {
	if ts.hasTargetName(r.value) {
		c.problem(r.path+".value", r, "column %q already exists in %s.%s", r.value, ts.src.Owner, ts.src.Name)
		return
	}
	e, err := compileExpr(r.expr, ts.src)
	if err != nil {
		c.problem(r.path+".expression", r, "%v", err)
		return
	}
	col := r.dataType.col
	col.Name, col.Nullable = r.value, true
	ts.added = append(ts.added, addedCol{col: col, expr: e, before: -1, rule: r})
}

func (c *compiler) addBeforeImage(ts *tableState, r *rule) {
	pk := ts.pkIndexes()
	for i := range ts.cols {
		cs := &ts.cols[i]
		src := &ts.src.Columns[i]
		if !cs.keep {
			continue
		}
		switch r.biDef.filter {
		case "pk-only":
			if !containsInt(pk, i) {
				continue
			}
		case "non-lob":
			if isLOB(src.Type) {
				continue
			}
		}
		col := *src
		if cs.typ != nil {
			col = *cs.typ
		}
		col.Name = r.biDef.prefix + cs.name + r.biDef.suffix
		col.Nullable, col.IsPK = true, false
		if ts.hasTargetName(col.Name) {
			c.problem(r.path+".before-image-def", r, "before-image column %q already exists in %s.%s", col.Name, ts.src.Owner, ts.src.Name)
			continue
		}
		ts.added = append(ts.added, addedCol{col: col, before: i, rule: r})
	}
}

// pkIndexes returns the source indexes of the target primary key.
func (ts *tableState) pkIndexes() []int {
	if ts.pkDef != nil {
		return ts.pkDef
	}
	var out []int
	for i := range ts.cols {
		if ts.cols[i].keep && ts.src.Columns[i].IsPK {
			out = append(out, i)
		}
	}
	return out
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
