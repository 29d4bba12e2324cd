package kinesis

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	td "github.com/sluicedata/sluice/tabledefs"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testNow = time.Date(2024, 7, 29, 0, 58, 17, 983670123, time.UTC)

// allTypes has one column of every DMS type.
func allTypes() *mapping.TargetTable {
	cols := []td.Column{
		{Name: "id", Type: td.TypeInt4, IsPK: true},
		{Name: "b", Type: td.TypeByte, Length: 4, Nullable: true},
		{Name: "d", Type: td.TypeDate, Nullable: true},
		{Name: "t", Type: td.TypeTime, Nullable: true},
		{Name: "ts", Type: td.TypeDateTime, Nullable: true},
		{Name: "ts6", Type: td.TypeDateTime, Scale: 6, Nullable: true},
		{Name: "i1", Type: td.TypeInt1, Nullable: true},
		{Name: "i2", Type: td.TypeInt2, Nullable: true},
		{Name: "i8", Type: td.TypeInt8, Nullable: true},
		{Name: "num", Type: td.TypeNumeric, Precision: 38, Scale: 2, Nullable: true},
		{Name: "r4", Type: td.TypeReal4, Nullable: true},
		{Name: "r8", Type: td.TypeReal8, Nullable: true},
		{Name: "s", Type: td.TypeString, Length: 255, Nullable: true},
		{Name: "u1", Type: td.TypeUint1, Nullable: true},
		{Name: "u2", Type: td.TypeUint2, Nullable: true},
		{Name: "u4", Type: td.TypeUint4, Nullable: true},
		{Name: "u8", Type: td.TypeUint8, Nullable: true},
		{Name: "blob", Type: td.TypeBlob, Nullable: true},
		{Name: "clob", Type: td.TypeClob, Nullable: true},
		{Name: "flag", Type: td.TypeBoolean, Nullable: true},
	}
	return &mapping.TargetTable{Schema: "dms_sample", Name: "all_types", Columns: cols}
}

func allValues(id int64) []td.Value {
	return []td.Value{
		td.IntValue(id),
		td.BytesValue("\x00\xab\xff"),
		td.DateValue(16725), // 2015-10-17
		td.TimeValue((6*3600+18*60+32)*1e9 + 5e8),
		td.TimestampValue(time.Date(2023, 1, 16, 6, 18, 32, 0, time.UTC)),
		td.TimestampValue(time.Date(2023, 1, 16, 6, 18, 32, 123456000, time.UTC)),
		td.IntValue(-128),
		td.IntValue(32767),
		td.IntValue(math.MaxInt64),
		td.DecimalValue("-12345678901234567890.50"),
		td.FloatValue(float64(float32(1.1))),
		td.FloatValue(0.1),
		td.StringValue("Jane \"J\" Doe\n\ttab\\ é 😀 \x01"),
		td.UintValue(255),
		td.UintValue(65535),
		td.UintValue(4294967295),
		td.UintValue(math.MaxUint64),
		td.BytesValue("blob"),
		td.StringValue("clob text"),
		td.BoolValue(true),
	}
}

func nullValues(id int64) []td.Value {
	v := make([]td.Value, 20)
	v[0] = td.IntValue(id)
	v[12] = td.StringValue("")
	return v
}

func rec(op source.Op, tbl *mapping.TargetTable, vals, before []td.Value, tx string, seq int64) mapping.Record {
	ev := &source.Event{Op: op, TxID: tx, Origin: "00000002/7C007178", Seq: seq}
	if tx != "" {
		ev.CommitTime = time.Date(2024, 7, 29, 0, 58, 17, 123456789, time.UTC)
	}
	return mapping.Record{Event: ev, Table: tbl, Values: vals, Before: before,
		PartitionKey: tbl.Schema + "." + tbl.Name, PartitionKeyType: "schema-table"}
}

func pkRec(r mapping.Record, key string) mapping.Record {
	r.PartitionKey, r.PartitionKeyType = key, "primary-key"
	return r
}

type goldenCase struct {
	name string
	opts MessageOptions
	recs []mapping.Record
}

