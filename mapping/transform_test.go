package mapping

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

const selectHR = `{"rule-type":"selection","rule-id":1,"rule-name":"sel","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"%"}}`

// tr builds a transformation rule.
func tr(id int, target, action, locator, extra string) string {
	return fmt.Sprintf(`{"rule-type":"transformation","rule-id":%d,"rule-name":"t%d","rule-target":%q,"rule-action":%q,"object-locator":{%s}%s}`,
		id, id, target, action, locator, extra)
}

func doc(rules ...string) string { return `{"rules":[` + strings.Join(rules, ",") + `]}` }

// TestNameActions runs every name action on schema, table and column.
func TestNameActions(t *testing.T) {
	for _, tc := range []struct {
		action, extra string
		schema        string // hr
		table         string // department
		column        string // name
	}{
		{"rename", `,"value":"X"`, "X", "X", "X"},
		{"convert-uppercase", "", "HR", "DEPARTMENT", "NAME"},
		{"convert-lowercase", "", "hr", "department", "name"},
		{"add-prefix", `,"value":"p_"`, "p_hr", "p_department", "p_name"},
		{"remove-prefix", `,"value":"de"`, "hr", "partment", "name"},
		{"replace-prefix", `,"value":"DE","old-value":"de"`, "hr", "DEpartment", "name"},
		{"add-suffix", `,"value":"_s"`, "hr_s", "department_s", "name_s"},
		{"remove-suffix", `,"value":"ment"`, "hr", "depart", "name"},
		{"replace-suffix", `,"value":"ME","old-value":"me"`, "hr", "department", "naME"},
	} {
		def := testDef()
		dep := table(def, "hr", "department")
		for _, target := range []string{"schema", "table", "column"} {
			loc := `"schema-name":"hr"`
			if target != "schema" {
				loc += `,"table-name":"department"`
			}
			if target == "column" {
				loc += `,"column-name":"name"`
			}
			m, err := Compile("tm.json", []byte(doc(selectHR, tr(2, target, tc.action, loc, tc.extra))), def, Options{})
			if err != nil {
				t.Errorf("%s %s: %v", tc.action, target, err)
				continue
			}
			tt := m.Target(dep)
			want := map[string]string{"schema": "hr", "table": "department", "column": "name"}
			want[target] = map[string]string{"schema": tc.schema, "table": tc.table, "column": tc.column}[target]
			got := map[string]string{"schema": tt.Schema, "table": tt.Name, "column": tt.Columns[1].Name}
			for k := range want {
				if got[k] != want[k] {
					t.Errorf("%s on %s: %s name %q, want %q", tc.action, target, k, got[k], want[k])
				}
			}
			// Renames do not copy rows.
			ev := &source.Event{Op: source.OpInsert, Table: dep, Values: row(t, dep, "1", "x")}
			if r := mapOne(t, m, ev); &r.Values[0] != &ev.Values[0] {
				t.Errorf("%s on %s: values were copied", tc.action, target)
			}
		}
	}
}

func TestLowestRuleIDWins(t *testing.T) {
	def := testDef()
	d := doc(selectHR,
		tr(9, "table", "add-prefix", `"schema-name":"hr","table-name":"%"`, `,"value":"p_"`),
		tr(3, "table", "rename", `"schema-name":"hr","table-name":"department"`, `,"value":"dept"`),
		tr(4, "column", "convert-uppercase", `"schema-name":"hr","table-name":"%","column-name":"%"`, ""),
		tr(2, "column", "rename", `"schema-name":"hr","table-name":"department","column-name":"name"`, `,"value":"label"`),
	)
	m := mustCompile(t, def, d, Options{})
	dep := m.Target(table(def, "hr", "department"))
	emp := m.Target(table(def, "hr", "employee"))
	if dep.Name != "dept" || emp.Name != "p_employee" {
		t.Errorf("tables %s, %s", dep.Name, emp.Name)
	}
	if dep.Columns[0].Name != "ID" || dep.Columns[1].Name != "label" {
		t.Errorf("columns %s, %s", dep.Columns[0].Name, dep.Columns[1].Name)
	}
}

