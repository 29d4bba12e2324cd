package tabledefs

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/tabledefs")

const testdataDir = "../testdata/tabledefs"

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

func jsonFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testdataDir, dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s: %v", dir, err)
	}
	return files
}

func TestParseInvalid(t *testing.T) {
	for _, path := range jsonFiles(t, "invalid") {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			def, err := Parse(name, data)
			if err == nil {
				t.Fatalf("Parse accepted an invalid definition: %+v", def)
			}
			if def != nil {
				t.Errorf("Parse returned a definition along with problems")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error is %T, want Problems: %v", err, err)
			}
			checkGolden(t, strings.TrimSuffix(path, ".json")+".golden", ps.Error()+"\n")
		})
	}
}

// dumpDefinition renders a definition one line per table and column, for
// golden comparison of what the parser understood.
func dumpDefinition(d *Definition) string {
	var b strings.Builder
	for _, t := range d.Tables {
		fmt.Fprintf(&b, "table %s.%s path=%q pk=%v\n", t.Owner, t.Name, t.Path, t.PKIndexes())
		for _, c := range t.Columns {
			fmt.Fprintf(&b, "  %s %s length=%d precision=%d scale=%d nullable=%v pk=%v format=%q\n",
				c.Name, c.Type, c.Length, c.Precision, c.Scale, c.Nullable, c.IsPK, c.DateFormat)
		}
	}
	return b.String()
}

func TestParseValid(t *testing.T) {
	for _, path := range jsonFiles(t, "valid") {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			def, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkGolden(t, strings.TrimSuffix(path, ".json")+".golden", dumpDefinition(def))
		})
	}
}

