package s3parquet

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/s3csv"
	td "github.com/sluicedata/sluice/tabledefs"
)

const benchRows = 100_000

var (
	benchOnce sync.Once
	benchRecs []mapping.Record
	benchCSV  int
)

// BenchmarkParquetWrite measures the target on the 10-column bench table
// (s3csv.BenchTable, rows from s3csv.GenerateBenchCSV parsed by the S3 CSV
// source beforehand): Write in batches of 1024 and a final Flush to a
// local-directory bucket, so the figure is encoding plus the file write.
// rows/s counts rows; csv-MB/s is the CSV text those rows came from.
func BenchmarkParquetWrite(b *testing.B) {
	benchOnce.Do(func() { benchRecs, benchCSV = benchRecords(b, benchRows) })
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"none", Options{}},
		{"gzip", Options{CompressionType: "gzip"}},
		{"plain", Options{EncodingType: "plain"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tg, _ := dirTarget(b, tc.o)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				off := done % benchRows
				n := min(1024, b.N-done, benchRows-off)
				if err := tg.Write(ctx, benchRecs[off:off+n]); err != nil {
					b.Fatal(err)
				}
				done += n
			}
			if err := tg.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.N)*float64(benchCSV)/benchRows/1e6/b.Elapsed().Seconds(), "csv-MB/s")
		})
	}
}

// BenchmarkCSVToParquet is the whole path DuckDB's CSV→Parquet reference
// figure covers: the S3 CSV source reads a local bench CSV file of b.N
// rows and the target writes it as Parquet to a local-directory bucket
// (no task runner, no checkpoints).
func BenchmarkCSVToParquet(b *testing.B) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"rle-dictionary", Options{}},
		{"plain", Options{EncodingType: "plain"}},
	} {
		b.Run(tc.name, func(b *testing.B) { csvToParquet(b, tc.o) })
	}
}

func csvToParquet(b *testing.B, o Options) {
	dir := b.TempDir()
	path := filepath.Join(dir, "src/bench/rows/LOAD0001.csv")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := s3csv.GenerateBenchCSV(w, b.N, 1); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	_ = f.Close()
	def := s3csv.BenchTable()
	tbl := &mapping.TargetTable{Schema: def.Owner, Name: def.Name, Columns: def.Columns, Source: def}
	o.Bucket = "file://" + filepath.Join(dir, "lake")
	tg, _ := dirTarget(b, o)
	ctx := context.Background()
	b.ResetTimer()
	src, err := s3csv.New(ctx, s3csv.Options{Bucket: "file://" + filepath.Join(dir, "src"), Tables: []*td.Table{def},
		FullLoad: true, Rfc4180: true, Logger: quietLog()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var recs []mapping.Record
	rows := 0
	for {
		batch, err := src.Next(ctx)
		if errors.Is(err, source.ErrDone) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		recs = recs[:0]
		for i := range batch.Events {
			if ev := &batch.Events[i]; ev.Op == source.OpLoad {
				recs = append(recs, mapping.Record{Event: ev, Table: tbl, Values: ev.Values})
			}
		}
		if err := tg.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		rows += len(recs)
	}
	if err := tg.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if rows != b.N {
		b.Fatalf("%d rows written, want %d", rows, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size)/1e6/b.Elapsed().Seconds(), "csv-MB/s")
}
