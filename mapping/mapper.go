package mapping

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// Options are the task settings that change how records are mapped.
type Options struct {
	TaskID                      string // ReplicationTaskIdentifier: control-record keys TaskId.schema.table
	PartitionIncludeSchemaTable bool   // KinesisSettings
	ParallelApply               bool   // TargetMetadata.ParallelApplyThreads > 0: CDC keys become primary keys
}

// Mapper is a compiled table mapping. It is read-only after Compile and safe
// for concurrent use; a Session is its faster single-goroutine form.
type Mapper struct {
	opts    Options
	tables  []*tabledefs.Table
	plans   []*plan // load order, parallel to tables
	byPtr   map[*tabledefs.Table]*plan
	byName  map[[2]string]*plan
	taskKey string
	now     func() time.Time
}

// Compile validates the table-mapping document against the table definitions
// and returns a Mapper. The error is a tabledefs.Problems listing every
// problem with file and JSON path, e.g.
// `$.rules[3].object-locator.column-name: rule 7: column "Foo" does not exist in hr.employee`.
func Compile(file string, doc []byte, def *tabledefs.Definition, opts Options) (*Mapper, error) {
	if def == nil {
		def = &tabledefs.Definition{}
	}
	c := &compiler{file: file, def: def, opts: opts}
	c.compile(doc)
	plans := c.buildPlans()
	if err := c.p.Err(); err != nil {
		return nil, err
	}
	// Load order: higher load-order first, then definition order.
	order := make([]int, len(plans))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(c.tables[b].loadOrder, c.tables[a].loadOrder)
	})
	m := &Mapper{
		opts:    opts,
		byPtr:   make(map[*tabledefs.Table]*plan, len(plans)),
		byName:  make(map[[2]string]*plan, len(plans)),
		taskKey: opts.TaskID,
		now:     time.Now,
	}
	for _, i := range order {
		p := plans[i]
		m.tables = append(m.tables, p.src)
		m.plans = append(m.plans, p)
		m.byPtr[p.src] = p
		m.byName[[2]string{p.src.Owner, p.src.Name}] = p
	}
	return m, nil
}

// Tables returns the selected source tables in load order: higher
// load-order first, then definition order.
func (m *Mapper) Tables() []*tabledefs.Table { return m.tables }

// Target returns the target-side table of a selected source table, or nil
// when t is not selected.
func (m *Mapper) Target(t *tabledefs.Table) *TargetTable {
	if p := m.plan(t); p != nil {
		return p.tt
	}
	return nil
}

// plan finds the table's plan: by pointer (sources hand out the
// definition's tables), else by schema and name.
func (m *Mapper) plan(t *tabledefs.Table) *plan {
	if len(m.plans) <= 8 {
		for _, p := range m.plans {
			if p.src == t {
				return p
			}
		}
	} else if p, ok := m.byPtr[t]; ok {
		return p
	}
	if t == nil {
		return nil
	}
	return m.byName[[2]string{t.Owner, t.Name}]
}

// Map appends the mapped record of ev to dst: none when the event's table is
// not selected or a source filter rejects the row. Control events
// (OpCreateTable, OpDropTable, OpTruncate) map to a record keyed
// TaskID.schema.table with PartitionKeyType "task-id"; a control event
// without a table is keyed by the TaskID alone.
//
// When no rule changes the columns, Record.Values and Record.Before alias
// the event's slices. An error means the row cannot be mapped (a value that
// does not convert to a changed type, a row of the wrong width): it concerns
// this row only and wraps a *tabledefs.ValueError when a value is at fault.
func (m *Mapper) Map(ev *source.Event, dst []Record) ([]Record, error) {
	return m.mapEvent(ev, dst, nil)
}

// mapEvent is Map; rendered partition keys come from a when it is not nil.
func (m *Mapper) mapEvent(ev *source.Event, dst []Record, a *keyArena) ([]Record, error) {
	if ev.Op.IsControl() {
		if ev.Table == nil {
			return append(dst, Record{Event: ev, PartitionKey: limitKey(m.taskKey), PartitionKeyType: KeyTaskID}), nil
		}
		p := m.plan(ev.Table)
		if p == nil {
			return dst, nil
		}
		return append(dst, Record{Event: ev, Table: p.tt, PartitionKey: p.ctlKey, PartitionKeyType: KeyTaskID}), nil
	}
	p := m.plan(ev.Table)
	if p == nil {
		return dst, nil
	}
	if len(ev.Values) != len(p.src.Columns) || (ev.Before != nil && len(ev.Before) != len(p.src.Columns)) {
		return dst, fmt.Errorf("mapping %s.%s: the row has %d values for %d columns", p.src.Owner, p.src.Name, len(ev.Values), len(p.src.Columns))
	}
	if len(p.filters) > 0 && !passFilters(p.filters, ev.Values) {
		return dst, nil
	}
	vals, before := ev.Values, ev.Before
	if !p.alias {
		var err error
		if vals, before, err = m.project(p, ev); err != nil {
			return dst, err
		}
	}
	k := &p.cdcKey
	if ev.Op == source.OpLoad {
		k = &p.loadKey
	}
	return append(dst, Record{
		Event:            ev,
		Table:            p.tt,
		Values:           vals,
		Before:           before,
		PartitionKey:     k.key(ev, vals, a),
		PartitionKeyType: k.typ,
	}), nil
}

// project builds the target row (and before-image row) of ev.
func (m *Mapper) project(p *plan, ev *source.Event) ([]tabledefs.Value, []tabledefs.Value, error) {
	n := len(p.cols)
	var buf []tabledefs.Value
	if ev.Before != nil {
		buf = make([]tabledefs.Value, 2*n)
	} else {
		buf = make([]tabledefs.Value, n)
	}
	vals := buf[:n:n]
	e := env{ev: ev, now: m.now}
	var text []byte
	for i := range p.cols {
		cs := &p.cols[i]
		var v tabledefs.Value
		var err error
		switch cs.kind {
		case csSource:
			v = ev.Values[cs.idx]
		case csConvert:
			v, err = coerce(ev.Values[cs.idx], cs.to)
		case csExpr:
			v, err = coerce(cs.expr.eval(e), cs.to)
		case csBefore:
			if ev.Before != nil {
				v, err = coerce(ev.Before[cs.idx], cs.to)
			}
		case csTemplate:
			text = cs.tpl.render(text[:0], ev.Values)
			v = tabledefs.StringValue(string(text))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("mapping %s.%s column %s: %w", p.src.Owner, p.src.Name, cs.to.Name, err)
		}
		vals[i] = v
	}
	if ev.Before == nil {
		return vals, nil, nil
	}
	before := buf[n:]
	for i := range p.cols {
		cs := &p.cols[i]
		switch cs.kind {
		case csSource:
			before[i] = ev.Before[cs.idx]
		case csConvert:
			v, err := coerce(ev.Before[cs.idx], cs.to)
			if err != nil {
				return nil, nil, fmt.Errorf("mapping %s.%s before-image column %s: %w", p.src.Owner, p.src.Name, cs.to.Name, err)
			}
			before[i] = v
		}
	}
	return vals, before, nil
}