func TestRemoveAndIncludeColumn(t *testing.T) {
	def := testDef()
	emp := table(def, "hr", "employee")
	vals := row(t, emp, "1", "Ada", "L", "tech", "1.5", "2020-01-01", "a", "b", "n", "")
	for _, tc := range []struct {
		name  string
		rules []string
		want  string
	}{
		{"remove by pattern", []string{tr(2, "column", "remove-column", `"schema-name":"hr","table-name":"employee","column-name":"tmp%"`, "")},
			"Id=1 FirstName=Ada LastName=L dept=tech HourlyRate=1.50 hired=2020-01-01 notes=n updated=NULL"},
		{"remove by data-type", []string{tr(2, "column", "remove-column", `"schema-name":"hr","table-name":"employee","column-name":"%","data-type":"string"`, "")},
			"Id=1 HourlyRate=1.50 hired=2020-01-01 notes=n updated=NULL"},
		{"include only", []string{
			tr(2, "column", "include-column", `"schema-name":"hr","table-name":"employee","column-name":"Id"`, ""),
			tr(3, "column", "include-column", `"schema-name":"hr","table-name":"employee","column-name":"dept"`, "")},
			"Id=1 dept=tech"},
		{"include beats later remove", []string{
			tr(2, "column", "include-column", `"schema-name":"hr","table-name":"employee","column-name":"%Name"`, ""),
			tr(3, "column", "remove-column", `"schema-name":"hr","table-name":"employee","column-name":"%e%"`, "")},
			"FirstName=Ada LastName=L"},
		{"remove beats later include", []string{
			tr(2, "column", "remove-column", `"schema-name":"hr","table-name":"employee","column-name":"Last%"`, ""),
			tr(3, "column", "include-column", `"schema-name":"hr","table-name":"employee","column-name":"%Name"`, "")},
			"FirstName=Ada"},
	} {
		m, err := Compile("tm.json", []byte(doc(append([]string{selectHR}, tc.rules...)...)), def, Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		r := mapOne(t, m, &source.Event{Op: source.OpLoad, Table: emp, Values: vals})
		if got := render(r); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestChangeDataType(t *testing.T) {
	def := typedDef()
	tbl := &def.Tables[0]
	sel := `{"rule-type":"selection","rule-id":1,"rule-name":"sel","rule-action":"include","object-locator":{"schema-name":"s","table-name":"typed"}}`
	for _, tc := range []struct {
		col, dataType, in, want string
		fails                   bool
	}{
		{"i", `{"type":"string"}`, "42", "42", false},
		{"i", `{"type":"int2"}`, "42", "42", false},
		{"i", `{"type":"int2"}`, "70000", "", true},
		{"i", `{"type":"numeric","precision":10,"scale":2}`, "42", "42.00", false},
		{"i", `{"type":"real8"}`, "42", "42", false},
		{"i", `{"type":"boolean"}`, "2", "true", false},
		{"n", `{"type":"numeric","precision":10,"scale":1}`, "1.250", "1.3", false},
		{"n", `{"type":"numeric","precision":10,"scale":1}`, "-1.250", "-1.3", false},
		{"n", `{"type":"numeric","precision":10,"scale":5}`, "1.250", "1.25000", false},
		{"n", `{"type":"int4"}`, "-7.900", "-7", false},
		{"n", `{"type":"numeric","precision":3,"scale":0}`, "12345.000", "", true},
		{"f", `{"type":"int8"}`, "3.7", "3", false},
		{"f", `{"type":"numeric","precision":10,"scale":2}`, "2.5", "2.50", false},
		{"s", `{"type":"date"}`, "2024-02-29", "2024-02-29", false},
		{"s", `{"type":"date"}`, "yesterday", "", true},
		{"s", `{"type":"datetime","precision":3}`, "2024-02-29 10:11:12.345", "2024-02-29 10:11:12.345", false},
		{"s", `{"type":"time"}`, "10:11:12", "10:11:12", false},
		{"s", `{"type":"int4"}`, "17", "17", false},
		{"s", `{"type":"string","length":3}`, "abcd", "", true},
		{"ts", `{"type":"date"}`, "2024-02-29 23:59:59", "2024-02-29", false},
		{"ts", `{"type":"string"}`, "2024-02-29 23:59:59.5", "2024-02-29 23:59:59.500000", false},
		{"d", `{"type":"datetime"}`, "2024-02-29", "2024-02-29 00:00:00", false},
		{"d", `{"type":"int4"}`, "2024-02-29", "", true},
		{"b", `{"type":"int1"}`, "true", "1", false},
		{"u", `{"type":"int8"}`, "18446744073709551615", "", true},
	} {
		name := tc.col + " " + tc.dataType + " " + tc.in
		d := doc(sel, tr(2, "column", "change-data-type", `"schema-name":"s","table-name":"typed","column-name":"`+tc.col+`"`, `,"data-type":`+tc.dataType))
		m, err := Compile("tm.json", []byte(d), def, Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		i := tbl.ColumnIndex(tc.col)
		vals := make([]tabledefs.Value, len(tbl.Columns))
		if vals[i], err = tbl.Columns[i].ParseValue(tc.in); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		recs, err := m.Map(&source.Event{Op: source.OpInsert, Table: tbl, Values: vals}, nil)
		if tc.fails {
			if err == nil {
				t.Errorf("%s: converted to %s", name, render(&recs[0]))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		r := &recs[0]
		if got := string(tabledefs.AppendText(nil, r.Values[i], &r.Table.Columns[i])); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
		if r.Values[i].Kind != r.Table.Columns[i].Type.Kind() {
			t.Errorf("%s: kind %v for type %v", name, r.Values[i].Kind, r.Table.Columns[i].Type)
		}
	}
}

func TestDefinePrimaryKey(t *testing.T) {
	def := testDef()
	emp := table(def, "hr", "employee")
	d := doc(selectHR, tr(2, "table", "define-primary-key", `"schema-name":"hr","table-name":"employee"`,
		`,"primary-key-def":{"name":"emp_pk","origin":"primary-key","columns":["dept","LastName"]}`))
	m := mustCompile(t, def, d, Options{})
	tt := m.Target(emp)
	var pk []string
	for _, c := range tt.Columns {
		if c.IsPK {
			pk = append(pk, c.Name)
		}
	}
	if strings.Join(pk, ",") != "LastName,dept" {
		t.Errorf("pk %v", pk)
	}
	// Key columns follow the order of primary-key-def, as a key definition does.
	r := mapOne(t, m, &source.Event{Op: source.OpLoad, Table: emp, Values: row(t, emp, "1", "Ada", "L", "tech", "", "", "", "", "", "")})
	if r.PartitionKey != "tech.L" || r.PartitionKeyType != "primary-key" {
		t.Errorf("key %q %q", r.PartitionKey, r.PartitionKeyType)
	}
}

func TestAddBeforeImageColumns(t *testing.T) {
	def := testDef()
	emp := table(def, "hr", "employee")
	for _, tc := range []struct {
		biDef string
		want  string
	}{
		{`{}`, "BI_Id=7"},
		{`{"column-prefix":"","column-suffix":"_old","column-filter":"pk-only"}`, "Id_old=7"},
		{`{"column-filter":"non-lob"}`, "BI_Id=7 BI_FirstName=Ada BI_LastName=Old BI_dept=NULL BI_HourlyRate=NULL BI_hired=NULL BI_tmp_a=NULL BI_tmp_b=NULL BI_updated=NULL"},
		{`{"column-filter":"all"}`, "BI_Id=7 BI_FirstName=Ada BI_LastName=Old BI_dept=NULL BI_HourlyRate=NULL BI_hired=NULL BI_tmp_a=NULL BI_tmp_b=NULL BI_notes=lob BI_updated=NULL"},
	} {
		d := doc(selectHR, tr(2, "column", "add-before-image-columns", `"schema-name":"hr","table-name":"employee"`, `,"before-image-def":`+tc.biDef))
		m, err := Compile("tm.json", []byte(d), def, Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.biDef, err)
			continue
		}
		after := row(t, emp, "7", "Ada", "New", "", "", "", "", "", "", "")
		before := row(t, emp, "7", "Ada", "Old", "", "", "", "", "", "lob", "")
		r := mapOne(t, m, &source.Event{Op: source.OpUpdate, Table: emp, Values: after, Before: before})
		got := render(r)
		got = got[strings.Index(got, "updated=NULL ")+len("updated=NULL "):]
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.biDef, got, tc.want)
		}
		// Inserts have no before image: the columns are NULL.
		r = mapOne(t, m, &source.Event{Op: source.OpInsert, Table: emp, Values: after})
		if !r.Values[len(emp.Columns)].IsNull() {
			t.Errorf("%s: insert has before-image value %v", tc.biDef, r.Values[len(emp.Columns)])
		}
	}
}

func TestAddColumn(t *testing.T) {
	def := testDef()
	emp := table(def, "hr", "employee")
	for _, tc := range []struct {
		expr, dataType string
		op             source.Op
		want           string
		fails          bool
	}{
		{"$Id * 10", `{"type":"int8"}`, source.OpInsert, "420", false},
		{"$HourlyRate * 2", `{"type":"numeric","precision":10,"scale":2}`, source.OpInsert, "25.00", false},
		{"$hired", `{"type":"datetime"}`, source.OpInsert, "2020-01-02 00:00:00", false},
		{"CASE WHEN $dept = 'tech' THEN 1 ELSE 0 END", `{"type":"boolean"}`, source.OpInsert, "true", false},
		{"operation_indicator('D','U','I')", `{"type":"string","length":1}`, source.OpDelete, "D", false},
		{"$AR_H_COMMIT_TIMESTAMP", `{"type":"datetime","precision":6}`, source.OpLoad, "2024-05-06 07:08:09.000000", false},
		{"$tmp_a", `{"type":"int4"}`, source.OpInsert, "NULL", false},
		{"$dept", `{"type":"int4"}`, source.OpInsert, "", true},
		{"$FirstName || $LastName", `{"type":"string","length":3}`, source.OpInsert, "", true},
	} {
		d := doc(selectHR, tr(2, "column", "add-column", `"schema-name":"hr","table-name":"employee"`,
			`,"value":"extra","expression":`+fmt.Sprintf("%q", tc.expr)+`,"data-type":`+tc.dataType))
		m, err := Compile("tm.json", []byte(d), def, Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		m.now = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
		ev := &source.Event{Op: tc.op, Table: emp, Values: row(t, emp, "42", "Ada", "Lovelace", "tech", "12.5", "2020-01-02", "", "", "", "")}
		recs, err := m.Map(ev, nil)
		if tc.fails {
			if err == nil {
				t.Errorf("%s: mapped to %s", tc.expr, render(&recs[0]))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		r := &recs[0]
		n := len(r.Values) - 1
		got := "NULL"
		if !r.Values[n].IsNull() {
			got = string(tabledefs.AppendText(nil, r.Values[n], &r.Table.Columns[n]))
			if r.Values[n].Kind != r.Table.Columns[n].Type.Kind() {
				t.Errorf("%s: kind %v for %v", tc.expr, r.Values[n].Kind, r.Table.Columns[n].Type)
			}
		}
		if got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
		if &r.Values[0] == &ev.Values[0] {
			t.Errorf("%s: the event's values were reused for a wider row", tc.expr)
		}
	}
}

func TestTableSettingsAccepted(t *testing.T) {
	d := doc(selectHR,
		`{"rule-type":"table-settings","rule-id":2,"rule-name":"ts","object-locator":{"schema-name":"hr","table-name":"employee"},
		  "parallel-load":{"type":"ranges","columns":["Id"],"boundaries":[["10"],["20"]],"segment-names":["a","b","c"]},
		  "lob-settings":{"mode":"limited","bulk-max-size":"64"}}`,
		`{"rule-type":"table-settings","rule-id":3,"rule-name":"ts2","object-locator":{"schema-name":"hr","table-name":"department"},"parallel-load":{"type":"partitions-auto"}}`,
		`{"rule-type":"post-processing","rule-id":4,"rule-name":"pp","rule-action":"add-tag","object-locator":{"schema-name":"hr","table-name":"%"},"tag-set":[{"key":"k","value":"v"}]}`)
	if got := compileProblems(t, testDef(), d); got != "" {
		t.Errorf("problems:\n%s", got)
	}
}

// A before-image value that does not convert to the changed type is an
// error for the row, like the row's own values, not a silent NULL.
func TestChangeDataTypeBeforeImageError(t *testing.T) {
	def := testDef()
	sel := `{"rule-type":"selection","rule-id":1,"rule-name":"sel","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"employee"}}`
	m := mustCompile(t, def, doc(sel,
		tr(2, "column", "change-data-type", `"schema-name":"hr","table-name":"employee","column-name":"dept"`, `,"data-type":{"type":"int4"}`)), Options{})
	emp := table(def, "hr", "employee")
	ev := &source.Event{Op: source.OpUpdate, Table: emp,
		Values: row(t, emp, "1", "Ann", "Lee", "42", "", "", "", "", "", ""),
		Before: row(t, emp, "1", "Ann", "Lee", "sales", "", "", "", "", "", "")}
	if _, err := m.Map(ev, nil); err == nil || !strings.Contains(err.Error(), "before-image column dept") {
		t.Fatalf("Map = %v, want an error naming the before-image column", err)
	}
}
