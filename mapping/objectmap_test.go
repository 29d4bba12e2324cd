package mapping

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/source"
)

func TestAttributeTemplates(t *testing.T) {
	def := typedDef()
	tbl := &def.Tables[0]
	sel := `{"rule-type":"selection","rule-id":1,"rule-name":"sel","rule-action":"include","object-locator":{"schema-name":"s","table-name":"typed"}}`
	for _, tc := range []struct {
		attr string
		want string
		json bool
	}{
		{`{"target-attribute-name":"a","value":"${i}-${s}"}`, `7-Hello World`, false},
		{`{"target-attribute-name":"a","value":"n=${n} d=${d} ts=${ts} b=${b}"}`, `n=10.250 d=2024-02-29 ts=2024-02-29 10:11:12.250000 b=true`, false},
		{`{"target-attribute-name":"a","value":"[${missing_is_null}]"}`, ``, false},
		{`{"target-attribute-name":"a","value":"no placeholders"}`, `no placeholders`, false},
		{`{"target-attribute-name":"a","value":"${f}${u}"}`, `2.518446744073709551615`, false},
		{`{"target-attribute-name":"a","attribute-type":"document","attribute-sub-type":"json","value":{"z":"${i}","a":["${s}","x ${s} y",1,true,null,{"k":"${d}"}]}}`,
			`{"a":["Hello World","x Hello World y",1,true,null,{"k":"2024-02-29"}],"z":"7"}`, true},
		{`{"target-attribute-name":"a","attribute-type":"document","value":{"q":"say \"${s}\"\n"}}`, `{"q":"say \"Hello World\"\n"}`, true},
	} {
		d := doc(sel, `{"rule-type":"object-mapping","rule-id":2,"rule-name":"om","rule-action":"map-record-to-record","object-locator":{"schema-name":"s","table-name":"typed"},
			"mapping-parameters":{"attribute-mappings":[`+tc.attr+`]}}`)
		if tc.want == "" {
			if compileProblems(t, def, d) == "" {
				t.Errorf("%s compiled", tc.attr)
			}
			continue
		}
		m := mustCompile(t, def, d, Options{})
		_, e := exprEnv(t, source.OpInsert)
		r := mapOne(t, m, &source.Event{Op: source.OpInsert, Table: tbl, Values: e.ev.Values})
		n := len(r.Values) - 1
		if got := r.Values[n].Str; got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.attr, got, tc.want)
		}
		if r.Table.IsJSON(n) != tc.json {
			t.Errorf("%s: IsJSON=%v", tc.attr, r.Table.IsJSON(n))
		}
		if tc.json && !json.Valid([]byte(r.Values[n].Str)) {
			t.Errorf("%s: invalid JSON %s", tc.attr, r.Values[n].Str)
		}
	}
}

func TestJSONNullPlaceholder(t *testing.T) {
	def := testDef()
	cust := table(def, "Test", "Customers")
	m := mustCompile(t, def, refObjectMapping, Options{})
	r := mapOne(t, m, &source.Event{Op: source.OpInsert, Table: cust, Values: row(t, cust, "5", "", "", "", "", "")})
	if got := r.Values[len(r.Values)-1].Str; got != `{"Home":{"Address":null,"Phone":null}}` {
		t.Errorf("document %s", got)
	}
	if r.PartitionKey != ", " {
		t.Errorf("key %q", r.PartitionKey)
	}
}

func TestOneObjectMappingPerTable(t *testing.T) {
	def := testDef()
	d := doc(selectHR,
		`{"rule-type":"object-mapping","rule-id":3,"rule-name":"b","rule-action":"map-record-to-document","object-locator":{"schema-name":"hr","table-name":"%"}}`,
		`{"rule-type":"object-mapping","rule-id":2,"rule-name":"a","rule-action":"map-record-to-record","object-locator":{"schema-name":"hr","table-name":"employee"},"target-table-name":"staff"}`)
	m := mustCompile(t, def, d, Options{})
	if tt := m.Target(table(def, "hr", "employee")); tt.Name != "staff" || tt.Document {
		t.Errorf("employee: %s document=%v", tt.Name, tt.Document)
	}
	if tt := m.Target(table(def, "hr", "department")); !tt.Document {
		t.Error("department is not a document")
	}
	d = doc(selectHR,
		`{"rule-type":"object-mapping","rule-id":2,"rule-name":"a","rule-action":"map-record-to-document","object-locator":{"schema-name":"hr","table-name":"%"}}`,
		`{"rule-type":"object-mapping","rule-id":3,"rule-name":"b","rule-action":"map-record-to-record","object-locator":{"schema-name":"hr","table-name":"employee"}}`)
	if got := compileProblems(t, def, d); got != "tm.json:$.rules[2].rule-id: rule 3: never applied: a rule with a lower rule-id already maps every table this rule matches; DMS applies one object mapping per table" {
		t.Errorf("problems: %s", got)
	}
}

// TestMapConcurrent: a Mapper is shared by every table loader.
func TestMapConcurrent(t *testing.T) {
	def := testDef()
	m := mustCompile(t, def, withoutRules(t, refTransformation, "7", "8"), Options{TaskID: "T"})
	emp := table(def, "hr", "employee")
	after := row(t, emp, "42", "Ada", "Lovelace", "tech", "12.5", "2020-01-02", "x", "y", "", "")
	before := row(t, emp, "41", "Ada", "Byron", "tech", "12.5", "2020-01-02", "x", "y", "", "")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []Record
			for i := 0; i < 200; i++ {
				ev := &source.Event{Op: source.OpUpdate, Table: emp, Values: after, Before: before}
				var err error
				if dst, err = m.Map(ev, dst[:0]); err != nil || len(dst) != 1 || dst[0].Values[8].Str != "Ada Lovelace" {
					t.Errorf("Map: %v %v", err, dst)
					return
				}
			}
		}()
	}
	wg.Wait()
}
