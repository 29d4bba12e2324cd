package s3parquet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/parquet"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	td "github.com/sluicedata/sluice/tabledefs"
)

// allTypes has one column of every DMS type.
func allTypes() *mapping.TargetTable {
	return &mapping.TargetTable{Schema: "shop", Name: "all_types", Columns: []td.Column{
		{Name: "id", Type: td.TypeInt8, IsPK: true},
		{Name: "i1", Type: td.TypeInt1, Nullable: true}, {Name: "i2", Type: td.TypeInt2, Nullable: true},
		{Name: "i4", Type: td.TypeInt4, Nullable: true}, {Name: "u1", Type: td.TypeUint1, Nullable: true},
		{Name: "u2", Type: td.TypeUint2, Nullable: true}, {Name: "u4", Type: td.TypeUint4, Nullable: true},
		{Name: "u8", Type: td.TypeUint8, Nullable: true},
		{Name: "n38", Type: td.TypeNumeric, Precision: 38, Scale: 0, Nullable: true},
		{Name: "n3810", Type: td.TypeNumeric, Precision: 38, Scale: 10, Nullable: true},
		{Name: "n122", Type: td.TypeNumeric, Precision: 12, Scale: 2, Nullable: true},
		{Name: "r4", Type: td.TypeReal4, Nullable: true}, {Name: "r8", Type: td.TypeReal8, Nullable: true},
		{Name: "s", Type: td.TypeString, Length: 50, Nullable: true}, {Name: "c", Type: td.TypeClob, Nullable: true},
		{Name: "b", Type: td.TypeByte, Length: 4, Nullable: true}, {Name: "bl", Type: td.TypeBlob, Nullable: true},
		{Name: "bo", Type: td.TypeBoolean, Nullable: true}, {Name: "d", Type: td.TypeDate, Nullable: true},
		{Name: "tm", Type: td.TypeTime, Nullable: true}, {Name: "dt", Type: td.TypeDateTime, Scale: 9, Nullable: true},
	}}
}

const (
	max38   = "-99999999999999999999999999999999999999"
	dec3810 = "1234567890123456789012345678.0123456789"
)

var tmNanos = int64(13*3600+14*60+15)*1e9 + 123456789

func allTypesRow(id int64) []td.Value {
	return []td.Value{td.IntValue(id), td.IntValue(-128), td.IntValue(-32768), td.IntValue(math.MinInt32),
		td.UintValue(255), td.UintValue(65535), td.UintValue(math.MaxUint32), td.UintValue(math.MaxUint64),
		td.DecimalValue(max38), td.DecimalValue(dec3810), td.DecimalValue("-0.05"),
		td.FloatValue(1.5), td.FloatValue(math.Pi), td.StringValue(`héllo, "world"`), td.StringValue("line1\nline2"),
		td.BytesValue("\x00\xff"), td.BytesValue(""), td.BoolValue(true), td.DateValue(-1),
		td.TimeValue(tmNanos), td.TimestampValue(t0)}
}

func nullRow(id int64, n int) []td.Value {
	v := make([]td.Value, n)
	v[0] = td.IntValue(id)
	return v
}

var allTypesWant = []string{"1", "-128", "-32768", "-2147483648", "255", "65535", "4294967295", "18446744073709551615",
	max38, dec3810, "-0.05", "1.5", "3.141592653589793", `héllo, "world"`, "line1\nline2", "00ff", "", "true",
	"1969-12-31", "13:14:15.123456", "2026-03-14T15:09:26.535897Z"}

func TestAllTypesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Options
		types   string
		tm, dt  string
		version parquet.Version
	}{
		{name: "defaults", types: "int64 int8 int16 int32 uint8 uint16 uint32 uint64 decimal(38, 0) decimal(38, 10) decimal(12, 2) float32 float64 utf8 utf8 binary binary bool date32 time64[us] timestamp[us, tz=UTC]",
			tm: "13:14:15.123456", dt: "2026-03-14T15:09:26.535897Z", version: parquet.V1_0},
		{name: "millis-v2-gzip-plain", o: Options{ParquetTimestampInMillisecond: true, ParquetVersion: "parquet-2-0",
			CompressionType: "gzip", EncodingType: "plain"},
			types: "int64 int8 int16 int32 uint8 uint16 uint32 uint64 decimal(38, 0) decimal(38, 10) decimal(12, 2) float32 float64 utf8 utf8 binary binary bool date32 time32[ms] timestamp[ms, tz=UTC]",
			tm:    "13:14:15.123", dt: "2026-03-14T15:09:26.535Z", version: parquet.V2_LATEST},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, dir := dirTarget(t, tc.o)
			tbl := allTypes()
			ctx := context.Background()
			err := tg.Write(ctx, []mapping.Record{
				rec(tbl, event(source.OpLoad, time.Time{}, 1), allTypesRow(1)...),
				rec(tbl, event(source.OpLoad, time.Time{}, 2), nullRow(2, len(tbl.Columns))...),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := listFiles(t, dir); len(got) != 0 {
				t.Fatalf("files visible before Flush: %v", got)
			}
			if err := tg.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := listFiles(t, dir), []string{"shop/all_types/LOAD00000001.parquet"}; !slices.Equal(got, want) {
				t.Fatalf("files %v, want %v", got, want)
			}
			path := filepath.Join(dir, "shop/all_types/LOAD00000001.parquet")
			schema, rows := readFile(t, path)
			var types []string
			for _, f := range schema.Fields() {
				types = append(types, f.Type.String())
			}
			if got := strings.Join(types, " "); got != tc.types {
				t.Errorf("types\n got %s\nwant %s", got, tc.types)
			}
			want := slices.Clone(allTypesWant)
			want[19], want[20] = tc.tm, tc.dt
			if !slices.Equal(rows[0], want) {
				t.Errorf("row 1\n got %q\nwant %q", rows[0], want)
			}
			wantNull := []string{"2"}
			for range len(tbl.Columns) - 1 {
				wantNull = append(wantNull, "NULL")
			}
			if !slices.Equal(rows[1], wantNull) {
				t.Errorf("row 2 %q", rows[1])
			}
			if v := fileMeta(t, path).MetaData().Version(); v != tc.version {
				t.Errorf("parquet version %v, want %v", v, tc.version)
			}
		})
	}
}

// Columns of the Op/timestamp tests: id and a name.
func smallTable() *mapping.TargetTable {
	return &mapping.TargetTable{Schema: "s", Name: "t", Columns: []td.Column{
		{Name: "id", Type: td.TypeInt4, IsPK: true}, {Name: "name", Type: td.TypeString, Length: 10, Nullable: true}}}
}

// opEvents is one full-load row then an insert, an update and a delete.
func opEvents(tbl *mapping.TargetTable, commit time.Time) []mapping.Record {
	return []mapping.Record{
		rec(tbl, event(source.OpLoad, time.Time{}, 1), td.IntValue(1), td.StringValue("a")),
		rec(tbl, event(source.OpInsert, commit, 2), td.IntValue(2), td.StringValue("b")),
		rec(tbl, event(source.OpUpdate, commit, 3), td.IntValue(2), td.StringValue("c")),
		rec(tbl, event(source.OpDelete, commit, 4), td.IntValue(1), td.StringValue("a")),
		{Table: tbl, Event: event(source.OpTruncate, commit, 5)},
	}
}

