package s3parquet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/s3csv"
	td "github.com/sluicedata/sluice/tabledefs"
)

// benchRecords generates rows of the 10-column bench table
// (s3csv.GenerateBenchCSV), reads them with the S3 CSV source from a local
// directory, and returns them as full-load records (values copied out of
// the source's batches) with the size of the CSV text.
func benchRecords(tb testing.TB, rows int) ([]mapping.Record, int) {
	tb.Helper()
	dir := tb.TempDir()
	var csv bytes.Buffer
	if err := s3csv.GenerateBenchCSV(&csv, rows, 1); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "bench/rows/LOAD0001.csv")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, csv.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	def := s3csv.BenchTable()
	ctx := context.Background()
	src, err := s3csv.New(ctx, s3csv.Options{Bucket: "file://" + dir, Tables: []*td.Table{def}, FullLoad: true, Rfc4180: true,
		Logger: quietLog()}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	tbl := &mapping.TargetTable{Schema: def.Owner, Name: def.Name, Columns: def.Columns, Source: def}
	recs := make([]mapping.Record, 0, rows)
	for {
		b, err := src.Next(ctx)
		if errors.Is(err, source.ErrDone) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if len(b.Rejects) > 0 {
			tb.Fatalf("bench rows rejected: %+v", b.Rejects[0])
		}
		for i := range b.Events {
			ev := b.Events[i]
			if ev.Op != source.OpLoad {
				continue // control records
			}
			ev.Values = slices.Clone(ev.Values)
			recs = append(recs, mapping.Record{Event: &ev, Table: tbl, Values: ev.Values})
		}
	}
	if len(recs) != rows {
		tb.Fatalf("%d bench rows read, want %d", len(recs), rows)
	}
	return recs, csv.Len()
}

// writeAll writes recs in batches of 1024 and flushes.
func writeAll(tb testing.TB, tg *Target, recs []mapping.Record) {
	tb.Helper()
	ctx := context.Background()
	for len(recs) > 0 {
		n := min(len(recs), 1024)
		if err := tg.Write(ctx, recs[:n]); err != nil {
			tb.Fatal(err)
		}
		recs = recs[n:]
	}
	if err := tg.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
}
