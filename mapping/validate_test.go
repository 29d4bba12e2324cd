package mapping

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// TestValidation: every problem is reported, with the file, the JSON path
// and the rule id.
func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{"no rules", `{"rules":[]}`, []string{`tm.json:$.rules: at least one selection rule is required`}},
		{"misspelt rules", `{"rulez":[]}`, []string{`tm.json:$.rules: is required`, `tm.json:$.rulez: unknown key (did you mean "rules"?)`}},
		{"not an object", `[1]`, []string{`tm.json:$: must be a JSON object, not an array`}},
		{"unknown schema", doc(`{"rule-type":"selection","rule-id":"1","rule-name":"a","rule-action":"include","object-locator":{"schema-name":"nope","table-name":"%"}}`),
			[]string{`tm.json:$.rules[0].object-locator.schema-name: rule 1: schema "nope" does not exist in the table definitions`,
				`tm.json:$.rules: the selection rules select no table of the table definitions`}},
		{"view only", doc(`{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"%","table-type":"view"}}`),
			[]string{`tm.json:$.rules: the selection rules select no table of the table definitions`}},
		{"unknown rule type", doc(selectHR, `{"rule-type":"selecton","rule-id":"2","rule-name":"a"}`),
			[]string{`tm.json:$.rules[1].rule-type: rule 2: unknown rule-type "selecton" (did you mean "selection"?)`}},
		{"unknown action", doc(`{"rule-type":"selection","rule-id":"1","rule-name":"a","rule-action":"inclde","object-locator":{"schema-name":"hr","table-name":"%"}}`),
			[]string{`tm.json:$.rules[0].rule-action: rule 1: unknown selection rule-action "inclde" (did you mean "include"?)`}},
		{"explicit wildcards", doc(selectHR, `{"rule-type":"selection","rule-id":"2","rule-name":"a","rule-action":"explicit","object-locator":{"schema-name":"h%","table-name":"emp_"}}`),
			[]string{`tm.json:$.rules[1].object-locator.schema-name: rule 2: explicit selection needs an exact schema name, not the pattern "h%"`,
				`tm.json:$.rules[1].object-locator.table-name: rule 2: explicit selection needs an exact table name, not the pattern "emp_"`}},
		{"duplicates, case, negative operator", doc(
			`{"rule-type":"selection","rule-id":"1","rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"Employee"}}`,
			`{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"employee"},
			  "filters":[{"filter-type":"source","column-name":"Id","filter-conditions":[{"filter-operator":"noteq","value":"1"},{"filter-operator":"eq","value":"1"}]}]}`),
			[]string{`tm.json:$.rules[1].filters[0].filter-conditions[0].filter-operator: rule 1: the negative operator noteq must be the only condition of its filter`,
				`tm.json:$.rules[1].rule-id: duplicate rule-id 1 (also $.rules[0])`,
				`tm.json:$.rules[1].rule-name: duplicate rule-name "a" (also $.rules[0])`,
				`tm.json:$.rules[0].object-locator.table-name: rule 1: table hr.Employee does not exist in the table definitions (did you mean hr.employee? names are case-sensitive)`}},
		{"filter problems", doc(`{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"employee"},
			  "filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"eq","value":"1"}]},
			             {"filter-type":"target","column-name":"Id","filter-conditions":[{"filter-operator":"lt","value":"1"}]},
			             {"filter-type":"source","column-name":"Id","filter-conditions":[{"filter-operator":"eq","value":"abc"},{"filter-operator":"between","start-value":"1"}]},
			             {"filter-type":"source","column-name":"notes","filter-conditions":[{"filter-operator":"null"}]}]}`),
			[]string{`tm.json:$.rules[0].filters[1].filter-type: rule 1: unknown filter-type "target" (expected one of source)`,
				`tm.json:$.rules[0].filters[1].filter-conditions[0].filter-operator: rule 1: unknown filter-operator "lt" (did you mean "lte"?)`,
				`tm.json:$.rules[0].filters[2].filter-conditions[1].end-value: is required`,
				`tm.json:$.rules[0].filters[0].column-name: rule 1: column "id" does not exist in hr.employee (did you mean "Id"? names are case-sensitive)`,
				`tm.json:$.rules[0].filters[3].column-name: rule 1: source filters cannot use the LOB column "notes"`}},
		{"filter value of the wrong type", doc(`{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"employee"},
			  "filters":[{"filter-type":"source","column-name":"hired","filter-conditions":[{"filter-operator":"gte","value":"yesterday"}]}]}`),
			[]string{`tm.json:$.rules[0].filters[0].filter-conditions[0].value: rule 1: filter value for column "hired": "yesterday" is not a valid DATE: expected YYYY-MM-DD, YYYY-MM-DD HH:MM:SS[.f] or YYYY-MM-DDTHH:MM:SS[.f][Z]`}},
		{"filters with a table pattern", doc(`{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"%"},
			  "filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"null"}]}]}`),
			[]string{`tm.json:$.rules[0].filters: rule 1: source filters need an exact table name, not the pattern "%"`}},
		{"unknown column", doc(selectHR, tr(3, "column", "rename", `"schema-name":"hr","table-name":"employee","column-name":"Foo"`, `,"value":"x"`)),
			[]string{`tm.json:$.rules[1].object-locator.column-name: rule 3: column "Foo" does not exist in hr.employee`}},
		{"unselected table", doc(`{"rule-type":"selection","rule-id":1,"rule-name":"a","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"department"}}`,
			tr(3, "table", "rename", `"schema-name":"hr","table-name":"employee"`, `,"value":"x"`)),
			[]string{`tm.json:$.rules[1].object-locator.table-name: rule 3: table hr.employee is not selected by any selection rule`}},
		{"bad expression", doc(selectHR, tr(3, "column", "add-column", `"schema-name":"hr","table-name":"employee"`, `,"value":"x","expression":"$Fo || 1","data-type":{"type":"string"}`)),
			[]string{`tm.json:$.rules[1].expression: rule 3: column $Fo at offset 0 does not exist in hr.employee (did you mean $Id?)`}},
		{"unknown data type", doc(selectHR, tr(3, "column", "add-column", `"schema-name":"hr","table-name":"employee"`, `,"value":"x","expression":"1","data-type":{"type":"strin"}`)),
			[]string{`tm.json:$.rules[1].data-type.type: rule 3: unknown data-type "strin" (did you mean "string"?)`}},
		{"add-column needs", doc(selectHR, tr(3, "column", "add-column", `"schema-name":"hr","table-name":"employee"`, ``)),
			[]string{`tm.json:$.rules[1].value: rule 3: is required by add-column`, `tm.json:$.rules[1].expression: rule 3: is required by add-column`, `tm.json:$.rules[1].data-type: rule 3: is required by add-column`}},
		{"existing column", doc(selectHR, tr(3, "column", "add-column", `"schema-name":"hr","table-name":"employee"`, `,"value":"dept","expression":"$dept || 1","data-type":{"type":"string"}`)),
			[]string{`tm.json:$.rules[1].value: rule 3: column "dept" already exists in hr.employee`}},
		{"define-primary-key wildcard", doc(selectHR, tr(3, "table", "define-primary-key", `"schema-name":"hr","table-name":"%"`, `,"primary-key-def":{"name":"x","columns":["id"]}`)),
			[]string{`tm.json:$.rules[1].object-locator: rule 3: define-primary-key needs exact schema and table names`}},
		{"define-primary-key column", doc(selectHR, tr(3, "table", "define-primary-key", `"schema-name":"hr","table-name":"department"`, `,"primary-key-def":{"name":"x","columns":["xyzzy"]}`)),
			[]string{`tm.json:$.rules[1].primary-key-def.columns[0]: rule 3: column "xyzzy" does not exist in hr.department`}},
		{"table-settings wildcard", doc(selectHR, `{"rule-type":"table-settings","rule-id":2,"rule-name":"ts","object-locator":{"schema-name":"hr","table-name":"%"},"parallel-load":{"type":"partitions-auto"}}`),
			[]string{`tm.json:$.rules[1].object-locator: rule 2: Error in mapping rules. Rule with ruleId = 2 failed validation. Exact schema and table name required when using table settings rule.`}},
		{"table-settings ranges", doc(selectHR, `{"rule-type":"table-settings","rule-id":2,"rule-name":"ts","object-locator":{"schema-name":"hr","table-name":"employee"},"parallel-load":{"type":"ranges","columns":["Id","xyzzy"],"boundaries":[["1","a"],["2"]]},"lob-settings":{"mode":"limted"}}`),
			[]string{`tm.json:$.rules[1].parallel-load.boundaries[1]: rule 2: must be an array of 2 values, one per column`,
				`tm.json:$.rules[1].lob-settings.mode: rule 2: unknown lob-settings mode "limted" (did you mean "limited"?)`,
				`tm.json:$.rules[1].parallel-load.columns[1]: rule 2: column "xyzzy" does not exist in hr.employee`}},
		{"data masking", doc(selectHR, tr(3, "column", "data-masking-hash-mask", `"schema-name":"hr","table-name":"employee","column-name":"dept"`, ``)),
			[]string{`tm.json:$.rules[1].rule-action: rule 3: data-masking-hash-mask is not supported by sluice`}},
		{"misspellings", doc(selectHR, tr(3, "colum", "rename", `"schema-name":"hr","table-name":"employee","column-name":"dept"`, `,"value":"x","vaule":1`)),
			[]string{`tm.json:$.rules[1].rule-target: rule 3: unknown rule-target "colum" (did you mean "column"?)`, `tm.json:$.rules[1].vaule: unknown key (did you mean "value"?)`}},
		{"action for target", doc(selectHR, tr(3, "schema", "remove-column", `"schema-name":"hr"`, ``)),
			[]string{`tm.json:$.rules[1].rule-action: rule 3: rule-action remove-column does not apply to rule-target schema`}},
		{"shadowed column rule", doc(selectHR,
			tr(3, "column", "rename", `"schema-name":"hr","table-name":"employee","column-name":"dept"`, `,"value":"a"`),
			tr(4, "column", "convert-uppercase", `"schema-name":"hr","table-name":"employee","column-name":"de%"`, ``)),
			[]string{`tm.json:$.rules[2].rule-id: rule 4: never applied: a rule with a lower rule-id already sets the same thing (the column name) of every object this rule matches; DMS applies one action per object`}},
		{"object mapping", doc(selectHR, `{"rule-type":"object-mapping","rule-id":2,"rule-name":"om","rule-action":"map-record-to-record","object-locator":{"schema-name":"hr","table-name":"employee"},
			"mapping-parameters":{"partition-key-type":"attribute-name","partition-key-name":"nope","exclude-columns":["zz"],
			"attribute-mappings":[{"target-attribute-name":"a","attribute-type":"scalar","value":"${missing}"},{"target-attribute-name":"dept","value":"x"},{"target-attribute-name":"b","attribute-type":"document","value":"x"}]}}`),
			[]string{`tm.json:$.rules[1].mapping-parameters.attribute-mappings[2].value: rule 2: a json document attribute needs an object or array value`}},
		{"object mapping columns", doc(selectHR, `{"rule-type":"object-mapping","rule-id":2,"rule-name":"om","rule-action":"map-record-to-record","object-locator":{"schema-name":"hr","table-name":"employee"},
			"mapping-parameters":{"partition-key-type":"attribute-name","partition-key-name":"nope","exclude-columns":["zz"],
			"attribute-mappings":[{"target-attribute-name":"a","attribute-type":"scalar","value":"${missing}"},{"target-attribute-name":"dept","value":"x"}]}}`),
			[]string{`tm.json:$.rules[1].mapping-parameters.exclude-columns[0]: rule 2: column "zz" does not exist in hr.employee`,
				`tm.json:$.rules[1].mapping-parameters.attribute-mappings[0].value: rule 2: ${missing}: column "missing" does not exist in hr.employee`,
				`tm.json:$.rules[1].mapping-parameters.attribute-mappings[1].target-attribute-name: rule 2: attribute "dept" already exists in hr.employee (exclude the column first)`,
				`tm.json:$.rules[1].mapping-parameters.partition-key-name: rule 2: attribute "nope" does not exist in hr.employee`}},
		{"partition key conflicts", doc(selectHR, `{"rule-type":"object-mapping","rule-id":2,"rule-name":"om","rule-action":"map-record-to-documnt","object-locator":{"schema-name":"hr","table-name":"employee"},
			"mapping-parameters":{"partition-key-type":"primary-key","partition-key":{"value":""}}}`,
			`{"rule-type":"object-mapping","rule-id":3,"rule-name":"om2","rule-action":"map-record-to-record","object-locator":{"schema-name":"hr","table-name":"department"},
			"mapping-parameters":{"partition-key-type":"constant","partition-key-name":"id"}}`),
			[]string{`tm.json:$.rules[1].rule-action: rule 2: unknown object-mapping rule-action "map-record-to-documnt" (did you mean "map-record-to-document"?)`,
				`tm.json:$.rules[1].mapping-parameters.partition-key.value: rule 2: a Kinesis partition key must not be empty`,
				`tm.json:$.rules[1].mapping-parameters.partition-key: rule 2: a constant partition-key conflicts with partition-key-type primary-key`,
				`tm.json:$.rules[2].mapping-parameters.partition-key-name: rule 3: partition-key-name needs partition-key-type attribute-name`,
				`tm.json:$.rules[2].mapping-parameters.partition-key: rule 3: is required by partition-key-type constant: {"value": "..."}`}},
		{"two tables into one", doc(selectHR, tr(2, "table", "rename", `"schema-name":"hr","table-name":"tmp%"`, `,"value":"same"`)),
			[]string{`tm.json:$.rules: tables hr.tmp_x and hr.tmpx both map to the target table hr.same`}},
		{"duplicate target columns", doc(selectHR, tr(2, "column", "rename", `"schema-name":"hr","table-name":"employee","column-name":"tmp_a"`, `,"value":"tmp_b"`)),
			[]string{`tm.json:$.rules: table hr.employee has two columns named "tmp_b"`}},
	} {
		got := compileProblems(t, testDef(), tc.doc)
		if got != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", tc.name, got, strings.Join(tc.want, "\n"))
		}
	}
}