// TestOpColumn is the §5.2 tables: which files get an Op column and which
// CDC operations are written.
func TestOpColumn(t *testing.T) {
	commit := t0.Add(-time.Hour)
	cdcFile := "s/t/" + cdcName(t0)
	for _, tc := range []struct {
		name      string
		o         Options
		load, cdc [][]string
	}{
		{"defaults", Options{},
			[][]string{{"1", "a"}}, [][]string{{"I", "2", "b"}, {"U", "2", "c"}, {"D", "1", "a"}}},
		{"IncludeOpForFullLoad", Options{IncludeOpForFullLoad: true},
			[][]string{{"I", "1", "a"}}, [][]string{{"I", "2", "b"}, {"U", "2", "c"}, {"D", "1", "a"}}},
		{"CdcInsertsOnly", Options{CdcInsertsOnly: true},
			[][]string{{"1", "a"}}, [][]string{{"2", "b"}}},
		{"CdcInsertsOnly+IncludeOpForFullLoad", Options{CdcInsertsOnly: true, IncludeOpForFullLoad: true},
			[][]string{{"I", "1", "a"}}, [][]string{{"I", "2", "b"}}},
		{"CdcInsertsAndUpdates", Options{CdcInsertsAndUpdates: true},
			[][]string{{"1", "a"}}, [][]string{{"I", "2", "b"}, {"U", "2", "c"}}},
		{"TimestampColumnName", Options{TimestampColumnName: "ts"},
			[][]string{{"1", "a", "2026-03-14 15:09:26.535897"}},
			[][]string{{"I", "2", "b", "2026-03-14 14:09:26.535897"}, {"U", "2", "c", "2026-03-14 14:09:26.535897"},
				{"D", "1", "a", "2026-03-14 14:09:26.535897"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, dir := dirTarget(t, tc.o)
			ctx := context.Background()
			if err := tg.Write(ctx, opEvents(smallTable(), commit)); err != nil {
				t.Fatal(err)
			}
			if err := tg.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := listFiles(t, dir), []string{cdcFile, "s/t/LOAD00000001.parquet"}; !slices.Equal(got, want) {
				t.Fatalf("files %v, want %v", got, want)
			}
			lsch, load := readFile(t, filepath.Join(dir, "s/t/LOAD00000001.parquet"))
			csch, cdc := readFile(t, filepath.Join(dir, cdcFile))
			if fmt.Sprint(load) != fmt.Sprint(tc.load) || fmt.Sprint(cdc) != fmt.Sprint(tc.cdc) {
				t.Fatalf("load %q\ncdc %q\nwant %q\n%q", load, cdc, tc.load, tc.cdc)
			}
			hasOp := func(rows [][]string) bool { return strings.Contains("IUD", rows[0][0]) }
			if hasOp(tc.cdc) != (csch.Field(0).Name == "Op") || hasOp(tc.load) != (lsch.Field(0).Name == "Op") {
				t.Errorf("Op column not first: %v / %v", lsch, csch)
			}
		})
	}
}

func TestDatePartitions(t *testing.T) {
	commit := time.Date(2023, 4, 5, 23, 30, 0, 0, time.UTC)
	name := cdcName(t0)
	for _, tc := range []struct {
		seq, delim, zone string
		want             string
	}{
		{"", "", "", "2023/04/05"},
		{"YYYYMMDDHH", "SLASH", "", "2023/04/05/23"},
		{"YYYYMM", "DASH", "", "2023-04"},
		{"MMYYYYDD", "UNDERSCORE", "", "04_2023_05"},
		{"DDMMYYYY", "NONE", "", "05042023"},
		{"YYYYMMDD", "SLASH", "Europe/Paris", "2023/04/06"},
	} {
		t.Run(tc.seq+"-"+tc.delim+"-"+tc.zone, func(t *testing.T) {
			tg, dir := dirTarget(t, Options{DatePartitionEnabled: true, DatePartitionSequence: tc.seq,
				DatePartitionDelimiter: tc.delim, DatePartitionTimezone: tc.zone})
			ctx := context.Background()
			if err := tg.Write(ctx, opEvents(smallTable(), commit)[:2]); err != nil {
				t.Fatal(err)
			}
			if err := tg.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.zone != "" {
				loc, _ := time.LoadLocation(tc.zone)
				name = cdcName(t0.In(loc))
			}
			// Full load is not date-partitioned (§5.1: CDC only).
			want := []string{"s/t/" + tc.want + "/" + name, "s/t/LOAD00000001.parquet"}
			if got := listFiles(t, dir); !slices.Equal(got, want) {
				t.Fatalf("files %v, want %v", got, want)
			}
		})
	}
}

// Files roll at MaxFileSize and are numbered in hex; every row is in
// exactly one file, in order.
func TestFileRolling(t *testing.T) {
	tg, dir := dirTarget(t, Options{MaxFileSize: 1, RowGroupLength: 10, BucketFolder: "/raw/"})
	tbl := smallTable()
	ctx := context.Background()
	const n = 2000
	for i := range n {
		r := rec(tbl, event(source.OpLoad, time.Time{}, int64(i)), td.IntValue(int64(i)), td.StringValue(strings.Repeat("x", 9)))
		if err := tg.Write(ctx, []mapping.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	files := listFiles(t, dir)
	if len(files) < 17 || files[9] != "raw/s/t/LOAD0000000A.parquet" || files[15] != "raw/s/t/LOAD00000010.parquet" {
		t.Fatalf("files %v", files)
	}
	// Hex names sort in creation order.
	next := 0
	for _, f := range files {
		_, rows := readFile(t, filepath.Join(dir, f))
		for _, r := range rows {
			if r[0] != fmt.Sprint(next) {
				t.Fatalf("%s: row %v, want id %d", f, r, next)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("%d rows read, want %d", next, n)
	}
}

// A second run on the same bucket continues the numbering and never
// overwrites: LOAD numbers after the highest, CDC names after the latest.
func TestRestartNeverOverwrites(t *testing.T) {
	c := &clock{now: t0}
	tg1, dir := dirTarget(t, Options{Now: c.Now})
	ctx := context.Background()
	tbl := smallTable()
	write := func(tg *Target) {
		if err := tg.Write(ctx, opEvents(tbl, t0)[:2]); err != nil {
			t.Fatal(err)
		}
		if err := tg.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	write(tg1)
	write(tg1) // same millisecond: the CDC name moves on by 1 ms
	_ = tg1.Close(ctx)
	c.now = t0.Add(-time.Hour) // a clock that went back
	tg2, _ := dirTarget(t, Options{Bucket: "file://" + dir, Now: c.Now})
	write(tg2)
	want := []string{"s/t/" + cdcName(t0), "s/t/" + cdcName(t0.Add(time.Millisecond)), "s/t/" + cdcName(t0.Add(2*time.Millisecond)),
		"s/t/LOAD00000001.parquet", "s/t/LOAD00000002.parquet", "s/t/LOAD00000003.parquet"}
	if got := listFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files %v\nwant %v", got, want)
	}
}

type rejects struct{ got []source.Reject }

func (r *rejects) Reject(x source.Reject) error {
	r.got = append(r.got, x)
	return nil
}

// A value that cannot be written goes to the Rejecter; the rest of the
// batch is written. Without a Rejecter it fails Write.
func TestRejectBadValue(t *testing.T) {
	tbl := &mapping.TargetTable{Schema: "s", Name: "d", Columns: []td.Column{
		{Name: "id", Type: td.TypeInt4}, {Name: "amount", Type: td.TypeNumeric, Precision: 4, Scale: 2}}}
	recs := []mapping.Record{
		rec(tbl, event(source.OpLoad, time.Time{}, 1), td.IntValue(1), td.DecimalValue("12.34")),
		rec(tbl, event(source.OpLoad, time.Time{}, 2), td.IntValue(2), td.DecimalValue("123.45")),
		rec(tbl, event(source.OpLoad, time.Time{}, 3), td.IntValue(3), td.StringValue("x")),
		rec(tbl, event(source.OpLoad, time.Time{}, 4), td.IntValue(4), td.DecimalValue("-5")),
	}
	rj := &rejects{}
	tg, dir := dirTarget(t, Options{Rejecter: rj})
	ctx := context.Background()
	if err := tg.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, rows := readFile(t, filepath.Join(dir, "s/d/LOAD00000001.parquet"))
	if fmt.Sprint(rows) != "[[1 12.34] [4 -5.00]]" {
		t.Fatalf("rows %v", rows)
	}
	if len(rj.got) != 2 || rj.got[0].Position != "test:2" || !strings.Contains(rj.got[0].Reason, "DECIMAL(4,2)") {
		t.Fatalf("rejects %+v", rj.got)
	}
	tg2, _ := dirTarget(t, Options{})
	if err := tg2.Write(ctx, recs); err == nil || !strings.Contains(err.Error(), "s.d") {
		t.Fatalf("Write without Rejecter: %v", err)
	}
}

// CDC files are cut at CdcMinFileSize and when older than
// CdcMaxBatchInterval, even without a Flush.
func TestCDCFileCuts(t *testing.T) {
	c := &clock{now: t0}
	tg, dir := dirTarget(t, Options{Now: c.Now, CdcMaxBatchInterval: 60, RowGroupLength: 1})
	ctx := context.Background()
	tbl := smallTable()
	ins := func(id int64) {
		r := rec(tbl, event(source.OpInsert, t0, id), td.IntValue(id), td.StringValue("v"))
		if err := tg.Write(ctx, []mapping.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	ins(1)
	c.now = t0.Add(30 * time.Second)
	ins(2)
	if got := listFiles(t, dir); len(got) != 0 {
		t.Fatalf("files %v before the interval", got)
	}
	c.now = t0.Add(61 * time.Second)
	ins(3)
	want := []string{"s/t/" + cdcName(c.now)}
	if got := listFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	_, rows := readFile(t, filepath.Join(dir, want[0]))
	if len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
}

// failStore fails uploads until told otherwise.
type failStore struct {
	*dirStore
	fail bool
}

func (f *failStore) put(ctx context.Context, key string, fl *os.File, size int64) error {
	if f.fail {
		return errors.New("injected upload failure")
	}
	return f.dirStore.put(ctx, key, fl, size)
}

// A failed upload keeps the file; the next Flush uploads it, and no row
// is written twice or lost.
func TestFlushRetriesFailedUpload(t *testing.T) {
	tg, dir := dirTarget(t, Options{})
	fs := &failStore{dirStore: tg.store.(*dirStore), fail: true}
	tg.store = fs
	ctx := context.Background()
	if err := tg.Write(ctx, opEvents(smallTable(), t0)[:1]); err != nil {
		t.Fatal(err)
	}
	if err := tg.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded with a failing store")
	}
	if got := listFiles(t, dir); len(got) != 0 {
		t.Fatalf("files %v after a failed upload", got)
	}
	fs.fail = false
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, rows := readFile(t, filepath.Join(dir, "s/t/LOAD00000001.parquet"))
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	if left := listFiles(t, filepath.Join(dir, spoolName)); len(left) != 0 {
		t.Fatalf("spool not cleaned: %v", left)
	}
}

// A table whose columns change mid-stream gets a new file.
func TestSchemaChangeStartsNewFile(t *testing.T) {
	tg, dir := dirTarget(t, Options{})
	ctx := context.Background()
	a := smallTable()
	b := smallTable()
	b.Columns = append(b.Columns, td.Column{Name: "extra", Type: td.TypeBoolean, Nullable: true})
	same := smallTable() // a different pointer with the same columns keeps the file
	err := tg.Write(ctx, []mapping.Record{
		rec(a, event(source.OpLoad, time.Time{}, 1), td.IntValue(1), td.StringValue("a")),
		rec(same, event(source.OpLoad, time.Time{}, 2), td.IntValue(2), td.StringValue("b")),
		rec(b, event(source.OpLoad, time.Time{}, 3), td.IntValue(3), td.StringValue("c"), td.BoolValue(false)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, r1 := readFile(t, filepath.Join(dir, "s/t/LOAD00000001.parquet"))
	_, r2 := readFile(t, filepath.Join(dir, "s/t/LOAD00000002.parquet"))
	if fmt.Sprint(r1, r2) != "[[1 a] [2 b]] [[3 c false]]" {
		t.Fatalf("%v %v", r1, r2)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []Options{
		{Bucket: "b", ParquetVersion: "parquet-3-0"},
		{Bucket: "b", CdcInsertsOnly: true, CdcInsertsAndUpdates: true},
		{Bucket: "b", DatePartitionSequence: "YYYY"},
		{Bucket: "b", CompressionType: "snappy"},
		{Bucket: "b", EncryptionMode: "SSE_KMS"},
		{Bucket: "b", CannedAclForObjects: "EVERYONE"},
		{},
	} {
		if _, err := New(context.Background(), o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// CDC spanning days: each day's folder gets its rows; a new day ends the
// file of the previous one.
func TestDatePartitionBacklog(t *testing.T) {
	tg, dir := dirTarget(t, Options{DatePartitionEnabled: true})
	ctx := context.Background()
	tbl := smallTable()
	day1 := time.Date(2023, 4, 5, 10, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	var recs []mapping.Record
	for i, c := range []time.Time{day1, day1, day2, day1} {
		recs = append(recs, rec(tbl, event(source.OpInsert, c, int64(i)), td.IntValue(int64(i)), td.Null))
	}
	if err := tg.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got := len(tg.files); got != 1 {
		t.Fatalf("%d files open, want 1", got)
	}
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	files := listFiles(t, dir)
	// Names are unique per folder.
	want := []string{"s/t/2023/04/05/" + cdcName(t0), "s/t/2023/04/05/" + cdcName(t0.Add(time.Millisecond)),
		"s/t/2023/04/06/" + cdcName(t0)}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v\nwant %v", files, want)
	}
	var ids []string
	for _, f := range files {
		_, rows := readFile(t, filepath.Join(dir, f))
		for _, r := range rows {
			ids = append(ids, r[1])
		}
	}
	if fmt.Sprint(ids) != "[0 1 3 2]" {
		t.Fatalf("ids by file %v", ids)
	}
}

// Close without Flush makes nothing visible and leaves no spool file.
func TestCloseDropsUnflushed(t *testing.T) {
	tg, dir := dirTarget(t, Options{})
	ctx := context.Background()
	if err := tg.Write(ctx, opEvents(smallTable(), t0)); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := listFiles(t, dir); len(got) != 0 {
		t.Fatalf("files %v", got)
	}
	if left := listFiles(t, filepath.Join(dir, spoolName)); len(left) != 0 {
		t.Fatalf("spool files left: %v", left)
	}
	if err := tg.Write(ctx, opEvents(smallTable(), t0)); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}
