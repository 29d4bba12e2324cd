package mapping

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

func benchTable() *tabledefs.Definition {
	cols := []tabledefs.Column{
		{Name: "id", Type: tabledefs.TypeInt8, IsPK: true},
		{Name: "customer", Type: tabledefs.TypeString, Length: 50},
		{Name: "city", Type: tabledefs.TypeString, Length: 50},
		{Name: "amount", Type: tabledefs.TypeNumeric, Precision: 12, Scale: 2},
		{Name: "qty", Type: tabledefs.TypeInt4},
		{Name: "price", Type: tabledefs.TypeReal8},
		{Name: "ordered", Type: tabledefs.TypeDate},
		{Name: "updated", Type: tabledefs.TypeDateTime},
		{Name: "paid", Type: tabledefs.TypeBoolean},
		{Name: "note", Type: tabledefs.TypeString, Length: 200, Nullable: true},
	}
	return &tabledefs.Definition{Tables: []tabledefs.Table{
		{Owner: "shop", Name: "orders", Columns: cols},
		{Owner: "shop", Name: "audit", Columns: cols[:2]},
	}}
}

func benchEvents(b *testing.B, t *tabledefs.Table, n int) []source.Event {
	evs := make([]source.Event, n)
	cities := []string{"Lyon", "Oslo", "Porto", "Graz"}
	for i := range evs {
		fields := []string{strconv.Itoa(i), "customer " + strconv.Itoa(i%97), cities[i%4], "123.45", "3", "9.99",
			"2024-03-04", "2024-03-04 05:06:07", "true", "some note"}
		vals := make([]tabledefs.Value, len(fields))
		for j, f := range fields {
			v, err := t.Columns[j].ParseValue(f)
			if err != nil {
				b.Fatal(err)
			}
			vals[j] = v
		}
		evs[i] = source.Event{Op: source.OpInsert, Table: t, Values: vals, TxID: "9"}
	}
	return evs
}

// BenchmarkMap: selection, two transformations (table rename, column
// lowercase) and an attribute-name partition key on 10-column rows.
func BenchmarkMap(b *testing.B) {
	doc := `{"rules": [
  {"rule-type": "selection", "rule-id": "1", "rule-name": "sel", "rule-action": "include",
   "object-locator": {"schema-name": "shop", "table-name": "ord%"}},
  {"rule-type": "transformation", "rule-id": "2", "rule-name": "ren", "rule-target": "table",
   "object-locator": {"schema-name": "shop", "table-name": "orders"}, "rule-action": "rename", "value": "sales"},
  {"rule-type": "transformation", "rule-id": "3", "rule-name": "up", "rule-target": "column",
   "object-locator": {"schema-name": "shop", "table-name": "%", "column-name": "%"}, "rule-action": "convert-uppercase"},
  {"rule-type": "object-mapping", "rule-id": "4", "rule-name": "om", "rule-action": "map-record-to-record",
   "object-locator": {"schema-name": "shop", "table-name": "orders"},
   "mapping-parameters": {"partition-key-type": "attribute-name", "partition-key-name": "CITY"}}
]}`
	benchMap(b, doc)
}

// BenchmarkMapAddColumn adds an expression column, so rows are copied.
func BenchmarkMapAddColumn(b *testing.B) {
	doc := `{"rules": [
  {"rule-type": "selection", "rule-id": "1", "rule-name": "sel", "rule-action": "include",
   "object-locator": {"schema-name": "shop", "table-name": "ord%"}},
  {"rule-type": "transformation", "rule-id": "2", "rule-name": "op", "rule-target": "column",
   "object-locator": {"schema-name": "shop", "table-name": "orders"}, "rule-action": "add-column",
   "value": "op", "expression": "operation_indicator('D', 'U', 'I')", "data-type": {"type": "string", "length": 1}}
]}`
	benchMap(b, doc)
}

// BenchmarkMapPrimaryKey: default full-load keys (the primary key rendered
// as text, one string allocation per row).
func BenchmarkMapPrimaryKey(b *testing.B) {
	doc := `{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "sel", "rule-action": "include",
   "object-locator": {"schema-name": "shop", "table-name": "%"}}]}`
	def := benchTable()
	m, err := Compile("bench.json", []byte(doc), def, Options{})
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(b, &def.Tables[0], 1024)
	for i := range evs {
		evs[i].Op = source.OpLoad
	}
	run(b, m.Map, evs)
}