func TestParseReferenceExample(t *testing.T) {
	def, err := Load(filepath.Join(testdataDir, "valid", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Definition{Tables: []Table{
		{Name: "employee", Path: "hr/employee/", Owner: "hr", Columns: []Column{
			{Name: "Id", Type: TypeInt8, IsPK: true},
			{Name: "LastName", Type: TypeString, Length: 20},
			{Name: "HireDate", Type: TypeDateTime, Scale: 3, DateFormat: "YYYY-MM-dd HH:mm:ss.F"},
			{Name: "HourlyRate", Type: TypeNumeric, Precision: 5, Scale: 2},
			{Name: "Photo", Type: TypeByte, Length: 1024, Nullable: true},
		}},
		{Name: "department", Path: "hr/department/", Owner: "hr", Columns: []Column{
			{Name: "Id", Type: TypeInt8, IsPK: true},
			{Name: "Name", Type: TypeString, Length: 50},
		}},
	}}
	if !reflect.DeepEqual(def, want) {
		t.Errorf("got %+v\nwant %+v", def, want)
	}
	if tb := def.Lookup("HR", "Department"); tb == nil || tb.Name != "department" {
		t.Errorf("Lookup(HR, Department) = %v", tb)
	}
}

func TestParseAllTypes(t *testing.T) {
	def, err := Load(filepath.Join(testdataDir, "valid", "all_types.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Type]bool{}
	for _, c := range def.Tables[0].Columns {
		seen[c.Type] = true
	}
	for _, typ := range Types() {
		if !seen[typ] {
			t.Errorf("type %s missing from all_types.json", typ)
		}
	}
	if len(seen) != 19 {
		t.Errorf("got %d types, want 19", len(seen))
	}
}

func TestLoadInvalidNamesPath(t *testing.T) {
	path := filepath.Join(testdataDir, "invalid", "empty_tables.json")
	_, err := Load(path)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].File != path {
		t.Fatalf("got %v, want one problem naming %s", err, path)
	}
}

func TestParseSkipsBOM(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "valid", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("bom.json", append([]byte("\xef\xbb\xbf"), data...)); err != nil {
		t.Errorf("a leading byte-order mark was refused: %v", err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	var ps Problems
	if errors.As(err, &ps) {
		t.Errorf("an I/O error was reported as Problems: %v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("error %q should wrap fs.ErrNotExist and name the file", err)
	}
}

// TestParseProblemsInline covers single rules with small inline documents,
// so each rule's message is pinned next to its input.
func TestParseProblemsInline(t *testing.T) {
	table := func(cols string) string {
		return `{"Tables":[{"TableName":"t","TablePath":"s/t/","TableOwner":"s","TableColumns":[` + cols + `]}]}`
	}
	const col = "f:$.Tables[0].TableColumns[0]."
	tests := []struct {
		name, doc string
		want      []string // nil: valid
	}{
		{"minimal", table(`{"ColumnName":"a","ColumnType":"INT4"}`), nil},
		{"lower-case type", table(`{"ColumnName":"a","ColumnType":"int4"}`), nil},
		{"numeric as numbers", table(`{"ColumnName":"a","ColumnType":"NUMERIC","ColumnPrecision":38,"ColumnScale":31}`), nil},
		{"numeric scale = precision", table(`{"ColumnName":"a","ColumnType":"NUMERIC","ColumnPrecision":"5","ColumnScale":"5"}`), nil},
		{"datetime scale 0", table(`{"ColumnName":"a","ColumnType":"DATETIME","ColumnScale":"0"}`), nil},
		{"every date format", table(`{"ColumnName":"a","ColumnType":"DATE","ColumnDateFormat":"YYYYMMdd HH:mm:ss.F"}`), nil},
		{"numeric without precision", table(`{"ColumnName":"a","ColumnType":"NUMERIC","ColumnScale":"1"}`),
			[]string{col + "ColumnPrecision: is required for NUMERIC"}},
		{"precision 39", table(`{"ColumnName":"a","ColumnType":"NUMERIC","ColumnPrecision":"39","ColumnScale":"1"}`),
			[]string{col + "ColumnPrecision: must be between 1 and 38, not 39"}},
		{"scale 32", table(`{"ColumnName":"a","ColumnType":"NUMERIC","ColumnPrecision":"38","ColumnScale":"32"}`),
			[]string{col + "ColumnScale: must be between 0 and 31 for NUMERIC, not 32"}},
		{"scale > precision", table(`{"ColumnName":"a","ColumnType":"NUMERIC","ColumnPrecision":"3","ColumnScale":"4"}`),
			[]string{col + "ColumnScale: 4 is larger than ColumnPrecision 3"}},
		{"byte without length", table(`{"ColumnName":"a","ColumnType":"BYTE"}`),
			[]string{col + "ColumnLength: is required for BYTE"}},
		{"datetime scale 10", table(`{"ColumnName":"a","ColumnType":"DATETIME","ColumnScale":10}`),
			[]string{col + "ColumnScale: must be between 0 and 9 for DATETIME, not 10"}},
		{"length on BLOB", table(`{"ColumnName":"a","ColumnType":"BLOB","ColumnLength":"10"}`),
			[]string{col + "ColumnLength: is only valid for STRING and BYTE, not BLOB"}},
		{"format on BOOLEAN", table(`{"ColumnName":"a","ColumnType":"BOOLEAN","ColumnDateFormat":"YYYY-MM-dd HH:mm:ss"}`),
			[]string{col + "ColumnDateFormat: is only valid for DATE, TIME and DATETIME, not BOOLEAN"}},
		{"bad format on BOOLEAN", table(`{"ColumnName":"a","ColumnType":"BOOLEAN","ColumnDateFormat":"YYYY-MM-dd"}`),
			[]string{col + `ColumnDateFormat: unknown date format "YYYY-MM-dd" (did you mean "YYYY-MM-dd HH:mm:ss"?)`}},
		{"duplicate column", table(`{"ColumnName":"a","ColumnType":"INT4"},{"ColumnName":"A","ColumnType":"INT4"}`),
			[]string{`f:$.Tables[0].TableColumns[1].ColumnName: duplicate column "A" (also at $.Tables[0].TableColumns[0])`}},
		{"bool spelled yes", table(`{"ColumnName":"a","ColumnType":"INT4","ColumnIsPk":"yes"}`), nil},
		{"bool as number", table(`{"ColumnName":"a","ColumnType":"INT4","ColumnIsPk":1}`),
			[]string{col + "ColumnIsPk: must be true or false, not a number"}},
		{"whitespace count", `{"TableCount":" 1 ","Tables":[{"TableName":"t","TablePath":"s/t/","TableOwner":"s","TableColumns":[{"ColumnName":"a","ColumnType":"INT4"}]}]}`, nil},
		{"not json", `TableCount: 1`, []string{"f:1:1: invalid JSON: invalid character 'T' looking for beginning of value"}},
		{"empty document", ``, []string{"f:1:1: invalid JSON: unexpected end of input"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def, err := Parse("f", []byte(tc.doc))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected problems:\n%v", err)
				}
				if def == nil || len(def.Tables) == 0 {
					t.Fatalf("no definition returned")
				}
				return
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("got %v, want Problems", err)
			}
			got := strings.Split(ps.Error(), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
