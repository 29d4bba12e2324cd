package mapping

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicedata/sluice/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

const selectSales = `{"rule-type":"selection","rule-id":1,"rule-name":"sel","rule-action":"include","object-locator":{"schema-name":"%","table-name":"%"}}`

func om(params string) string {
	return `{"rule-type":"object-mapping","rule-id":5,"rule-name":"om","rule-action":"map-record-to-record","object-locator":{"schema-name":"sales","table-name":"orders"},"mapping-parameters":` + params + `}`
}

// TestPartitionKeysGolden records the partition key and key type of every
// situation of dms-behaviour.md §2.3 in testdata/mapping/partition_keys.golden.
func TestPartitionKeysGolden(t *testing.T) {
	long := strings.Repeat("r", 300)
	wide := strings.Repeat("é", 256) // 256 characters, 512 bytes: fits
	type event struct {
		op     source.Op
		table  string // schema.table of testDef; "" = task-level control record
		fields []string
		tx     string
	}
	load := func(fields ...string) event { return event{op: source.OpLoad, table: "sales.orders", fields: fields} }
	ins := func(fields ...string) event {
		return event{op: source.OpInsert, table: "sales.orders", fields: fields, tx: "1139"}
	}
	var sections []string
	for _, tc := range []struct {
		name string
		opts Options
		doc  string
		evs  []event
	}{
		{"defaults", Options{TaskID: "TASK"}, doc(selectSales), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"),
			{op: source.OpLoad, table: "hr.department", fields: []string{"7", "x"}},
			{op: source.OpLoad, table: "hr.tmpx", fields: []string{"7"}},
			{op: source.OpInsert, table: "hr.tmpx", fields: []string{"7"}},
			{op: source.OpCreateTable, table: "sales.orders"}, {op: source.OpDropTable, table: "sales.orders"},
			{op: source.OpTruncate, table: "hr.tmpx"}, {op: source.OpCreateTable},
			load("", "42", ""), load("eu.west", "42", ""),
		}},
		{"PartitionIncludeSchemaTable", Options{TaskID: "TASK", PartitionIncludeSchemaTable: true}, doc(selectSales), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"), {op: source.OpLoad, table: "hr.tmpx", fields: []string{"7"}},
		}},
		{"ParallelApply", Options{TaskID: "TASK", ParallelApply: true}, doc(selectSales), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"), {op: source.OpUpdate, table: "hr.tmpx", fields: []string{"7"}},
		}},
		{"ParallelApply+PartitionIncludeSchemaTable", Options{TaskID: "TASK", ParallelApply: true, PartitionIncludeSchemaTable: true}, doc(selectSales), []event{
			ins("eu", "42", "9.5"),
		}},
		{"renamed", Options{TaskID: "TASK", PartitionIncludeSchemaTable: true}, doc(selectSales,
			tr(2, "schema", "rename", `"schema-name":"sales"`, `,"value":"people"`),
			tr(3, "table", "convert-uppercase", `"schema-name":"sales","table-name":"orders"`, ``),
			tr(4, "column", "change-data-type", `"schema-name":"sales","table-name":"orders","column-name":"id"`, `,"data-type":{"type":"numeric","precision":10,"scale":2}`)),
			[]event{load("eu", "42", "9.5"), ins("eu", "42", "9.5"), {op: source.OpCreateTable, table: "sales.orders"}},
		},
		{"object-mapping constant", Options{TaskID: "TASK"}, doc(selectSales, om(`{"partition-key":{"value":"K"}}`)), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"), {op: source.OpCreateTable, table: "sales.orders"},
		}},
		{"object-mapping attribute-name", Options{}, doc(selectSales, om(`{"partition-key-type":"attribute-name","partition-key-name":"amount"}`)), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "1e21"), ins("eu", "42", ""),
		}},
		{"object-mapping attribute-name of an attribute mapping", Options{}, doc(selectSales, om(`{"partition-key-type":"attribute-name","partition-key-name":"where",
			"exclude-columns":["region"],"attribute-mappings":[{"target-attribute-name":"where","attribute-type":"scalar","attribute-sub-type":"string","value":"${region}/${id}"}]}`)), []event{
			load("eu", "42", "9.5"),
		}},
		{"object-mapping transaction-id", Options{}, doc(selectSales, om(`{"partition-key-type":"transaction-id"}`)), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"),
		}},
		{"object-mapping primary-key", Options{PartitionIncludeSchemaTable: true}, doc(selectSales, om(`{"partition-key-type":"primary-key"}`)), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"),
		}},
		{"object-mapping schema-table", Options{}, doc(selectSales, om(`{"partition-key-type":"schema-table"}`)), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"),
		}},
		{"object-mapping without a key", Options{}, doc(selectSales, om(`{"exclude-columns":["amount"]}`)), []event{
			load("eu", "42", "9.5"), ins("eu", "42", "9.5"),
		}},
		{"long keys", Options{TaskID: "TASK"}, doc(selectSales), []event{
			load(long, "1", ""), load(long, "2", ""), load(wide, "3", ""),
			{op: source.OpLoad, table: "Test.Orders", fields: []string{"1", long, ""}},
		}},
		{"long key attribute", Options{}, doc(selectSales, om(`{"partition-key-type":"attribute-name","partition-key-name":"region"}`)), []event{
			load(long, "1", ""), load(wide, "1", ""),
		}},
	} {
		def := testDef()
		// Test.Orders keyed by its item column for the long-key case.
		table(def, "Test", "Orders").Columns[0].IsPK = false
		table(def, "Test", "Orders").Columns[1].IsPK = true
		table(def, "Test", "Orders").Columns[1].Length = 0
		m, err := Compile("tm.json", []byte(tc.doc), def, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		sess := m.NewSession()
		var b strings.Builder
		fmt.Fprintf(&b, "## %s %+v\n", tc.name, tc.opts)
		for _, e := range tc.evs {
			ev := &source.Event{Op: e.op, TxID: e.tx}
			desc := e.op.String()
			if e.table != "" {
				schema, name, _ := strings.Cut(e.table, ".")
				ev.Table = table(def, schema, name)
				if e.fields != nil {
					ev.Values = row(t, ev.Table, e.fields...)
				}
				desc += " " + e.table + " " + shorten(strings.Join(e.fields, ","))
			}
			r := mapOne(t, m, ev)
			// A Session produces exactly the records Mapper.Map does.
			if rs, err := sess.Map(ev, nil); err != nil || len(rs) != 1 || rs[0].PartitionKey != r.PartitionKey || rs[0].PartitionKeyType != r.PartitionKeyType {
				t.Errorf("%s: %s: Session.Map = %+v, %v; Mapper.Map key %q (%s)", tc.name, desc, rs, err, r.PartitionKey, r.PartitionKeyType)
			}
			if n := utf8.RuneCountInString(r.PartitionKey); n < 1 || n > MaxKeyLen {
				t.Errorf("%s: %s: key of %d characters", tc.name, desc, n)
			}
			fmt.Fprintf(&b, "%-58s -> %-14s %s\n", desc, r.PartitionKeyType, shorten(r.PartitionKey))
		}
		sections = append(sections, b.String())
	}
	compareGolden(t, "partition_keys.golden", strings.Join(sections, "\n"))
}