func TestSyntaxErrorHasLine(t *testing.T) {
	got := compileProblems(t, testDef(), "{\"rules\": [\n}")
	if !strings.HasPrefix(got, "tm.json:2:") || !strings.Contains(got, "invalid JSON") {
		t.Errorf("problem %q", got)
	}
}

// FuzzCompile: any document compiles or reports problems; none panics, and
// a compiled mapper maps a row of every selected table.
func FuzzCompile(f *testing.F) {
	for _, d := range []string{refSelection, refTransformation, refObjectMapping, doc(selectHR)} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d string) {
		def := testDef()
		m, err := Compile("f.json", []byte(d), def, Options{TaskID: "T", ParallelApply: len(d)%2 == 0})
		if err != nil {
			if _, ok := err.(tabledefs.Problems); !ok {
				t.Fatalf("error %T", err)
			}
			return
		}
		sess := m.NewSession()
		for _, tb := range m.Tables() {
			vals := make([]tabledefs.Value, len(tb.Columns))
			before := make([]tabledefs.Value, len(tb.Columns))
			for _, op := range []source.Op{source.OpLoad, source.OpUpdate, source.OpCreateTable} {
				ev := &source.Event{Op: op, Table: tb, Values: vals, Before: before}
				got, gotErr := sess.Map(ev, nil)
				want, wantErr := m.Map(ev, nil)
				if (gotErr == nil) != (wantErr == nil) || len(got) != len(want) {
					t.Fatalf("Session.Map = %d records, %v; Mapper.Map = %d, %v", len(got), gotErr, len(want), wantErr)
				}
				for i := range got {
					if got[i].PartitionKey != want[i].PartitionKey || got[i].PartitionKeyType != want[i].PartitionKeyType {
						t.Fatalf("Session key %q (%s), Mapper key %q (%s)", got[i].PartitionKey, got[i].PartitionKeyType, want[i].PartitionKey, want[i].PartitionKeyType)
					}
				}
			}
		}
	})
}
