package s3csv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

type readRow struct {
	Line   int64
	Fields []string
	Quoted []bool
	Err    bool
	Raw    string
}

func readAll(t testing.TB, in io.Reader, d dialect, skip int) []readRow {
	t.Helper()
	rd := newCSVReader(in, d)
	rd.skipHead = skip
	var out []readRow
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		r := readRow{Line: rec.Line, Err: rec.Err != nil}
		if rec.Err != nil {
			r.Raw = rd.Raw()
		} else {
			r.Fields = append([]string{}, rec.Fields...)
			r.Quoted = append([]bool{}, rec.Quoted...)
		}
		out = append(out, r)
	}
}

func TestCSVReader(t *testing.T) {
	comma := dialect{delim: ",", rowDelim: "\n", rfc4180: true}
	f, tr := false, true
	tests := []struct {
		name string
		in   string
		d    dialect
		skip int
		want []readRow
	}{
		{"plain", "a,b,c\n1,2,3\n", comma, 0, []readRow{
			{Line: 1, Fields: []string{"a", "b", "c"}, Quoted: []bool{f, f, f}},
			{Line: 2, Fields: []string{"1", "2", "3"}, Quoted: []bool{f, f, f}}}},
		{"no final newline, empty fields", "a,,\n,x", comma, 0, []readRow{
			{Line: 1, Fields: []string{"a", "", ""}, Quoted: []bool{f, f, f}},
			{Line: 2, Fields: []string{"", "x"}, Quoted: []bool{f, f}}}},
		{"crlf", "a,b\r\nc,d\r\n", comma, 0, []readRow{
			{Line: 1, Fields: []string{"a", "b"}, Quoted: []bool{f, f}},
			{Line: 2, Fields: []string{"c", "d"}, Quoted: []bool{f, f}}}},
		{"blank lines skipped but counted", "a\n\n\r\nb\n", comma, 0, []readRow{
			{Line: 1, Fields: []string{"a"}, Quoted: []bool{f}},
			{Line: 4, Fields: []string{"b"}, Quoted: []bool{f}}}},
		{"quoted delimiter, newline, doubled quote", "1,\"x,y\",\"l1\nl2\",\"say \"\"hi\"\"\"\n2,\"\",z\n", comma, 0, []readRow{
			{Line: 1, Fields: []string{"1", "x,y", "l1\nl2", `say "hi"`}, Quoted: []bool{f, tr, tr, tr}},
			{Line: 3, Fields: []string{"2", "", "z"}, Quoted: []bool{f, tr, f}}}},
		{"quoted crlf row end", "\"a\"\r\n\"b\",c\r\n", comma, 0, []readRow{
			{Line: 1, Fields: []string{"a"}, Quoted: []bool{tr}},
			{Line: 2, Fields: []string{"b", "c"}, Quoted: []bool{tr, f}}}},
		{"quote inside unquoted field is literal", "ab\"c,d\n", comma, 0, []readRow{
			{Line: 1, Fields: []string{`ab"c`, "d"}, Quoted: []bool{f, f}}}},
		{"rfc4180 off keeps quotes", "\"a,b\",c\n", dialect{delim: ",", rowDelim: "\n"}, 0, []readRow{
			{Line: 1, Fields: []string{`"a`, `b"`, "c"}, Quoted: []bool{f, f, f}}}},
		{"bad closing quote resyncs at next row", "\"a\"b,c\nd,e\n", comma, 0, []readRow{
			{Line: 1, Err: true, Raw: "\"a\"b,c"},
			{Line: 2, Fields: []string{"d", "e"}, Quoted: []bool{f, f}}}},
		{"unterminated quote at end", "a\n\"bc\nd", comma, 0, []readRow{
			{Line: 1, Fields: []string{"a"}, Quoted: []bool{f}},
			{Line: 2, Err: true, Raw: "\"bc\nd"}}},
		{"pipe", "a|b\n\"c|d\"|e\n", dialect{delim: "|", rowDelim: "\n", rfc4180: true}, 0, []readRow{
			{Line: 1, Fields: []string{"a", "b"}, Quoted: []bool{f, f}},
			{Line: 2, Fields: []string{"c|d", "e"}, Quoted: []bool{tr, f}}}},
		{"multi-char delimiter", "a;;b;c\n\"x;;y\";;z\n", dialect{delim: ";;", rowDelim: "\n", rfc4180: true}, 0, []readRow{
			{Line: 1, Fields: []string{"a", "b;c"}, Quoted: []bool{f, f}},
			{Line: 2, Fields: []string{"x;;y", "z"}, Quoted: []bool{tr, f}}}},
		{"custom row delimiter without newline", "a,b~c,d~", dialect{delim: ",", rowDelim: "~", rfc4180: true}, 0, []readRow{
			{Line: 1, Fields: []string{"a", "b"}, Quoted: []bool{f, f}},
			{Line: 2, Fields: []string{"c", "d"}, Quoted: []bool{f, f}}}},
		{"multi-char row delimiter with newline", "a,b|\nc\nd,e|\n", dialect{delim: ",", rowDelim: "|\n", rfc4180: true}, 0, []readRow{
			{Line: 1, Fields: []string{"a", "b"}, Quoted: []bool{f, f}},
			{Line: 2, Fields: []string{"c\nd", "e"}, Quoted: []bool{f, f}}}},
		{"header rows", "h1,h2\nx,y\n1,2\n", comma, 2, []readRow{
			{Line: 3, Fields: []string{"1", "2"}, Quoted: []bool{f, f}}}},
		{"unicode", "ü,\"日本,語\",😀\n", comma, 0, []readRow{
			{Line: 1, Fields: []string{"ü", "日本,語", "😀"}, Quoted: []bool{f, tr, f}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time as well: every refill boundary is exercised.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got := readAll(t, r, tt.d, tt.skip)
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
			}
		})
	}
}

