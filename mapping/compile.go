package mapping

import (
	"cmp"
	"slices"

	"github.com/sluicedata/sluice/tabledefs"
)

// compiler holds the state of one Compile call.
type compiler struct {
	file   string
	def    *tabledefs.Definition
	opts   Options
	p      tabledefs.Problems
	rules  []*rule
	tables []*tableState // selected tables, definition order
}

// tableState is a selected table while the rules are being resolved.
type tableState struct {
	src       *tabledefs.Table
	defIdx    int
	loadOrder int
	filters   []filter
	schema    string // target schema name
	name      string // target table name
	cols      []colState
	added     []addedCol // add-column and before-image columns, in order
	pkDef     []int      // define-primary-key: source column indexes (nil: keep the source PK)
	pkRule    *rule
	biRule    *rule
	om        *rule
	omPlan    *objectMapPlan
}

// colState is one source column on its way to the target.
type colState struct {
	name    string            // target name
	keep    bool              // false once removed
	typ     *tabledefs.Column // changed type, nil when unchanged
	typRule *rule
}

// addedCol is a target column that no source column maps to one for one.
type addedCol struct {
	col    tabledefs.Column
	expr   *compiledExpr // add-column
	before int           // before-image column: source index; -1 otherwise
	rule   *rule
}

func newTableState(t *tabledefs.Table, defIdx int) *tableState {
	ts := &tableState{src: t, defIdx: defIdx, schema: t.Owner, name: t.Name}
	ts.cols = make([]colState, len(t.Columns))
	for i := range t.Columns {
		ts.cols[i] = colState{name: t.Columns[i].Name, keep: true}
	}
	return ts
}

// compile runs every phase; problems accumulate in c.p.
func (c *compiler) compile(doc []byte) {
	v, err := tabledefs.DecodeJSON(c.file, doc)
	if err != nil {
		if ps, ok := err.(tabledefs.Problems); ok {
			c.p = append(c.p, ps...)
		} else {
			c.p.Add(c.file, "$", "%v", err)
		}
		return
	}
	root, ok := tabledefs.AsObject(v, c.file, "$", &c.p)
	if !ok {
		return
	}
	raws, _ := root.Array("rules", true)
	root.Unknown()
	for i, rv := range raws {
		if r := c.parseRule(i, rv); r != nil {
			c.rules = append(c.rules, r)
		}
	}
	c.checkUnique()
	slices.SortStableFunc(c.rules, func(a, b *rule) int { return cmp.Compare(a.id, b.id) })
	var sel, tr, om, ts []*rule
	for _, r := range c.rules {
		switch r.typ {
		case "selection":
			sel = append(sel, r)
		case "transformation":
			tr = append(tr, r)
		case "object-mapping":
			om = append(om, r)
		case "table-settings":
			ts = append(ts, r)
		}
	}
	if raws != nil {
		c.selectTables(sel)
	}
	c.transform(tr)
	c.objectMapping(om)
	c.tableSettings(ts)
	c.checkTargets()
}

// checkUnique reports duplicate rule ids and rule names.
func (c *compiler) checkUnique() {
	ids := map[int]*rule{}
	names := map[string]*rule{}
	for _, r := range c.rules {
		if first, dup := ids[r.id]; dup {
			c.problem(r.path+".rule-id", nil, "duplicate rule-id %d (also %s)", r.id, first.path)
		} else {
			ids[r.id] = r
		}
		if r.name == "" {
			continue
		}
		if first, dup := names[r.name]; dup {
			c.problem(r.path+".rule-name", nil, "duplicate rule-name %q (also %s)", r.name, first.path)
		} else {
			names[r.name] = r
		}
	}
}

// checkTargets reports two source tables mapped to one target table and two
// columns of one target table with the same name.
func (c *compiler) checkTargets() {
	seen := map[[2]string]*tableState{}
	for _, ts := range c.tables {
		k := [2]string{ts.schema, ts.name}
		if o, dup := seen[k]; dup {
			c.p.Add(c.file, "$.rules", "tables %s.%s and %s.%s both map to the target table %s.%s",
				o.src.Owner, o.src.Name, ts.src.Owner, ts.src.Name, ts.schema, ts.name)
			continue
		}
		seen[k] = ts
		if ts.schema == "" || ts.name == "" {
			c.p.Add(c.file, "$.rules", "table %s.%s maps to an empty target schema or table name", ts.src.Owner, ts.src.Name)
		}
	}
}
