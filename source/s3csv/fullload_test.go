package s3csv

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/s3csv")

func employeeTable() *tabledefs.Table {
	return &tabledefs.Table{Name: "employee", Owner: "hr", Path: "hr/employee/", Columns: []tabledefs.Column{
		{Name: "Id", Type: tabledefs.TypeInt8, IsPK: true},
		{Name: "Name", Type: tabledefs.TypeString, Length: 40, Nullable: true},
		{Name: "Hired", Type: tabledefs.TypeDateTime, Scale: 3, Nullable: true},
		{Name: "Rate", Type: tabledefs.TypeNumeric, Precision: 6, Scale: 2, Nullable: true},
	}}
}

func departmentTable() *tabledefs.Table {
	return &tabledefs.Table{Name: "department", Owner: "hr", Path: "hr/department", Columns: []tabledefs.Column{
		{Name: "Id", Type: tabledefs.TypeInt4, IsPK: true},
		{Name: "Name", Type: tabledefs.TypeString, Length: 20},
	}}
}

func TestFullLoad(t *testing.T) {
	for _, bk := range buckets(t) {
		t.Run(bk.kind, func(t *testing.T) {
			bk.put(t, "exports/hr/employee/LOAD001.csv", []byte("Id,Name,Hired,Rate\n"+
				"1,Smith,2014-06-04 10:11:12.345,12.50\n"+
				"2,\"Doe, \"\"JD\"\"\nJunior\",,\n"+ // quoted delimiter, doubled quotes, newline; NULLs
				"3,Zoë 日本,2015-01-01,7\r\n"+ // unicode, CRLF
				"4,too,many,fields,here\n"+
				"5,Bad,not-a-date,1\n"+
				",NoId,,\n"+ // empty non-nullable
				"6,\"\",2016-02-29 00:00:00,0.5\n")) // quoted empty = empty string
			bk.put(t, "exports/hr/employee/LOAD002.csv.gz", gz(t, "Id,Name,Hired,Rate\nI,7,Gz,2020-01-01 00:00:00.1,1.00\n8,Gz2,,\n"))
			bk.put(t, "exports/hr/employee/any-name.txt", []byte("Id,Name,Hired,Rate\n9,Last,,\n"))
			bk.put(t, "exports/hr/employee_old/LOAD001.csv", []byte("Id,Name,Hired,Rate\n99,Old,,\n"))
			bk.put(t, "exports/hr/department/LOAD001.csv", []byte("Id,Name\n10,Sales\n20,R&D\n"))
			o := bk.options(Options{Folder: "/exports/", Rfc4180: true, IgnoreHeaderRows: 1, FullLoad: true,
				Tables: []*tabledefs.Table{employeeTable(), departmentTable()}, MaxSubTasks: 2, BatchRows: 3})
			r := drain(t, newSource(t, o, nil), 0)
			diffLines(t, "hr.employee", r.perTable["hr.employee"], []string{
				"drop-table hr.employee",
				"create-table hr.employee",
				"load hr.employee [1|Smith|2014-06-04 10:11:12.345|12.50] @LOAD001.csv:2",
				"load hr.employee [2|Doe, \"JD\"\nJunior|NULL|NULL] @LOAD001.csv:3",
				"load hr.employee [3|Zoë 日本|2015-01-01 00:00:00.000|7.00] @LOAD001.csv:5",
				"load hr.employee [6||2016-02-29 00:00:00.000|0.50] @LOAD001.csv:9",
				"load hr.employee [7|Gz|2020-01-01 00:00:00.100|1.00] @LOAD002.csv.gz:2",
				"load hr.employee [8|Gz2|NULL|NULL] @LOAD002.csv.gz:3",
				"load hr.employee [9|Last|NULL|NULL] @any-name.txt:2",
			})
			diffLines(t, "hr.department", r.perTable["hr.department"], []string{
				"drop-table hr.department",
				"create-table hr.department",
				"load hr.department [10|Sales] @LOAD001.csv:2",
				"load hr.department [20|R&D] @LOAD001.csv:3",
			})
			diffLines(t, "completed", sorted(r.completed), []string{"hr.department", "hr.employee"})
			var rej []string
			for _, j := range r.rejects {
				rej = append(rej, j.Schema+"."+j.Table+" "+j.Position[strings.LastIndexByte(j.Position, '/')+1:]+" "+j.Reason+" raw="+j.Raw)
			}
			diffLines(t, "rejects", rej, []string{
				"hr.employee LOAD001.csv:6 too many columns: the row has 5 fields, table hr.employee has 4 columns raw=4,too,many,fields,here",
				`hr.employee LOAD001.csv:7 column Hired: "not-a-date" is not a valid DATETIME: ` + rejectReason(t, employeeTable().Columns[2], "not-a-date") + " raw=5,Bad,not-a-date,1",
				"hr.employee LOAD001.csv:8 column Id: empty value in a non-nullable column raw=,NoId,,",
			})
			for _, n := range r.sizes {
				if n > 3+2 { // BatchRows, plus at most one chunk's control events
					t.Errorf("batch of %d events and rejects, BatchRows is 3", n)
				}
			}
			if bk.kind == "localdir" {
				if !strings.HasPrefix(r.rejects[0].Position, "/") {
					t.Errorf("local reject position %q is not a file path", r.rejects[0].Position)
				}
			} else if !strings.HasPrefix(r.rejects[0].Position, "s3://"+bk.name+"/exports/hr/employee/LOAD001.csv:6") {
				t.Errorf("reject position %q", r.rejects[0].Position)
			}
		})
	}
}

