package s3csv

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

const benchRows = 200_000

var benchData = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if err := GenerateBenchCSV(&b, benchRows, 1); err != nil {
		panic(err)
	}
	return b.Bytes()
})

var benchDialect = dialect{delim: ",", rowDelim: "\n", rfc4180: true}

// typedPass reads data with the sluice reader and types every field as the
// full load does (NULL decision, optional op column, ParseValue). It
// returns the rows typed.
func typedPass(tb testing.TB, r io.Reader, t *tabledefs.Table, vals []tabledefs.Value) int {
	rd := newCSVReader(r, benchDialect)
	conv := converter{t: t}
	n := 0
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		fields, rerr := conv.fullLoadFields(rec.Fields)
		if rerr == nil {
			rerr = conv.values(fields, rec.Quoted, vals)
		}
		if rerr != nil {
			tb.Fatalf("line %d: %s", rec.Line, rerr.reason)
		}
		n++
	}
}

// pipedPass is typedPass as the full load runs it: splitting and typing
// overlapped in two goroutines (rowPipe).
func pipedPass(tb testing.TB, r io.Reader, t *tabledefs.Table, vals []tabledefs.Value) int {
	rd := newCSVReader(r, benchDialect)
	conv := converter{t: t}
	n := 0
	err := rowPipe(context.Background(), rd, func(b *rowBlock) error {
		fields, quoted := b.fields, b.quoted
		for i := range b.rows {
			row := &b.rows[i]
			rf, rq := fields[:row.nf], quoted[:row.nf]
			fields, quoted = fields[row.nf:], quoted[row.nf:]
			f, rerr := conv.fullLoadFields(rf)
			if rerr == nil {
				rerr = conv.values(f, rq, vals)
			}
			if rerr != nil {
				return errors.New(rerr.reason)
			}
			n++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// splitPass is the reference: encoding/csv with ReuseRecord, fields only.
func splitPass(tb testing.TB, r io.Reader) int {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	n := 0
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
}

// BenchmarkTypedRows: typed rows per second on the generated 10-column
// file as the full load types them (split and typing overlapped in two
// goroutines). Compare with BenchmarkEncodingCSVSplit; target ≥ 0.8×.
func BenchmarkTypedRows(b *testing.B) {
	data, t := benchData(), BenchTable()
	vals := make([]tabledefs.Value, len(t.Columns))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rows += pipedPass(b, bytes.NewReader(data), t, vals)
	}
	reportRows(b, rows)
	b.ReportMetric(testing.AllocsPerRun(1, func() { pipedPass(b, bytes.NewReader(data), t, vals) })/benchRows, "allocs/row")
}

// BenchmarkTypedRowsOneGoroutine: the same work in a single goroutine.
func BenchmarkTypedRowsOneGoroutine(b *testing.B) {
	data, t := benchData(), BenchTable()
	vals := make([]tabledefs.Value, len(t.Columns))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rows += typedPass(b, bytes.NewReader(data), t, vals)
	}
	reportRows(b, rows)
	b.ReportMetric(testing.AllocsPerRun(1, func() { typedPass(b, bytes.NewReader(data), t, vals) })/benchRows, "allocs/row")
}

// BenchmarkEncodingCSVSplit: encoding/csv (ReuseRecord) merely splitting
// the same bytes into fields.
func BenchmarkEncodingCSVSplit(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rows += splitPass(b, bytes.NewReader(data))
	}
	reportRows(b, rows)
}

// BenchmarkTypedVsSplit runs the passes alternately in each iteration, so
// that the drifting speed of a shared VM hits them alike, and reports the
// ratios of their row rates to encoding/csv's.
func BenchmarkTypedVsSplit(b *testing.B) {
	data, t := benchData(), BenchTable()
	vals := make([]tabledefs.Value, len(t.Columns))
	var piped, one, split time.Duration
	passes := []func(){
		func() { pipedPass(b, bytes.NewReader(data), t, vals) },
		func() { typedPass(b, bytes.NewReader(data), t, vals) },
		func() { splitPass(b, bytes.NewReader(data)) },
	}
	sums := []*time.Duration{&piped, &one, &split}
	// One untimed round first: the first pass of a process pays for growing
	// the heap, which would bias whichever side ran first.
	for _, p := range passes {
		p()
	}
	rows, round := 0, 0
	for b.Loop() {
		// Rotate the order so that no side always follows the same one
		// (garbage left by one pass is collected during the next).
		for k := range passes {
			i := (round + k) % len(passes)
			t0 := time.Now()
			passes[i]()
			*sums[i] += time.Since(t0)
		}
		rows += benchRows
		round++
	}
	b.ReportMetric(float64(rows)/piped.Seconds(), "typed-rows/s")
	b.ReportMetric(float64(rows)/one.Seconds(), "typed-1g-rows/s")
	b.ReportMetric(float64(rows)/split.Seconds(), "split-rows/s")
	b.ReportMetric(split.Seconds()/piped.Seconds(), "typed/split")
	b.ReportMetric(split.Seconds()/one.Seconds(), "typed-1g/split")
}

// genReader streams GenerateBenchCSV output without holding it.
func genReader(rows int) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(GenerateBenchCSV(pw, rows, 7)) }()
	return pr
}