// shorten abbreviates runs of one repeated character so long keys stay
// readable in the golden file: "rrrr…" becomes "r×300".
func shorten(s string) string {
	var out strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		if j-i > 8 {
			fmt.Fprintf(&out, "%c×%d", rs[i], j-i)
		} else {
			out.WriteString(string(rs[i:j]))
		}
		i = j
	}
	return out.String()
}

// compareGolden compares got with testdata/mapping/file, or rewrites the
// file with -update.
func compareGolden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "mapping", file)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mapping -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update and review the diff):\n%s", path, got)
	}
}

func TestLongKeysStayDistinctAndStable(t *testing.T) {
	a := strings.Repeat("x", 300) + "a"
	b := strings.Repeat("x", 300) + "b"
	ka, kb := limitKey(a), limitKey(b)
	if ka == kb || ka != limitKey(a) {
		t.Errorf("long keys: %q %q", ka, kb)
	}
	if n := utf8.RuneCountInString(ka); n != longKeyPrefix+1+32 {
		t.Errorf("long key has %d characters", n)
	}
	if !strings.HasPrefix(ka, strings.Repeat("x", longKeyPrefix)+"#") {
		t.Errorf("long key %q does not keep its prefix", ka)
	}
	w := strings.Repeat("é", 257)
	if k := limitKey(w); utf8.RuneCountInString(k) > MaxKeyLen || !utf8.ValidString(k) {
		t.Errorf("multi-byte long key %q", k)
	}
}