func goldenCases() []goldenCase {
	tbl := allTypes()
	doc := allTypes()
	doc.Document = true
	small := &mapping.TargetTable{Schema: "public", Name: "foo", Columns: []td.Column{
		{Name: "id", Type: td.TypeInt4, IsPK: true}, {Name: "name", Type: td.TypeString, Nullable: true},
		{Name: "notes", Type: td.TypeClob, Nullable: true}, {Name: "age", Type: td.TypeInt2, Nullable: true}}}
	sv := func(id int64, name string, age int64) []td.Value {
		return []td.Value{td.IntValue(id), td.StringValue(name), td.StringValue("long text"), td.IntValue(age)}
	}
	noTx := func(op source.Op, t *mapping.TargetTable, v []td.Value) mapping.Record {
		return rec(op, t, v, nil, "", 1)
	}
	txDetails := MessageOptions{IncludeTransactionDetails: true, IncludePartitionValue: true}
	return []goldenCase{
		{"load_all_types", MessageOptions{}, []mapping.Record{noTx(source.OpLoad, tbl, allValues(1))}},
		{"load_all_types_unformatted", MessageOptions{MessageFormat: FormatJSONUnformatted}, []mapping.Record{noTx(source.OpLoad, tbl, allValues(1))}},
		{"load_nohex", MessageOptions{NoHexPrefix: true, MessageFormat: FormatJSONUnformatted}, []mapping.Record{noTx(source.OpLoad, tbl, allValues(1))}},
		{"nulls_omitted", MessageOptions{}, []mapping.Record{noTx(source.OpLoad, tbl, nullValues(2))}},
		{"nulls_included", MessageOptions{IncludeNullAndEmpty: true}, []mapping.Record{noTx(source.OpLoad, tbl, nullValues(2))}},
		{"insert_default", MessageOptions{}, []mapping.Record{rec(source.OpInsert, small, sv(46, "Jane", 31), nil, "1139", 3)}},
		{"insert_partition_value", MessageOptions{IncludePartitionValue: true}, []mapping.Record{
			pkRec(rec(source.OpInsert, small, sv(46, "Jane", 31), nil, "1139", 3), "public.foo.46"),
			rec(source.OpInsert, small, sv(47, "Joe", 32), nil, "1139", 4)}},
		{"transaction_details", txDetails, []mapping.Record{
			pkRec(rec(source.OpInsert, small, sv(1, "a", 1), nil, "1139", 1), "public.foo.1"),
			pkRec(rec(source.OpInsert, small, sv(2, "b", 2), nil, "1139", 2), "public.foo.2"),
			pkRec(rec(source.OpDelete, small, sv(1, "a", 1), nil, "1140", 3), "public.foo.1"),
			pkRec(rec(source.OpLoad, small, sv(3, "c", 3), nil, "", 1), "public.foo.3"),
			pkRec(rec(source.OpUpdate, small, sv(2, "bb", 2), nil, "1141", 4), "public.foo.2"),
		}},
		{"transaction_details_s3", MessageOptions{IncludeTransactionDetails: true}, []mapping.Record{
			{Event: &source.Event{Op: source.OpInsert, Origin: "s3://bucket/changes/2024/cdc1.csv", Seq: 17}, Table: small,
				Values: sv(5, "s3", 5), PartitionKey: "public.foo", PartitionKeyType: "schema-table"}}},
		{"update_before_pk_only", MessageOptions{BeforeImage: BeforeImageOptions{Enabled: true, FieldName: "before-image"}},
			[]mapping.Record{rec(source.OpUpdate, small, sv(46, "Jane", 32), sv(45, "Jane", 31), "1139", 3)}},
		{"update_before_non_lob", MessageOptions{BeforeImage: BeforeImageOptions{Enabled: true, FieldName: "before-image", ColumnFilter: FilterNonLOB}},
			[]mapping.Record{rec(source.OpUpdate, small, sv(46, "Jane", 32), sv(45, "Jane", 31), "1139", 3)}},
		{"update_before_all_nulls", MessageOptions{IncludeNullAndEmpty: true, BeforeImage: BeforeImageOptions{Enabled: true, FieldName: "old", ColumnFilter: FilterAll}},
			[]mapping.Record{
				rec(source.OpUpdate, small, sv(46, "Jane", 32), []td.Value{td.IntValue(46), {}, {}, td.IntValue(31)}, "1139", 3),
				rec(source.OpInsert, small, sv(47, "Jim", 1), nil, "1139", 4), // no before-image on inserts
				rec(source.OpUpdate, small, sv(48, "Jo", 1), nil, "1139", 5),  // source had none
			}},
		{"delete", MessageOptions{MessageFormat: FormatJSONUnformatted}, []mapping.Record{rec(source.OpDelete, small, sv(46, "Jane", 32), nil, "77", 3)}},
		{"document", MessageOptions{}, []mapping.Record{noTx(source.OpLoad, doc, allValues(9))}},
		{"control_default", MessageOptions{TaskID: "DZ6OKLFYA5BWVG4RYROQUHXU4E"}, []mapping.Record{
			noTx(source.OpDropTable, small, nil), noTx(source.OpCreateTable, small, nil)}},
		{"control_details", MessageOptions{TaskID: "DZ6OKLFYA5BWVG4RYROQUHXU4E", IncludeControlDetails: true}, []mapping.Record{
			noTx(source.OpDropTable, tbl, nil), noTx(source.OpCreateTable, tbl, nil)}},
		{"control_alter_ops", MessageOptions{TaskID: "T1", IncludeTableAlterOperations: true, MessageFormat: FormatJSONUnformatted}, []mapping.Record{
			noTx(source.OpTruncate, small, nil)}},
		{"values_extremes", MessageOptions{MessageFormat: FormatJSONUnformatted, IncludeNullAndEmpty: true}, extremes()},
	}
}