// peakHeapPass types a generated stream of rows and samples HeapInuse
// every 20,000 rows, returning the peak.
func peakHeapPass(tb testing.TB, rows int) (peak uint64, bytesRead int64) {
	t := BenchTable()
	vals := make([]tabledefs.Value, len(t.Columns))
	src := genReader(rows)
	defer src.Close()
	cr := &countingReader{r: src}
	rd := newCSVReader(cr, benchDialect)
	conv := converter{t: t}
	var ms runtime.MemStats
	runtime.GC()
	n := 0
	err := rowPipe(context.Background(), rd, func(b *rowBlock) error {
		fields, quoted := b.fields, b.quoted
		for i := range b.rows {
			row := &b.rows[i]
			if rerr := conv.values(fields[:row.nf], quoted[:row.nf], vals); rerr != nil {
				return errors.New(rerr.reason)
			}
			fields, quoted = fields[row.nf:], quoted[row.nf:]
			if n++; n%20_000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return peak, cr.n
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// BenchmarkHeapFlat streams ~200 MB of generated CSV through the reader and
// typing and reports the peak HeapInuse, which must not depend on the size.
func BenchmarkHeapFlat(b *testing.B) {
	for b.Loop() {
		peak, n := peakHeapPass(b, 1_250_000)
		b.ReportMetric(float64(n)/1e6, "MB-streamed")
		b.ReportMetric(float64(peak)/(1<<20), "peak-HeapInuse-MiB")
	}
}

// TestHeapDoesNotGrowWithInput compares the peak heap of a 10x larger
// stream with a small one: streaming means no growth beyond noise.
func TestHeapDoesNotGrowWithInput(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 50 MB")
	}
	small, _ := peakHeapPass(t, 30_000)
	large, n := peakHeapPass(t, 300_000)
	t.Logf("peak HeapInuse: %d KiB for 5 MB, %d KiB for %d MB", small>>10, large>>10, n>>20)
	// The large input is 46 MB: holding even half of it would fail this;
	// GC pacing on a loaded machine stays well below.
	if large > max(small*3, 24<<20) {
		t.Fatalf("peak heap grew from %d to %d bytes with a 10x larger input", small, large)
	}
}

// BenchmarkSourceFullLoad runs the whole source (local directory bucket,
// listing, streaming, typing, batching, positions) over the generated file.
func BenchmarkSourceFullLoad(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "bench", "rows", "LOAD001.csv")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, benchData(), 0o644); err != nil {
		b.Fatal(err)
	}
	o := Options{Bucket: "file://" + dir, FullLoad: true, Rfc4180: true, Tables: []*tabledefs.Table{BenchTable()}, Logger: quietLogger()}
	b.SetBytes(int64(len(benchData())))
	rows := 0
	for b.Loop() {
		src, err := New(context.Background(), o, nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			bt, err := src.Next(context.Background())
			if err == source.ErrDone {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if len(bt.Rejects) > 0 {
				b.Fatal(bt.Rejects[0].Reason)
			}
			for _, e := range bt.Events {
				if e.Op == source.OpLoad {
					rows++
				}
			}
		}
		src.Close()
	}
	reportRows(b, rows)
}

// BenchmarkReaderSplit: the sluice reader alone, splitting without typing.
func BenchmarkReaderSplit(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rd := newCSVReader(bytes.NewReader(data), benchDialect)
		for {
			_, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	reportRows(b, rows)
}
