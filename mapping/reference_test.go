package mapping

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// The examples of dms-behaviour.md §3, run against testDef.

const refSelection = `{"rules": [
  {"rule-type": "selection", "rule-id": "1", "rule-name": "inc-emp",
   "object-locator": {"schema-name": "hr", "table-name": "employee"}, "rule-action": "include",
   "filters": [
     {"filter-type": "source", "column-name": "Id",
      "filter-conditions": [{"filter-operator": "lte", "value": "10"},
                            {"filter-operator": "between", "start-value": "50", "end-value": "75"}]},
     {"filter-type": "source", "column-name": "dept",
      "filter-conditions": [{"filter-operator": "eq", "value": "tech"}]}
   ]},
  {"rule-type": "selection", "rule-id": "2", "rule-name": "inc-rest",
   "object-locator": {"schema-name": "hr", "table-name": "%"}, "rule-action": "include"},
  {"rule-type": "selection", "rule-id": "4", "rule-name": "exc-tmp",
   "object-locator": {"schema-name": "hr", "table-name": "tmp[_]%"}, "rule-action": "exclude"},
  {"rule-type": "selection", "rule-id": "3", "rule-name": "first",
   "object-locator": {"schema-name": "hr", "table-name": "department"}, "rule-action": "explicit",
   "load-order": "2"}
]}`

func TestReferenceSelection(t *testing.T) {
	def := testDef()
	m := mustCompile(t, def, refSelection, Options{})
	var names []string
	for _, tb := range m.Tables() {
		names = append(names, tb.Owner+"."+tb.Name)
	}
	// department first (load-order 2); tmp_x excluded by tmp[_]%, tmpx kept.
	if got, want := strings.Join(names, " "), "hr.department hr.employee hr.tmpx"; got != want {
		t.Fatalf("Tables() = %s, want %s", got, want)
	}
	emp := table(def, "hr", "employee")
	for _, tc := range []struct {
		id, dept string
		pass     bool
	}{
		{"10", "tech", true}, {"11", "tech", false}, {"50", "tech", true}, {"75", "tech", true},
		{"76", "tech", false}, {"-3", "tech", true}, {"5", "sales", false}, {"5", "", false},
	} {
		ev := &source.Event{Op: source.OpInsert, Table: emp, Values: row(t, emp, tc.id, "a", "b", tc.dept, "", "", "", "", "", "")}
		if got := mapOne(t, m, ev) != nil; got != tc.pass {
			t.Errorf("Id=%s dept=%q: passed=%v, want %v", tc.id, tc.dept, got, tc.pass)
		}
	}
}