func extremes() []mapping.Record {
	tbl := &mapping.TargetTable{Schema: "s", Name: "x", Columns: []td.Column{
		{Name: "i8", Type: td.TypeInt8}, {Name: "u8", Type: td.TypeUint8}, {Name: "r8", Type: td.TypeReal8},
		{Name: "r4", Type: td.TypeReal4}, {Name: "num", Type: td.TypeNumeric, Scale: 0},
		{Name: "s", Type: td.TypeString}, {Name: "ts", Type: td.TypeDateTime, Scale: 3}, {Name: "d", Type: td.TypeDate},
		{Name: "t", Type: td.TypeTime, Scale: 3}}}
	row := func(i int64, u uint64, f float64, f4 float32, num, s string, ts time.Time, d int64, tm int64) mapping.Record {
		return rec(source.OpLoad, tbl, []td.Value{td.IntValue(i), td.UintValue(u), td.FloatValue(f), td.FloatValue(float64(f4)),
			td.DecimalValue(num), td.StringValue(s), td.TimestampValue(ts), td.DateValue(d), td.TimeValue(tm)}, nil, "", 1)
	}
	return []mapping.Record{
		row(math.MinInt64, 0, math.NaN(), float32(math.Inf(1)), "0", "\u2028\u2029<>&", time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), -1, 0),
		row(12345678901234567, 12345678901234567890, 1e21, 1e-7, "-1", "bad \xff\xfe utf8", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 2932896, 86399999999999),
		row(-1, 1, math.Inf(-1), 3.4028235e38, "123456789012345678901234567890", "", time.Date(1, 1, 1, 0, 0, 0, 1e6, time.UTC), -719162, 1e6),
		row(0, 0, 123456789.125, 0, "not a number", "x", time.Unix(0, 0), 0, 0),
	}
}

func encodeAll(c goldenCase) []byte {
	e := NewEncoder(c.opts)
	var out []byte
	for i := range c.recs {
		if !e.Emits(&c.recs[i]) {
			continue
		}
		out = e.Append(out, &c.recs[i], testNow)
		if c.opts.MessageFormat != FormatJSONUnformatted {
			out = append(out, '\n')
		}
	}
	return out
}

func TestEncodeGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			got := encodeAll(c)
			// Every message must be valid JSON on its own.
			dec := json.NewDecoder(bytes.NewReader(got))
			dec.UseNumber()
			n := 0
			for dec.More() {
				var m map[string]any
				if err := dec.Decode(&m); err != nil {
					t.Fatalf("message %d is not valid JSON: %v\n%s", n, err, got)
				}
				if _, ok := m["metadata"]; !ok {
					t.Fatalf("message %d has no metadata", n)
				}
				n++
			}
			path := filepath.Join("..", "..", "testdata", "kinesis", c.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("message differs from %s\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// The two formats carry the same content.
func TestFormatsSameContent(t *testing.T) {
	for _, c := range goldenCases() {
		pretty, compact := c, c
		pretty.opts.MessageFormat = FormatJSON
		compact.opts.MessageFormat = FormatJSONUnformatted
		var a bytes.Buffer
		p := encodeAll(pretty)
		dec := json.NewDecoder(bytes.NewReader(p))
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				t.Fatal(err)
			}
			if err := json.Compact(&a, raw); err != nil {
				t.Fatal(err)
			}
			a.WriteByte('\n')
		}
		if got := encodeAll(compact); a.String() != string(got) {
			t.Errorf("%s: json and json-unformatted differ:\n%s\n%s", c.name, a.String(), got)
		}
	}
}

