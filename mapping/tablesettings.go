package mapping

import (
	"strconv"

	"github.com/sluicedata/sluice/tabledefs"
)

// table-settings rules are validated as DMS validates them and otherwise
// ignored: sluice sources load each table as one stream (DMS does not
// support parallel-load for S3 sources either) and LOB limits are settings
// of the task.

type tableSettingsSpec struct {
	columns     []string
	columnsPath string
}

func (c *compiler) parseTableSettings(o *tabledefs.Object, r *rule) {
	r.action = "table-settings"
	if c.parseLocator(o, r, true, false) {
		if !r.hasTable || r.schema.hasWildcard() || r.table.hasWildcard() {
			c.problem(r.locPath, r, "Error in mapping rules. Rule with ruleId = %d failed validation. Exact schema and table name required when using table settings rule.", r.id)
			r.action = ""
		}
	} else {
		r.action = ""
	}
	if pl, ok := o.Object("parallel-load", false); ok {
		typ, ok := pl.String("type", true)
		if ok && c.oneOf(pl.KeyPath("type"), r, "parallel-load type", typ, []string{"partitions-auto", "partitions-list", "ranges", "none"}) {
			switch typ {
			case "ranges":
				cols, ok := pl.Array("columns", true)
				for i, v := range cols {
					s, isStr := v.(string)
					if !isStr || s == "" {
						c.problem(pl.KeyPath("columns")+"["+strconv.Itoa(i)+"]", r, "must be a column name")
						continue
					}
					r.filters = append(r.filters, filterSpec{path: pl.KeyPath("columns") + "[" + strconv.Itoa(i) + "]", column: s})
				}
				if ok && len(cols) == 0 {
					c.problem(pl.KeyPath("columns"), r, "needs at least one column")
				}
				if b, ok := pl.Array("boundaries", true); ok {
					for i, row := range b {
						vals, isArr := row.([]any)
						if !isArr || len(vals) != len(cols) {
							c.problem(pl.KeyPath("boundaries")+"["+strconv.Itoa(i)+"]", r, "must be an array of %d values, one per column", len(cols))
						}
					}
				}
				pl.Has("segment-names")
			case "partitions-list":
				pl.Has("partitions")
				pl.Has("subpartitions")
			}
		}
		pl.Unknown("number-of-partitions", "collection-count-from-metadata", "max-records-skip-per-page", "batch-size")
	} else if o.Has("parallel-load") {
		r.action = ""
	}
	if ls, ok := o.Object("lob-settings", false); ok {
		if m, ok := ls.String("mode", false); ok {
			c.oneOf(ls.KeyPath("mode"), r, "lob-settings mode", m, []string{"limited", "unlimited", "none"})
		}
		if n, ok := ls.Int("bulk-max-size", false); ok && n < 0 {
			c.problem(ls.KeyPath("bulk-max-size"), r, "must not be negative")
		}
		ls.Unknown()
	}
	o.Has("rule-action")
}

// tableSettings checks that table-settings rules name selected tables and
// existing columns.
func (c *compiler) tableSettings(rules []*rule) {
	for _, r := range rules {
		if r.action == "" {
			continue
		}
		var ts *tableState
		for _, t := range c.tables {
			if r.matchesTable(t.src) {
				ts = t
			}
		}
		if ts == nil {
			c.noSuchTable(r)
			continue
		}
		for _, f := range r.filters {
			if i, hint := findColumn(ts.src, f.column); i < 0 {
				c.noSuchColumn(f.path, r, ts.src, f.column, hint)
			}
		}
	}
}

// post-processing rules (S3 target object tags) are validated here and
// applied by the S3 target, if at all.
func (c *compiler) parsePostProcessing(o *tabledefs.Object, r *rule) {
	act, ok := o.String("rule-action", true)
	if ok {
		c.oneOf(o.KeyPath("rule-action"), r, "post-processing rule-action", act, []string{"add-tag"})
	}
	c.parseLocator(o, r, true, false)
	if tags, ok := o.Array("tag-set", true); ok {
		for i, tv := range tags {
			to, ok := tabledefs.AsObject(tv, c.file, o.KeyPath("tag-set")+"["+strconv.Itoa(i)+"]", &c.p)
			if !ok {
				continue
			}
			to.String("key", true)
			to.String("value", true)
			to.Unknown()
		}
	}
	r.action = ""
}