const refTransformation = `{"rules": [
  {"rule-type": "selection", "rule-id": "1", "rule-name": "1",
   "object-locator": {"schema-name": "hr", "table-name": "%"}, "rule-action": "include"},
  {"rule-type": "transformation", "rule-id": "2", "rule-name": "ren-schema", "rule-target": "schema",
   "object-locator": {"schema-name": "hr"}, "rule-action": "rename", "value": "people"},
  {"rule-type": "transformation", "rule-id": "3", "rule-name": "ren-col", "rule-target": "column",
   "object-locator": {"schema-name": "hr", "table-name": "employee", "column-name": "LastName"},
   "rule-action": "rename", "value": "last_name"},
  {"rule-type": "transformation", "rule-id": "4", "rule-name": "drop-cols", "rule-target": "column",
   "object-locator": {"schema-name": "hr", "table-name": "employee", "column-name": "tmp%"},
   "rule-action": "remove-column"},
  {"rule-type": "transformation", "rule-id": "5", "rule-name": "lower", "rule-target": "table",
   "object-locator": {"schema-name": "hr", "table-name": "%"}, "rule-action": "convert-lowercase"},
  {"rule-type": "transformation", "rule-id": "6", "rule-name": "upper-cols", "rule-target": "column",
   "object-locator": {"schema-name": "%", "table-name": "%", "column-name": "%"}, "rule-action": "convert-uppercase"},
  {"rule-type": "transformation", "rule-id": "7", "rule-name": "prefix", "rule-target": "table",
   "object-locator": {"schema-name": "hr", "table-name": "%"}, "rule-action": "add-prefix", "value": "DMS_"},
  {"rule-type": "transformation", "rule-id": "8", "rule-name": "suffix", "rule-target": "table",
   "object-locator": {"schema-name": "hr", "table-name": "%"}, "rule-action": "add-suffix", "value": "_v1"},
  {"rule-type": "transformation", "rule-id": "9", "rule-name": "full-name", "rule-target": "column",
   "object-locator": {"schema-name": "hr", "table-name": "employee"}, "rule-action": "add-column",
   "value": "FULL_NAME", "expression": "$FirstName||' '||$LastName",
   "data-type": {"type": "string", "length": 50}},
  {"rule-type": "transformation", "rule-id": "10", "rule-name": "commit-ts", "rule-target": "column",
   "object-locator": {"schema-name": "hr", "table-name": "department"}, "rule-action": "add-column",
   "value": "changed_at", "expression": "$AR_H_COMMIT_TIMESTAMP",
   "data-type": {"type": "datetime", "precision": 6}},
  {"rule-type": "transformation", "rule-id": "11", "rule-name": "retype", "rule-target": "column",
   "object-locator": {"schema-name": "hr", "table-name": "employee", "column-name": "HourlyRate"},
   "rule-action": "change-data-type", "data-type": {"type": "string", "length": "20"}},
  {"rule-type": "transformation", "rule-id": "12", "rule-name": "bi", "rule-target": "column",
   "object-locator": {"schema-name": "hr", "table-name": "employee"}, "rule-action": "add-before-image-columns",
   "before-image-def": {"column-prefix": "BI_", "column-suffix": "", "column-filter": "pk-only"}}
]}`

func TestReferenceTransformation(t *testing.T) {
	def := testDef()
	// As the reference notes, rules 7 and 8 lose every table to rule 5:
	// sluice reports them instead of ignoring them silently.
	got := compileProblems(t, def, refTransformation)
	want := "tm.json:$.rules[6].rule-id: rule 7: never applied: a rule with a lower rule-id already sets the same thing (the table name) of every object this rule matches; DMS applies one action per object\n" +
		"tm.json:$.rules[7].rule-id: rule 8: never applied: a rule with a lower rule-id already sets the same thing (the table name) of every object this rule matches; DMS applies one action per object"
	if got != want {
		t.Fatalf("problems:\n%s\nwant:\n%s", got, want)
	}
	doc := withoutRules(t, refTransformation, "7", "8")
	m := mustCompile(t, def, doc, Options{TaskID: "TASK"})
	emp := table(def, "hr", "employee")
	ev := &source.Event{Op: source.OpUpdate, Table: emp, TxID: "77",
		Values: row(t, emp, "42", "Ada", "Lovelace", "tech", "12.5", "2020-01-02", "x", "y", "", "2024-01-02 03:04:05"),
		Before: row(t, emp, "41", "Ada", "Byron", "tech", "12.5", "2020-01-02", "x", "y", "", "")}
	r := mapOne(t, m, ev)
	if r.Table.Schema != "people" || r.Table.Name != "employee" {
		t.Errorf("target table %s.%s, want people.employee", r.Table.Schema, r.Table.Name)
	}
	wantRow := "ID=42 FIRSTNAME=Ada last_name=Lovelace DEPT=tech HOURLYRATE=12.50 HIRED=2020-01-02 NOTES=NULL UPDATED=2024-01-02 03:04:05 FULL_NAME=Ada Lovelace BI_ID=41"
	if got := render(r); got != wantRow {
		t.Errorf("row:\n got %s\nwant %s", got, wantRow)
	}
	if r.Table.Columns[4].Type != tabledefs.TypeString || r.Values[4].Kind != tabledefs.KindString {
		t.Errorf("HOURLYRATE is %v/%v, want STRING", r.Table.Columns[4].Type, r.Values[4].Kind)
	}
	if r.PartitionKey != "people.employee" || r.PartitionKeyType != "schema-table" {
		t.Errorf("key %q %q", r.PartitionKey, r.PartitionKeyType)
	}
	if r.Before == nil || r.Before[0].Int != 41 || r.Before[2].Str != "Byron" || !r.Before[8].IsNull() {
		t.Errorf("before image %v", r.Before)
	}
	dep := table(def, "hr", "department")
	ev = &source.Event{Op: source.OpLoad, Table: dep, Values: row(t, dep, "7", "R&D")}
	r = mapOne(t, m, ev)
	if got, want := render(r), "ID=7 NAME=R&D changed_at=2024-05-06 07:08:09.000000"; got != want {
		t.Errorf("department row %s, want %s", got, want)
	}
	ctl := mapOne(t, m, &source.Event{Op: source.OpCreateTable, Table: dep})
	if ctl.PartitionKey != "TASK.people.department" || ctl.PartitionKeyType != "task-id" {
		t.Errorf("control key %q %q", ctl.PartitionKey, ctl.PartitionKeyType)
	}
}