func rejectReason(t *testing.T, c tabledefs.Column, s string) string {
	_, err := c.ParseValue(s)
	if err == nil {
		t.Fatalf("%q parses", s)
	}
	msg := err.Error()
	return msg[strings.Index(msg, ": ")+2:]
}

func TestDialects(t *testing.T) {
	strTable := func(path string) *tabledefs.Table {
		return &tabledefs.Table{Name: "t", Owner: "s", Path: path, Columns: []tabledefs.Column{
			{Name: "a", Type: tabledefs.TypeString, Length: 50, Nullable: true},
			{Name: "b", Type: tabledefs.TypeString, Length: 50, Nullable: true},
			{Name: "c", Type: tabledefs.TypeInt4, Nullable: true},
		}}
	}
	null := `\N`
	tests := []struct {
		name string
		o    Options
		body string
		want []string
	}{
		{"pipe and \\N", Options{Delimiter: "|", NullValue: &null, Rfc4180: true},
			"x|\"y|z\"|1\n|\\N|\\N\n\"\\N\"||2\n",
			[]string{"[x|y|z|1]", "[|NULL|NULL]", "[\\N||2]"}},
		{"double semicolon, no quoting", Options{Delimiter: ";;", Rfc4180: false},
			"\"a;b\";;c;;3\n;;;;\n",
			[]string{"[\"a;b\"|c|3]", "[NULL|NULL|NULL]"}},
		{"custom row delimiter", Options{Delimiter: ",", RowDelimiter: "~\n", Rfc4180: true},
			"a,b\nc,1~\n\"d~\n\",e,2~\n",
			[]string{"[a|b\nc|1]", "[d~\n|e|2]"}},
		{"tab and header rows", Options{Delimiter: "\t", IgnoreHeaderRows: 2, Rfc4180: true},
			"h1\th2\th3\nskip\tme\t0\nü\t😀\t-5\n",
			[]string{"[ü|😀|-5]"}},
	}
	for _, bk := range buckets(t) {
		t.Run(bk.kind, func(t *testing.T) {
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					path := fmt.Sprintf("d%d/", i)
					bk.put(t, path+"f.csv", []byte(tt.body))
					tt.o.FullLoad = true
					tt.o.Tables = []*tabledefs.Table{strTable(path)}
					r := drain(t, newSource(t, bk.options(tt.o), nil), 0)
					var got []string
					for _, e := range r.events[2:] {
						got = append(got, e[len("load s.t "):strings.Index(e, " @")])
					}
					diffLines(t, "rows", got, tt.want)
					if len(r.rejects) > 0 {
						t.Errorf("rejects: %+v", r.rejects)
					}
				})
			}
		})
	}
}

// allTypesTable has a column of every DMS type.
func allTypesTable() *tabledefs.Table {
	var cols []tabledefs.Column
	for _, ty := range tabledefs.Types() {
		c := tabledefs.Column{Name: strings.ToLower(ty.String()), Type: ty, Nullable: true}
		switch ty {
		case tabledefs.TypeString, tabledefs.TypeByte:
			c.Length = 16
		case tabledefs.TypeNumeric:
			c.Precision, c.Scale = 12, 3
		case tabledefs.TypeDateTime:
			c.Scale = 6
		}
		cols = append(cols, c)
	}
	return &tabledefs.Table{Name: "all", Owner: "types", Path: "types/all/", Columns: cols}
}

func TestAllTypesGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("..", "..", "testdata", "s3csv", "alltypes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "..", "testdata", "s3csv", "alltypes.golden")
	for _, bk := range buckets(t) {
		t.Run(bk.kind, func(t *testing.T) {
			bk.put(t, "types/all/LOAD001.csv", in)
			r := drain(t, newSource(t, bk.options(Options{FullLoad: true, Rfc4180: true, IgnoreHeaderRows: 1,
				Tables: []*tabledefs.Table{allTypesTable()}}), nil), 0)
			var out strings.Builder
			for _, e := range r.events {
				out.WriteString(e + "\n")
			}
			for _, j := range r.rejects {
				trunc := ""
				if j.Truncation {
					trunc = " [truncation]"
				}
				out.WriteString("reject " + j.Position[strings.LastIndexByte(j.Position, '/')+1:] + ": " + j.Reason + trunc + "\n")
			}
			if *update && bk.kind == "gofakes3" {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs from %s (run with -update to see):\n%s", golden, out.String())
			}
		})
	}
}

