package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// testDef is the table definition the tests map.
func testDef() *tabledefs.Definition {
	str := func(n string) tabledefs.Column {
		return tabledefs.Column{Name: n, Type: tabledefs.TypeString, Length: 100, Nullable: true}
	}
	return &tabledefs.Definition{Tables: []tabledefs.Table{
		{Owner: "hr", Name: "employee", Columns: []tabledefs.Column{
			{Name: "Id", Type: tabledefs.TypeInt4, IsPK: true},
			str("FirstName"), str("LastName"), str("dept"),
			{Name: "HourlyRate", Type: tabledefs.TypeNumeric, Precision: 10, Scale: 2, Nullable: true},
			{Name: "hired", Type: tabledefs.TypeDate, Nullable: true},
			str("tmp_a"), str("tmp_b"),
			{Name: "notes", Type: tabledefs.TypeClob, Nullable: true},
			{Name: "updated", Type: tabledefs.TypeDateTime, Nullable: true},
		}},
		{Owner: "hr", Name: "department", Columns: []tabledefs.Column{
			{Name: "id", Type: tabledefs.TypeInt4, IsPK: true}, str("name"),
		}},
		{Owner: "hr", Name: "tmp_x", Columns: []tabledefs.Column{{Name: "id", Type: tabledefs.TypeInt4, IsPK: true}}},
		{Owner: "hr", Name: "tmpx", Columns: []tabledefs.Column{{Name: "id", Type: tabledefs.TypeInt4}}},
		{Owner: "sales", Name: "orders", Columns: []tabledefs.Column{
			{Name: "region", Type: tabledefs.TypeString, IsPK: true},
			{Name: "id", Type: tabledefs.TypeInt8, IsPK: true},
			{Name: "amount", Type: tabledefs.TypeReal8, Nullable: true},
		}},
		{Owner: "Test", Name: "Customers", Columns: []tabledefs.Column{
			{Name: "CustomerId", Type: tabledefs.TypeInt4, IsPK: true},
			str("FirstName"), str("LastName"), str("HomeAddress"), str("HomePhone"), str("Email"),
		}},
		{Owner: "Test", Name: "Orders", Columns: []tabledefs.Column{
			{Name: "OrderId", Type: tabledefs.TypeInt4, IsPK: true},
			str("item"), str("internal_note"),
		}},
	}}
}

func mustCompile(t *testing.T, def *tabledefs.Definition, doc string, opts Options) *Mapper {
	t.Helper()
	m, err := Compile("tm.json", []byte(doc), def, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	m.now = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
	return m
}

// compileProblems compiles doc and returns the problems, one per line.
func compileProblems(t *testing.T, def *tabledefs.Definition, doc string) string {
	t.Helper()
	_, err := Compile("tm.json", []byte(doc), def, Options{})
	if err == nil {
		return ""
	}
	if _, ok := err.(tabledefs.Problems); !ok {
		t.Fatalf("Compile error is %T, not tabledefs.Problems: %v", err, err)
	}
	return err.Error()
}

func table(def *tabledefs.Definition, schema, name string) *tabledefs.Table {
	for i := range def.Tables {
		if def.Tables[i].Owner == schema && def.Tables[i].Name == name {
			return &def.Tables[i]
		}
	}
	panic("no table " + schema + "." + name)
}

// row parses text fields (empty = NULL) into values of t's columns.
func row(t *testing.T, tbl *tabledefs.Table, fields ...string) []tabledefs.Value {
	t.Helper()
	if len(fields) != len(tbl.Columns) {
		t.Fatalf("row for %s has %d fields, want %d", tbl.Name, len(fields), len(tbl.Columns))
	}
	vals := make([]tabledefs.Value, len(fields))
	for i, f := range fields {
		if f == "" {
			continue
		}
		v, err := tbl.Columns[i].ParseValue(f)
		if err != nil {
			t.Fatalf("field %d: %v", i, err)
		}
		vals[i] = v
	}
	return vals
}

func mapOne(t *testing.T, m *Mapper, ev *source.Event) *Record {
	t.Helper()
	recs, err := m.Map(ev, nil)
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	switch len(recs) {
	case 0:
		return nil
	case 1:
		return &recs[0]
	}
	t.Fatalf("Map returned %d records", len(recs))
	return nil
}

// render shows a record's columns as name=text pairs.
func render(r *Record) string {
	var b strings.Builder
	for i, c := range r.Table.Columns {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.Name)
		b.WriteByte('=')
		if r.Values[i].IsNull() {
			b.WriteString("NULL")
			continue
		}
		b.Write(tabledefs.AppendText(nil, r.Values[i], &r.Table.Columns[i]))
	}
	return b.String()
}