// BenchmarkSessionMapPrimaryKey: BenchmarkMapPrimaryKey through a Session.
func BenchmarkSessionMapPrimaryKey(b *testing.B) {
	doc := `{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "sel", "rule-action": "include",
   "object-locator": {"schema-name": "shop", "table-name": "%"}}]}`
	def := benchTable()
	m, err := Compile("bench.json", []byte(doc), def, Options{})
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(b, &def.Tables[0], 1024)
	for i := range evs {
		evs[i].Op = source.OpLoad
	}
	run(b, m.NewSession().Map, evs)
}

// BenchmarkMapIntKey: as BenchmarkMap with the partition key on an INT4
// column, which has to be rendered as text (one string per row).
func BenchmarkMapIntKey(b *testing.B) {
	m, evs := intKeyMapper(b)
	run(b, m.Map, evs)
}

// BenchmarkSessionMapIntKey: BenchmarkMapIntKey through a Session, whose
// keys come from its arena.
func BenchmarkSessionMapIntKey(b *testing.B) {
	m, evs := intKeyMapper(b)
	run(b, m.NewSession().Map, evs)
}

func intKeyMapper(b *testing.B) (*Mapper, []source.Event) {
	doc := `{"rules": [
  {"rule-type": "selection", "rule-id": "1", "rule-name": "sel", "rule-action": "include",
   "object-locator": {"schema-name": "shop", "table-name": "ord%"}},
  {"rule-type": "transformation", "rule-id": "2", "rule-name": "ren", "rule-target": "table",
   "object-locator": {"schema-name": "shop", "table-name": "orders"}, "rule-action": "rename", "value": "sales"},
  {"rule-type": "transformation", "rule-id": "3", "rule-name": "up", "rule-target": "column",
   "object-locator": {"schema-name": "shop", "table-name": "%", "column-name": "%"}, "rule-action": "convert-uppercase"},
  {"rule-type": "object-mapping", "rule-id": "4", "rule-name": "om", "rule-action": "map-record-to-record",
   "object-locator": {"schema-name": "shop", "table-name": "orders"},
   "mapping-parameters": {"partition-key-type": "attribute-name", "partition-key-name": "QTY"}}
]}`
	def := benchTable()
	m, err := Compile("bench.json", []byte(doc), def, Options{})
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(b, &def.Tables[0], 1024)
	for i := range evs {
		evs[i].Values[4] = tabledefs.IntValue(int64(i * 37))
	}
	return m, evs
}

func benchMap(b *testing.B, doc string) {
	def := benchTable()
	m, err := Compile("bench.json", []byte(doc), def, Options{})
	if err != nil {
		b.Fatal(err)
	}
	run(b, m.Map, benchEvents(b, &def.Tables[0], 1024))
}

func run(b *testing.B, mapFn func(*source.Event, []Record) ([]Record, error), evs []source.Event) {
	dst := make([]Record, 0, 1)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		var err error
		dst, err = mapFn(&evs[i&1023], dst[:0])
		if err != nil || len(dst) != 1 {
			b.Fatal(err, len(dst))
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}

// BenchmarkTypedParseSameRows parses the rows BenchmarkMap maps from CSV
// text (split on commas, each field typed with Column.ParseValue): a lower
// bound of the CSV source's per-row cost, for the "mapping < 10% of
// parsing" comparison.
func BenchmarkTypedParseSameRows(b *testing.B) {
	t := &benchTable().Tables[0]
	lines := make([]string, 1024)
	cities := []string{"Lyon", "Oslo", "Porto", "Graz"}
	for i := range lines {
		lines[i] = strconv.Itoa(i) + ",customer " + strconv.Itoa(i%97) + "," + cities[i%4] + ",123.45,3,9.99,2024-03-04,2024-03-04 05:06:07,true,some note"
	}
	vals := make([]tabledefs.Value, len(t.Columns))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		line := lines[i&1023]
		for j := range t.Columns {
			field := line
			if k := strings.IndexByte(line, ','); k >= 0 && j < len(t.Columns)-1 {
				field, line = line[:k], line[k+1:]
			}
			v, err := t.Columns[j].ParseValue(field)
			if err != nil {
				b.Fatal(err)
			}
			vals[j] = v
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
}
