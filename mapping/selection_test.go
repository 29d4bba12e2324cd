package mapping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

func typedDef() *tabledefs.Definition {
	return &tabledefs.Definition{Tables: []tabledefs.Table{{Owner: "s", Name: "typed", Columns: []tabledefs.Column{
		{Name: "i", Type: tabledefs.TypeInt8, Nullable: true},
		{Name: "u", Type: tabledefs.TypeUint8, Nullable: true},
		{Name: "f", Type: tabledefs.TypeReal8, Nullable: true},
		{Name: "n", Type: tabledefs.TypeNumeric, Precision: 30, Scale: 3, Nullable: true},
		{Name: "d", Type: tabledefs.TypeDate, Nullable: true},
		{Name: "tm", Type: tabledefs.TypeTime, Scale: 3, Nullable: true},
		{Name: "ts", Type: tabledefs.TypeDateTime, Scale: 6, Nullable: true},
		{Name: "s", Type: tabledefs.TypeString, Nullable: true},
		{Name: "b", Type: tabledefs.TypeBoolean, Nullable: true},
	}}}}
}

// TestFilterOperators checks every operator on every type: values compare
// typed, never as text ("9" < "10" numerically, dates chronologically).
func TestFilterOperators(t *testing.T) {
	def := typedDef()
	tbl := &def.Tables[0]
	for _, tc := range []struct {
		col   string
		conds string // filter-conditions JSON
		value string // the row's value for col ("" = NULL)
		pass  bool
	}{
		{"i", `{"filter-operator":"eq","value":"10"}`, "10", true},
		{"i", `{"filter-operator":"eq","value":"10"}`, "9", false},
		{"i", `{"filter-operator":"lte","value":"10"}`, "9", true}, // text would say "9" > "10"
		{"i", `{"filter-operator":"ste","value":"10"}`, "11", false},
		{"i", `{"filter-operator":"gte","value":"-5"}`, "-4", true},
		{"i", `{"filter-operator":"gte","value":"-5"}`, "-6", false},
		{"i", `{"filter-operator":"noteq","value":"3"}`, "4", true},
		{"i", `{"filter-operator":"noteq","value":"3"}`, "3", false},
		{"i", `{"filter-operator":"noteq","value":"3"}`, "", false}, // NULL matches only null
		{"i", `{"filter-operator":"between","start-value":"1","end-value":"5"}`, "5", true},
		{"i", `{"filter-operator":"between","start-value":"1","end-value":"5"}`, "6", false},
		{"i", `{"filter-operator":"notbetween","start-value":"1","end-value":"5"}`, "0", true},
		{"i", `{"filter-operator":"notbetween","start-value":"1","end-value":"5"}`, "3", false},
		{"i", `{"filter-operator":"null"}`, "", true},
		{"i", `{"filter-operator":"null"}`, "0", false},
		{"i", `{"filter-operator":"notnull"}`, "0", true},
		{"i", `{"filter-operator":"notnull"}`, "", false},
		{"i", `{"filter-operator":"eq","value":"1"},{"filter-operator":"eq","value":"2"}`, "2", true},
		{"i", `{"filter-operator":"eq","value":"1"},{"filter-operator":"null"}`, "", true},
		{"u", `{"filter-operator":"gte","value":"18446744073709551615"}`, "18446744073709551615", true},
		{"u", `{"filter-operator":"lte","value":"9223372036854775808"}`, "9223372036854775807", true},
		{"u", `{"filter-operator":"lte","value":"9223372036854775808"}`, "9223372036854775809", false},
		{"f", `{"filter-operator":"lte","value":"2.5"}`, "2.49", true},
		{"f", `{"filter-operator":"lte","value":"2.5"}`, "1e3", false},
		{"n", `{"filter-operator":"eq","value":"1.5"}`, "1.500", true},
		{"n", `{"filter-operator":"lte","value":"10"}`, "9.999", true},
		{"n", `{"filter-operator":"lte","value":"-0.001"}`, "-0.002", true},
		{"n", `{"filter-operator":"lte","value":"-0.001"}`, "0", false},
		{"n", `{"filter-operator":"between","start-value":"123456789012345678901.1","end-value":"123456789012345678901.2"}`, "123456789012345678901.150", true},
		{"d", `{"filter-operator":"gte","value":"2024-02-01"}`, "2024-10-01", true},
		{"d", `{"filter-operator":"gte","value":"2024-02-01"}`, "2023-12-31", false},
		{"tm", `{"filter-operator":"lte","value":"09:30:00"}`, "09:29:59.999", true},
		{"tm", `{"filter-operator":"lte","value":"09:30:00"}`, "10:00:00", false},
		{"ts", `{"filter-operator":"between","start-value":"2024-01-01 00:00:00","end-value":"2024-01-31 23:59:59.5"}`, "2024-01-31 23:59:59.4", true},
		{"ts", `{"filter-operator":"between","start-value":"2024-01-01","end-value":"2024-01-31 23:59:59.5"}`, "2024-01-31 23:59:59.6", false},
		{"s", `{"filter-operator":"eq","value":"tech"}`, "tech", true},
		{"s", `{"filter-operator":"eq","value":"tech"}`, "Tech", false},
		{"s", `{"filter-operator":"lte","value":"b"}`, "abc", true},
		{"s", `{"filter-operator":"lte","value":"b"}`, "ba", false},
		{"s", `{"filter-operator":"lte","value":"Z"}`, "a", false}, // bytewise: 'a' > 'Z'
		{"b", `{"filter-operator":"eq","value":"true"}`, "true", true},
		{"b", `{"filter-operator":"eq","value":"true"}`, "false", false},
	} {
		name := fmt.Sprintf("%s %s %q", tc.col, tc.conds, tc.value)
		doc := `{"rules":[{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include",
			"object-locator":{"schema-name":"s","table-name":"typed"},
			"filters":[{"filter-type":"source","column-name":"` + tc.col + `","filter-conditions":[` + tc.conds + `]}]}]}`
		m, err := Compile("tm.json", []byte(doc), def, Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		vals := make([]tabledefs.Value, len(tbl.Columns))
		if tc.value != "" {
			i := tbl.ColumnIndex(tc.col)
			v, err := tbl.Columns[i].ParseValue(tc.value)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			vals[i] = v
		}
		recs, err := m.Map(&source.Event{Op: source.OpInsert, Table: tbl, Values: vals}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(recs) == 1; got != tc.pass {
			t.Errorf("%s: passed=%v, want %v", name, got, tc.pass)
		}
	}
}

func TestFiltersAndAcrossOrWithin(t *testing.T) {
	def := typedDef()
	tbl := &def.Tables[0]
	doc := `{"rules":[{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include",
		"object-locator":{"schema-name":"s","table-name":"typed"},
		"filters":[
		 {"filter-type":"source","column-name":"i","filter-conditions":[{"filter-operator":"lte","value":"10"},{"filter-operator":"gte","value":"100"}]},
		 {"filter-type":"source","column-name":"s","filter-conditions":[{"filter-operator":"notnull"}]}]}]}`
	m := mustCompile(t, def, doc, Options{})
	for _, tc := range []struct {
		i, s string
		pass bool
	}{{"5", "x", true}, {"500", "x", true}, {"50", "x", false}, {"5", "", false}} {
		vals := row(t, tbl, tc.i, "", "", "", "", "", "", tc.s, "")
		if got := mapOne(t, m, &source.Event{Op: source.OpDelete, Table: tbl, Values: vals}) != nil; got != tc.pass {
			t.Errorf("i=%s s=%q: %v, want %v", tc.i, tc.s, got, tc.pass)
		}
	}
}

func TestSelection(t *testing.T) {
	sel := func(id int, action, schema, tbl string, extra string) string {
		return fmt.Sprintf(`{"rule-type":"selection","rule-id":%d,"rule-name":"r%d","rule-action":%q,"object-locator":{"schema-name":%q,"table-name":%q}%s}`, id, id, action, schema, tbl, extra)
	}
	for _, tc := range []struct {
		name  string
		rules []string
		want  string
	}{
		{"include all", []string{sel(1, "include", "%", "%", "")}, "hr.employee hr.department hr.tmp_x hr.tmpx sales.orders Test.Customers Test.Orders"},
		{"exclude wins whatever the order", []string{sel(1, "exclude", "hr", "%", ""), sel(2, "include", "%", "%", "")}, "sales.orders Test.Customers Test.Orders"},
		{"explicit", []string{sel(1, "explicit", "sales", "orders", "")}, "sales.orders"},
		{"explicit then excluded", []string{sel(1, "explicit", "sales", "orders", ""), sel(2, "include", "hr", "dep%", ""), sel(3, "exclude", "sales", "%", "")}, "hr.department"},
		{"underscore wildcard", []string{sel(1, "include", "hr", "tmp_x", "")}, "hr.tmp_x"},
		{"escaped underscore", []string{sel(1, "include", "hr", "tmp[_]%", "")}, "hr.tmp_x"},
		{"char set", []string{sel(1, "include", "[hs]%", "[d-e]%", "")}, "hr.employee hr.department"},
		{"case-sensitive", []string{sel(1, "include", "Test", "o%", ""), sel(2, "include", "Test", "C%", "")}, "Test.Customers"},
		{"load-order beats definition order", []string{sel(1, "include", "sales", "%", `,"load-order":1`), sel(2, "include", "hr", "tmpx", `,"object-locator":{"schema-name":"hr","table-name":"tmpx","table-type":"all"}`)}, "sales.orders hr.tmpx"},
		{"load order", []string{sel(1, "include", "hr", "%", ""), sel(2, "include", "hr", "tmpx", `,"load-order":"5"`), sel(3, "include", "hr", "department", `,"load-order":3`)}, "hr.tmpx hr.department hr.employee hr.tmp_x"},
	} {
		doc := `{"rules":[` + strings.Join(tc.rules, ",") + `]}`
		m, err := Compile("tm.json", []byte(doc), testDef(), Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, tb := range m.Tables() {
			got = append(got, tb.Owner+"."+tb.Name)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, strings.Join(got, " "), tc.want)
		}
	}
}

func TestUnselectedTableMapsToNothing(t *testing.T) {
	def := testDef()
	m := mustCompile(t, def, `{"rules":[{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"department"}}]}`, Options{})
	emp := table(def, "hr", "employee")
	for _, op := range []source.Op{source.OpLoad, source.OpInsert, source.OpCreateTable, source.OpDropTable} {
		recs, err := m.Map(&source.Event{Op: op, Table: emp, Values: make([]tabledefs.Value, len(emp.Columns))}, nil)
		if err != nil || len(recs) != 0 {
			t.Errorf("%v: %d records, %v", op, len(recs), err)
		}
	}
	if m.Target(emp) != nil {
		t.Error("Target of an unselected table is not nil")
	}
	// A copy of the table (same schema and name, other pointer) still maps.
	dep := *table(def, "hr", "department")
	if r := mapOne(t, m, &source.Event{Op: source.OpInsert, Table: &dep, Values: row(t, &dep, "1", "x")}); r == nil {
		t.Error("table found by name: no record")
	}
	// Rows of the wrong width are errors, not panics.
	if _, err := m.Map(&source.Event{Op: source.OpInsert, Table: &dep, Values: row(t, &def.Tables[2], "1")}, nil); err == nil {
		t.Error("short row mapped")
	}
}
