package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	td "github.com/sluicedata/sluice/tabledefs"
	"github.com/sluicedata/sluice/target/kinesis"
)

var update = flag.Bool("update", false, "rewrite golden files")

func records() []mapping.Record {
	tbl := &mapping.TargetTable{Schema: "public", Name: "foo", Columns: []td.Column{
		{Name: "id", Type: td.TypeInt8, IsPK: true}, {Name: "name", Type: td.TypeString, Nullable: true},
		{Name: "raw", Type: td.TypeByte, Nullable: true}, {Name: "at", Type: td.TypeDateTime, Scale: 3, Nullable: true}}}
	at := td.TimestampValue(time.Date(2023, 1, 16, 6, 18, 32, 123000000, time.UTC))
	ev := func(op source.Op, tx string, seq int64) *source.Event {
		return &source.Event{Op: op, TxID: tx, Origin: "0/16B3748", Seq: seq}
	}
	return []mapping.Record{
		{Event: ev(source.OpDropTable, "", 0), Table: tbl, PartitionKey: "TASK.public.foo", PartitionKeyType: "task-id"},
		{Event: ev(source.OpCreateTable, "", 0), Table: tbl, PartitionKey: "TASK.public.foo", PartitionKeyType: "task-id"},
		{Event: ev(source.OpLoad, "", 1), Table: tbl, Values: []td.Value{td.IntValue(1), td.StringValue("a\"\n"), td.BytesValue("\x01\x02"), at},
			PartitionKey: "public.foo.1", PartitionKeyType: "primary-key"},
		{Event: ev(source.OpTruncate, "", 2), Table: tbl, PartitionKey: "TASK.public.foo"}, // not emitted by default
		{Event: ev(source.OpUpdate, "1139", 3), Table: tbl, Values: []td.Value{td.IntValue(1), td.Null, td.Null, at},
			Before: []td.Value{td.IntValue(1), td.StringValue("a"), td.Null, at}, PartitionKey: "public.foo", PartitionKeyType: "schema-table"},
	}
}

func TestFileTarget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	now := func() time.Time { return time.Date(2024, 7, 29, 0, 58, 17, 983670000, time.UTC) }
	opts := kinesis.MessageOptions{MessageFormat: kinesis.FormatJSON, TaskID: "TASK", IncludeTransactionDetails: true,
		BeforeImage: kinesis.BeforeImageOptions{Enabled: true, FieldName: "before-image", ColumnFilter: "all"}}
	ctx := context.Background()
	for run := 0; run < 2; run++ { // the second run appends (restart)
		tg, err := New(path, opts, WithNow(now))
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.Write(ctx, records()); err != nil {
			t.Fatal(err)
		}
		if err := tg.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tg.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(got))
	n := 0
	for sc.Scan() {
		var line struct {
			PartitionKey string
			Data         map[string]json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d: %v: %s", n+1, err, sc.Bytes())
		}
		if line.PartitionKey == "" || line.Data["metadata"] == nil {
			t.Fatalf("line %d lacks PartitionKey or Data.metadata: %s", n+1, sc.Bytes())
		}
		n++
	}
	if n != 8 {
		t.Fatalf("%d lines, want 8 (4 records × 2 runs)", n)
	}
	golden := filepath.Join("..", "..", "testdata", "kinesis", "file_target.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n%s", golden, got)
	}
}

func TestFileTargetBadPath(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "missing", "x.jsonl"), kinesis.MessageOptions{}); err == nil {
		t.Fatal("want error for a missing directory")
	}
}

// A process killed mid-write leaves a partial last line; the next run must
// not append to it.
func TestReopenTrimsTornLine(t *testing.T) {
	for _, tc := range []struct{ name, before, want string }{
		{"torn after complete lines", "{\"a\":1}\n{\"b\":", "{\"a\":1}\n"},
		{"only a torn line", "{\"b\":", ""},
		{"complete", "{\"a\":1}\n", "{\"a\":1}\n"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.jsonl")
			if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			tg, err := New(path, kinesis.MessageOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tg.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Fatalf("after reopening %q: %q, want %q", tc.before, got, tc.want)
			}
		})
	}
}

// A pipe or device (here /dev/null) is a valid destination: no fsync, no trim.
func TestDeviceDestination(t *testing.T) {
	tg, err := New(os.DevNull, kinesis.MessageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tbl := &mapping.TargetTable{Schema: "s", Name: "t", Columns: []td.Column{{Name: "id", Type: td.TypeInt8}}}
	recs := []mapping.Record{{Event: &source.Event{Op: source.OpLoad}, Table: tbl, Values: []td.Value{td.IntValue(1)}, PartitionKey: "1"}}
	if err := tg.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := tg.Flush(context.Background()); err != nil {
		t.Fatalf("flushing to %s: %v", os.DevNull, err)
	}
	if err := tg.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The metadata timestamp is mapping.Record.Time when the runner set it (the
// same instant as the other targets), else the target's clock.
func TestFileTargetRecordTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	clock := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	tg, err := New(path, kinesis.MessageOptions{}, WithNow(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	recs := records()[2:3]
	recs = append(recs, recs[0])
	recs[0].Time = time.Date(2024, 7, 29, 0, 58, 17, 983670000, time.UTC)
	ctx := context.Background()
	if err := tg.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2024-07-29T00:58:17.983670Z", "2030-01-02T03:04:05.000006Z"}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %s", len(lines), data)
	}
	for i, line := range lines {
		var m struct {
			Data struct {
				Metadata struct{ Timestamp string } `json:"metadata"`
			}
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		if m.Data.Metadata.Timestamp != want[i] {
			t.Errorf("line %d: timestamp %s, want %s", i, m.Data.Metadata.Timestamp, want[i])
		}
	}
}