func TestUnformattedIsOneLine(t *testing.T) {
	e := NewEncoder(MessageOptions{MessageFormat: FormatJSONUnformatted})
	r := rec(source.OpLoad, allTypes(), allValues(1), nil, "", 1)
	b := e.Append(nil, &r, testNow)
	if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
		t.Fatalf("want exactly one trailing newline: %q", b)
	}
}

func TestKeyOrder(t *testing.T) {
	e := NewEncoder(MessageOptions{MessageFormat: FormatJSONUnformatted, IncludeTransactionDetails: true, IncludePartitionValue: true})
	small := &mapping.TargetTable{Schema: "sbtest", Name: "sbtest_x", Columns: []td.Column{{Name: "id", Type: td.TypeInt8, IsPK: true}}}
	r1 := pkRec(rec(source.OpInsert, small, []td.Value{td.IntValue(1)}, nil, "9324410910341", 1), "sbtest.sbtest_x.1")
	r2 := pkRec(rec(source.OpInsert, small, []td.Value{td.IntValue(100000161)}, nil, "9324410911751", 2), "sbtest.sbtest_x.100000161")
	e.Append(nil, &r1, testNow)
	got := string(e.Append(nil, &r2, testNow))
	want := `{"data":{"id":100000161},"metadata":{"timestamp":"2024-07-29T00:58:17.983670Z","record-type":"data","operation":"insert",` +
		`"partition-key-type":"primary-key","partition-key-value":"sbtest.sbtest_x.100000161","schema-name":"sbtest","table-name":"sbtest_x",` +
		`"transaction-id":9324410911751,"transaction-record-id":1,"prev-transaction-id":9324410910341,"prev-transaction-record-id":1,` +
		`"commit-timestamp":"2024-07-29T00:58:17.123456Z","stream-position":"00000002/7C007178:2"}}` + "\n"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0"}, {0.1, 64, "0.1"}, {1e21, 64, "1e+21"}, {1e20, 64, "100000000000000000000"},
		{1e-7, 64, "1e-7"}, {float64(float32(1.1)), 32, "1.1"}, {math.Copysign(0, -1), 64, "-0"},
		{math.NaN(), 64, `"NaN"`}, {math.Inf(1), 64, `"Infinity"`}, {math.Inf(-1), 32, `"-Infinity"`},
		{5e-324, 64, "5e-324"},
	}
	for _, tt := range tests {
		if got := string(appendFloat(nil, tt.f, tt.bits)); got != tt.want {
			t.Errorf("appendFloat(%v, %d) = %s, want %s", tt.f, tt.bits, got, tt.want)
		}
	}
}

func TestMetadataTimestamp(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2019, 10, 31, 22, 53, 59, 721201999, time.UTC), "2019-10-31T22:53:59.721201Z"},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), "1969-12-31T23:59:59.000000Z"},
		{time.Date(2000, 2, 29, 0, 0, 0, 1000, time.FixedZone("x", 3600)), "2000-02-28T23:00:00.000001Z"},
	}
	for _, tt := range tests {
		e := NewEncoder(MessageOptions{})
		if got := string(e.appendNow(nil, tt.t)); got != tt.want {
			t.Errorf("appendNow(%v) = %s, want %s", tt.t, got, tt.want)
		}
		if got := tt.t.UTC().Format("2006-01-02T15:04:05.000000Z"); got != tt.want {
			t.Errorf("test case disagrees with time.Format: %s", got)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00\x1f\"\\", "é😀", "\xff", "\u2028", "a\xedb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", b, s, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if utf8.ValidString(s) {
			want = s
		}
		// ToValidUTF8 merges runs of invalid bytes; compare rune-wise tolerant of that.
		if utf8.ValidString(s) && got != want {
			t.Fatalf("round trip: got %q want %q", got, want)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("output not valid UTF-8: %q", got)
		}
	})
}

func FuzzIsJSONNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.50", "01", "1.", ".5", "-", "12e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isJSONNumber(s) {
			var n json.Number
			if err := json.Unmarshal([]byte(s), &n); err != nil {
				t.Fatalf("isJSONNumber(%q) but json rejects it: %v", s, err)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	tbl := &mapping.TargetTable{Schema: "public", Name: "orders", Columns: []td.Column{
		{Name: "id", Type: td.TypeInt8, IsPK: true}, {Name: "customer_id", Type: td.TypeInt4}, {Name: "status", Type: td.TypeString},
		{Name: "amount", Type: td.TypeNumeric, Scale: 2}, {Name: "qty", Type: td.TypeInt2}, {Name: "created_at", Type: td.TypeDateTime, Scale: 6},
		{Name: "ship_date", Type: td.TypeDate}, {Name: "weight", Type: td.TypeReal8}, {Name: "paid", Type: td.TypeBoolean},
		{Name: "note", Type: td.TypeString}}}
	vals := []td.Value{td.IntValue(123456789), td.IntValue(4242), td.StringValue("shipped"), td.DecimalValue("1234.50"),
		td.IntValue(3), td.TimestampValue(time.Date(2024, 7, 29, 0, 58, 17, 983670000, time.UTC)), td.DateValue(19933),
		td.FloatValue(12.75), td.BoolValue(true), td.StringValue("leave at the door, ring twice")}
	r := mapping.Record{Event: &source.Event{Op: source.OpInsert, TxID: "1139", Origin: "0/16B3748", Seq: 1,
		CommitTime: testNow}, Table: tbl, Values: vals, PartitionKey: "public.orders", PartitionKeyType: "schema-table"}
	for _, format := range []string{FormatJSONUnformatted, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			e := NewEncoder(MessageOptions{MessageFormat: format, IncludeTransactionDetails: true})
			buf := make([]byte, 0, 4096)
			now := testNow
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf = e.Append(buf[:0], &r, now)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// Object-mapping document attributes (attribute-sub-type json) are embedded
// as JSON, not as a string; invalid text stays a string.
func TestEncodeJSONDocumentColumn(t *testing.T) {
	tbl := &mapping.TargetTable{Schema: "Test", Name: "Customers",
		Columns: []td.Column{
			{Name: "id", Type: td.TypeInt8, IsPK: true},
			{Name: "ContactDetails", Type: td.TypeString, Length: 1000},
			{Name: "Broken", Type: td.TypeString, Length: 1000},
		},
		JSONColumns: []int{1, 2},
	}
	r := rec(source.OpLoad, tbl, []td.Value{td.IntValue(7),
		td.StringValue("{\"Home\": {\"Phone\": \"555\",\n \"Address\": \"1 Main St\"}}"),
		td.StringValue(`{"open":`)}, nil, "", 1)
	enc := NewEncoder(MessageOptions{MessageFormat: FormatJSONUnformatted})
	got := string(enc.Append(nil, &r, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	want := `"data":{"id":7,"ContactDetails":{"Home":{"Phone":"555","Address":"1 Main St"}},"Broken":"{\"open\":"}`
	if !strings.Contains(got, want) {
		t.Fatalf("got %s\nwant it to contain %s", got, want)
	}
}

// Full-load records carry stream-position with IncludeTransactionDetails
// (a sluice choice: rows without a primary key can then be de-duplicated);
// never transaction ids or a commit timestamp, and nothing without the option.
func TestFullLoadStreamPosition(t *testing.T) {
	small := &mapping.TargetTable{Schema: "s", Name: "nopk", Columns: []td.Column{{Name: "v", Type: td.TypeInt8}}}
	r := rec(source.OpLoad, small, []td.Value{td.IntValue(1)}, nil, "", 42)
	r.Event.Origin = "s3://b/s/nopk/LOAD001.csv"
	tests := []struct {
		details bool
		want    string
	}{
		{true, `"table-name":"nopk","stream-position":"s3://b/s/nopk/LOAD001.csv:42"}}`},
		{false, `"table-name":"nopk"}}`},
	}
	for _, tt := range tests {
		e := NewEncoder(MessageOptions{MessageFormat: FormatJSONUnformatted, IncludeTransactionDetails: tt.details})
		got := strings.TrimSuffix(string(e.Append(nil, &r, testNow)), "\n")
		if !strings.HasSuffix(got, tt.want) || strings.Contains(got, "transaction") || strings.Contains(got, "commit-timestamp") {
			t.Errorf("details=%v: %s\nwant suffix %s", tt.details, got, tt.want)
		}
	}
}