func TestManyObjectsPaginated(t *testing.T) {
	const n = 1050 // more than one ListObjectsV2 page
	for _, bk := range buckets(t) {
		t.Run(bk.kind, func(t *testing.T) {
			tbl := departmentTable()
			for i := range n {
				bk.put(t, fmt.Sprintf("hr/department/part-%05d.csv", i), fmt.Appendf(nil, "%d,d%d\n", i, i))
			}
			r := drain(t, newSource(t, bk.options(Options{FullLoad: true, Rfc4180: true, Tables: []*tabledefs.Table{tbl}}), nil), 0)
			rows := r.perTable["hr.department"][2:]
			if len(rows) != n {
				t.Fatalf("%d rows, want %d", len(rows), n)
			}
			for i, row := range rows {
				if want := fmt.Sprintf("load hr.department [%d|d%d] @part-%05d.csv:1", i, i, i); row != want {
					t.Fatalf("row %d: %q, want %q", i, row, want)
				}
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	bk := buckets(t)[0]
	bk.put(t, "exports/hr/employee/LOAD001.csv", []byte("1,a,,\n"))
	emp := []*tabledefs.Table{employeeTable()}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"missing bucket", Options{Bucket: "no-such-bucket", Client: bk.client, FullLoad: true, Tables: emp}, "no-such-bucket"},
		{"missing local dir", Options{Bucket: "file:///nonexistent/sluice", FullLoad: true, Tables: emp}, "/nonexistent/sluice"},
		{"missing folder", bk.options(Options{Folder: "nope", FullLoad: true, Tables: emp}), "nothing found under s3://" + bk.name + "/nope/"},
		{"cdc without CdcPath", bk.options(Options{Folder: "exports", CDC: true, Tables: emp}), "CdcPath is required"},
		{"no tables", bk.options(Options{Folder: "exports", FullLoad: true}), "no table of the external table definition"},
		{"nothing to do", bk.options(Options{Folder: "exports", Tables: emp}), "neither full load nor CDC"},
		{"bad position", bk.options(Options{Folder: "exports", FullLoad: true, Tables: emp}), "version 7"},
		{"position of another bucket", bk.options(Options{Folder: "exports", FullLoad: true, Tables: emp}), "fresh state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pos source.Position
			switch tt.name {
			case "bad position":
				pos = source.Position(`{"v":7}`)
			case "position of another bucket":
				pos = source.Position(`{"v":1,"bucket":"other"}`)
			}
			if tt.o.Logger == nil {
				tt.o.Logger = quietLogger()
			}
			src, err := New(context.Background(), tt.o, pos)
			if err == nil {
				src.Close()
				t.Fatal("New accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// A selected table with no objects loads 0 rows (with a warning), as in DMS.
func TestEmptyTableLoadsNothing(t *testing.T) {
	bk := buckets(t)[1]
	bk.put(t, "hr/employee/LOAD001.csv", []byte("1,a,,\n"))
	r := drain(t, newSource(t, bk.options(Options{FullLoad: true, Rfc4180: true,
		Tables: []*tabledefs.Table{employeeTable(), departmentTable()}}), nil), 0)
	diffLines(t, "department", r.perTable["hr.department"], []string{"drop-table hr.department", "create-table hr.department"})
	diffLines(t, "completed", sorted(r.completed), []string{"hr.department", "hr.employee"})
}

func TestSuspendTable(t *testing.T) {
	bk := buckets(t)[1]
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "%d,n%d\n", i, i)
	}
	bk.put(t, "hr/department/LOAD001.csv", []byte(b.String()))
	o := bk.options(Options{FullLoad: true, Rfc4180: true, Tables: []*tabledefs.Table{departmentTable()}, BatchRows: 10})
	src := newSource(t, o, nil)
	drain(t, src, 1)
	src.SuspendTable("HR", "Department")
	rest := drain(t, src, 0)
	if len(rest.events) != 0 || len(rest.completed) != 0 {
		t.Fatalf("after suspension: %d events, completed %v", len(rest.events), rest.completed)
	}
	if len(rest.positions) == 0 {
		t.Fatal("no batch carried the suspension")
	}
	pos := rest.positions[len(rest.positions)-1]
	if !strings.Contains(string(pos), `"suspended":true`) {
		t.Fatalf("position %s", pos)
	}
	// Resumed from its position, the table stays suspended.
	again := drain(t, newSource(t, o, pos), 0)
	if len(again.events) != 0 {
		t.Fatalf("resumed suspended table delivered %d events", len(again.events))
	}
}