const refObjectMapping = `{"rules": [
  {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "rule-action": "include",
   "object-locator": {"schema-name": "Test", "table-name": "%"}},
  {"rule-type": "object-mapping", "rule-id": "2", "rule-name": "rec", "rule-action": "map-record-to-record",
   "target-table-name": "CustomerData",
   "object-locator": {"schema-name": "Test", "table-name": "Customers"},
   "mapping-parameters": {
     "partition-key-type": "attribute-name",
     "partition-key-name": "CustomerName",
     "exclude-columns": ["firstname", "lastname", "homeaddress", "homephone"],
     "attribute-mappings": [
       {"target-attribute-name": "CustomerName", "attribute-type": "scalar", "attribute-sub-type": "string",
        "value": "${lastname}, ${firstname}"},
       {"target-attribute-name": "ContactDetails", "attribute-type": "document", "attribute-sub-type": "json",
        "value": {"Home": {"Address": "${homeaddress}", "Phone": "${homephone}"}}}
     ]}},
  {"rule-type": "object-mapping", "rule-id": "3", "rule-name": "doc", "rule-action": "map-record-to-document",
   "object-locator": {"schema-name": "Test", "table-name": "Orders"},
   "mapping-parameters": {"partition-key": {"value": "ConstantPartitionKey"},
                          "exclude-columns": ["internal_note"]}}
]}`

func TestReferenceObjectMapping(t *testing.T) {
	def := testDef()
	m := mustCompile(t, def, refObjectMapping, Options{})
	cust := table(def, "Test", "Customers")
	ev := &source.Event{Op: source.OpInsert, Table: cust,
		Values: row(t, cust, "5", "Ada", "Lovelace", `12 "Main" St`, "", "ada@example.com")}
	r := mapOne(t, m, ev)
	want := `CustomerId=5 Email=ada@example.com CustomerName=Lovelace, Ada ContactDetails={"Home":{"Address":"12 \"Main\" St","Phone":null}}`
	if got := render(r); got != want {
		t.Errorf("row:\n got %s\nwant %s", got, want)
	}
	if r.Table.Name != "CustomerData" || r.Table.Document || !r.Table.IsJSON(3) || r.Table.IsJSON(2) {
		t.Errorf("target table %+v", r.Table)
	}
	if r.PartitionKey != "Lovelace, Ada" || r.PartitionKeyType != "attribute-name" {
		t.Errorf("key %q %q", r.PartitionKey, r.PartitionKeyType)
	}
	ord := table(def, "Test", "Orders")
	r = mapOne(t, m, &source.Event{Op: source.OpLoad, Table: ord, Values: row(t, ord, "1", "pen", "secret")})
	if got, want := render(r), "OrderId=1 item=pen"; got != want || !r.Table.Document {
		t.Errorf("orders row %s (document %v), want %s", got, r.Table.Document, want)
	}
	if r.PartitionKey != "ConstantPartitionKey" || r.PartitionKeyType != "constant" {
		t.Errorf("key %q %q", r.PartitionKey, r.PartitionKeyType)
	}
}

// withoutRules removes the rules with the given ids from a document.
func withoutRules(t *testing.T, doc string, ids ...string) string {
	t.Helper()
	var d struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	d.Rules = slices.DeleteFunc(d.Rules, func(r map[string]any) bool { return slices.Contains(ids, r["rule-id"].(string)) })
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
