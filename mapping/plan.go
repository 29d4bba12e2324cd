package mapping

import (
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

// plan is the compiled per-table work of Map.
type plan struct {
	src     *tabledefs.Table
	tt      *TargetTable
	filters []filter
	// alias is set when the target row is the source row: Values then
	// aliases the event's slice and nothing is copied.
	alias   bool
	cols    []colSource // one per target column when !alias
	loadKey keyPlan
	cdcKey  keyPlan
	ctlKey  string
}

type srcKind uint8

const (
	csSource   srcKind = iota // source column idx, unchanged
	csConvert                 // source column idx, coerced to the target type
	csExpr                    // add-column expression, coerced
	csBefore                  // before-image of source column idx
	csTemplate                // attribute mapping
)

type colSource struct {
	kind srcKind
	idx  int
	to   *tabledefs.Column // target column (csConvert, csExpr, csBefore)
	expr *compiledExpr
	tpl  *template
	json bool
}

// buildPlans turns each resolved table into its plan and TargetTable.
func (c *compiler) buildPlans() []*plan {
	plans := make([]*plan, 0, len(c.tables))
	for _, ts := range c.tables {
		plans = append(plans, c.buildPlan(ts))
	}
	return plans
}

func (c *compiler) buildPlan(ts *tableState) *plan {
	p := &plan{src: ts.src, filters: ts.filters}
	tt := &TargetTable{Schema: ts.schema, Name: ts.name, Source: ts.src}
	om := ts.omPlan
	excluded := func(name string) bool { return om != nil && om.excluded[strings.ToLower(name)] }
	if om != nil {
		tt.Document = om.document
	}
	pk := ts.pkIndexes()
	srcPos := make([]int, len(ts.cols)) // target position of each source column, -1 when absent
	for i := range ts.cols {
		srcPos[i] = -1
		cs := &ts.cols[i]
		if !cs.keep || excluded(cs.name) {
			continue
		}
		col := ts.src.Columns[i]
		kind := csSource
		if cs.typ != nil {
			col = *cs.typ
			kind = csConvert
		}
		col.Name = cs.name
		col.IsPK = containsInt(pk, i)
		srcPos[i] = len(tt.Columns)
		tt.Columns = append(tt.Columns, col)
		p.cols = append(p.cols, colSource{kind: kind, idx: i})
	}
	for _, a := range ts.added {
		if excluded(a.col.Name) {
			continue
		}
		cs := colSource{kind: csExpr, expr: a.expr}
		if a.before >= 0 {
			cs = colSource{kind: csBefore, idx: a.before}
		}
		tt.Columns = append(tt.Columns, a.col)
		p.cols = append(p.cols, cs)
	}
	if om != nil {
		for i := range om.attrs {
			a := &om.attrs[i]
			if a.json {
				tt.JSONColumns = append(tt.JSONColumns, len(tt.Columns))
			}
			tt.Columns = append(tt.Columns, a.col)
			p.cols = append(p.cols, colSource{kind: csTemplate, tpl: &a.tpl, json: a.json})
		}
	}
	for i := range p.cols {
		p.cols[i].to = &tt.Columns[i]
	}
	seen := make(map[string]bool, len(tt.Columns))
	for _, col := range tt.Columns {
		k := strings.ToLower(col.Name)
		if seen[k] {
			c.p.Add(c.file, "$.rules", "table %s.%s has two columns named %q", ts.src.Owner, ts.src.Name, col.Name)
		}
		seen[k] = true
	}
	p.alias = len(p.cols) == len(ts.src.Columns)
	for i, cs := range p.cols {
		if cs.kind != csSource || cs.idx != i {
			p.alias = false
		}
	}
	if p.alias {
		p.cols = nil
	}
	p.tt = tt
	c.buildKeys(p, ts, pk, srcPos)
	return p
}