func TestCSVReaderOffsets(t *testing.T) {
	in := "a,b\n\"c\nd\",e\nf,g"
	rd := newCSVReader(strings.NewReader(in), dialect{delim: ",", rowDelim: "\n", rfc4180: true})
	var offs []int64
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, rec.Offset)
	}
	if want := []int64{4, 12, 15}; !reflect.DeepEqual(offs, want) {
		t.Fatalf("offsets %v, want %v", offs, want)
	}
	// Resuming at the second offset gives the rest with the right lines.
	rd = newCSVReader(strings.NewReader(in[12:]), dialect{delim: ",", rowDelim: "\n", rfc4180: true})
	rd.setStart(12, 4)
	rec, err := rd.Read()
	if err != nil || rec.Line != 4 || rec.Offset != 15 || rec.Fields[0] != "f" {
		t.Fatalf("resumed read: %+v, %v", rec, err)
	}
}

func TestCSVReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	rd := newCSVReader(io.MultiReader(strings.NewReader("a,b\nc"), iotest.ErrReader(boom)), dialect{delim: ",", rowDelim: "\n", rfc4180: true})
	if _, err := rd.Read(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Read(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
}

func TestCSVReaderHugeQuotedField(t *testing.T) {
	big := strings.Repeat("x,\n\"\"", 300_000) // 1.5 MB field, larger than the buffer
	in := "1,\"" + big + "\",2\n3,4\n"
	got := readAll(t, strings.NewReader(in), dialect{delim: ",", rowDelim: "\n", rfc4180: true}, 0)
	if len(got) != 2 || got[0].Fields[1] != strings.ReplaceAll(big, `""`, `"`) || got[1].Line != 300_002 {
		t.Fatalf("huge field: %d rows, second at line %d", len(got), got[len(got)-1].Line)
	}
}

// FuzzCSVReader: the reader never panics, and on input encoding/csv accepts
// (with ',' and '\n', no '\r', which encoding/csv rewrites inside quotes)
// it returns the same records.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{"a,b\nc,d\n", "\"a,\"\"b\"\"\nc\",d\n", "\n\n\"\"\n,\n", "a\"b,c", "\"a\"b", "x;;y|\n"} {
		f.Add(s, ",", "\n")
	}
	f.Add("a;;b|\nc;;\"d|\ne\"|\n", ";;", "|\n")
	f.Fuzz(func(t *testing.T, in, delim, rowDelim string) {
		d := dialect{delim: delim, rowDelim: rowDelim, rfc4180: true}
		if delim == "" || rowDelim == "" || strings.Contains(delim, rowDelim) || strings.Contains(rowDelim, delim) ||
			strings.Contains(delim+rowDelim, `"`) {
			d = dialect{delim: ",", rowDelim: "\n", rfc4180: true}
		}
		got := readAll(t, iotest.HalfReader(strings.NewReader(in)), d, 0)
		d.rfc4180 = false
		readAll(t, strings.NewReader(in), d, 0)
		if d.delim != "," || d.rowDelim != "\n" || strings.Contains(in, "\r") {
			return
		}
		cr := csv.NewReader(strings.NewReader(in))
		cr.FieldsPerRecord = -1
		var want [][]string
		var lines []int64
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // not RFC 4180 input
			}
			line, _ := cr.FieldPos(0)
			want = append(want, rec)
			lines = append(lines, int64(line))
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d records, encoding/csv %d", in, len(got), len(want))
		}
		for i := range want {
			if got[i].Err || !reflect.DeepEqual(got[i].Fields, want[i]) || got[i].Line != lines[i] {
				t.Fatalf("%q record %d: %+v, encoding/csv %q at line %d", in, i, got[i], want[i], lines[i])
			}
		}
	})
}

// A stray quote must not buffer the rest of a huge object, nor lose the
// rows after it: its line is rejected and reading resumes on the next one.
// A line without any row delimiter still fails the object.
func TestCSVReaderRowLimit(t *testing.T) {
	in := "a,\"b\n" + strings.Repeat("x,y\n", 100_000)
	rd := newCSVReader(strings.NewReader(in), dialect{delim: ",", rowDelim: "\n", rfc4180: true})
	rd.rowLimit = 64 << 10
	var rejects, rows int
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case rec.Err != nil:
			rejects++
			if rec.Line != 1 || !strings.Contains(rec.Err.Error(), "unbalanced quote") {
				t.Fatalf("reject at line %d: %v", rec.Line, rec.Err)
			}
		case len(rec.Fields) == 2 && rec.Fields[0] == "x":
			rows++
		}
	}
	if rejects != 1 || rows != 100_000 {
		t.Fatalf("%d rejects, %d good rows after the stray quote; want 1 and 100000", rejects, rows)
	}

	rd = newCSVReader(strings.NewReader(strings.Repeat("z", 500_000)), dialect{delim: ",", rowDelim: "\n", rfc4180: true})
	rd.rowLimit = 64 << 10
	var err error
	for err == nil {
		_, err = rd.Read()
	}
	if !strings.Contains(fmt.Sprint(err), "longer than") {
		t.Fatalf("got %v", err)
	}
}
