package s3parquet_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/sluicedata/sluice/task"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunEndToEnd runs a task through task.Run: a local-directory S3 CSV
// source (full load and one CDC file, one bad row) into a file:// S3
// Parquet target, then reads the files back.
func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "src/shop/items/LOAD0001.csv"), "a,1,1.50\nb,2,2.25\nc,oops,0\n")
	writeFile(t, filepath.Join(dir, "src/cdc/20260101-000000000.csv"),
		"I,items,shop,d,4,4.00\nU,items,shop,a,10,1.55\nD,items,shop,b,2,2.25\n")
	writeFile(t, filepath.Join(dir, "task.json"), `{
  "ReplicationTaskIdentifier": "pq",
  "MigrationType": "full-load-and-cdc",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file://src", "CdcPath": "cdc",
    "ExternalTableDefinition": {"TableCount": 1, "Tables": [{"TableName": "items", "TablePath": "shop/items/", "TableOwner": "shop",
      "TableColumns": [{"ColumnName": "sku", "ColumnType": "STRING", "ColumnLength": 20, "ColumnIsPk": true},
                       {"ColumnName": "qty", "ColumnType": "INT4"},
                       {"ColumnName": "price", "ColumnType": "NUMERIC", "ColumnPrecision": 10, "ColumnScale": 2}], "TableColumnsTotal": 3}]}}},
  "TargetEndpoints": [{"EngineName": "s3", "S3Settings": {"BucketName": "file://lake", "BucketFolder": "raw",
    "DataFormat": "parquet", "IncludeOpForFullLoad": true, "TimestampColumnName": "ts"}}],
  "TableMappings": {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
    "object-locator": {"schema-name": "shop", "table-name": "%"}, "rule-action": "include"}]},
  "StateLocation": "file://state"
}`)
	cfg, err := task.LoadConfig(filepath.Join(dir, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	res, err := task.Run(context.Background(), cfg, task.RunOptions{Once: true, Log: log})
	if err != nil || res.Rejected != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	var keys []string
	root := filepath.Join(dir, "lake")
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, ".sluice-spool") {
			rel, _ := filepath.Rel(root, p)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(keys)
	if len(keys) != 2 || keys[1] != "raw/shop/items/LOAD00000001.parquet" || !strings.HasSuffix(keys[0], ".parquet") {
		t.Fatalf("files %v", keys)
	}
	load := readRows(t, filepath.Join(root, keys[1]))
	cdc := readRows(t, filepath.Join(root, keys[0]))
	if got := fmt.Sprint(load); got != "[[I a 1 1.5] [I b 2 2.25]]" {
		t.Errorf("load rows %s", got)
	}
	if got := fmt.Sprint(cdc); got != "[[I d 4 4] [U a 10 1.55] [D b 2 2.25]]" {
		t.Errorf("cdc rows %s", got)
	}

	// A second run has nothing new and writes no file.
	res, err = task.Run(context.Background(), cfg, task.RunOptions{Once: true, Log: log})
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "raw/shop/items"))
	if len(ents) != 2 {
		t.Fatalf("second run wrote files: %v", ents)
	}
}

// readRows returns the first four columns of every row (Op, sku, qty and
// price as arrow renders it; the timestamp column varies).
func readRows(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 0)
	defer tr.Release()
	var rows [][]string
	for tr.Next() {
		rec := tr.Record()
		if rec.NumCols() != 5 || rec.Schema().Field(4).Name != "ts" {
			t.Fatalf("schema %v", rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			var row []string
			for c := 0; c < 4; c++ {
				row = append(row, rec.Column(c).ValueStr(i))
			}
			rows = append(rows, row)
		}
	}
	return rows
}
