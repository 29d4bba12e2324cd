package s3parquet

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	td "github.com/sluicedata/sluice/tabledefs"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// clock is a settable test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// dirTarget opens a target on a fresh local-directory bucket.
func dirTarget(t testing.TB, o Options) (*Target, string) {
	t.Helper()
	dir := t.TempDir()
	if o.Bucket == "" {
		o.Bucket = "file://" + dir
	} else {
		dir = strings.TrimPrefix(o.Bucket, "file://")
	}
	if o.Logger == nil {
		o.Logger = quietLog()
	}
	if o.Now == nil {
		c := &clock{now: t0}
		o.Now = c.Now
	}
	o.EnableStatistics = true
	tg, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.Close(context.Background()) })
	return tg, dir
}

func event(op source.Op, commit time.Time, seq int64) *source.Event {
	return &source.Event{Op: op, CommitTime: commit, Origin: "test", Seq: seq}
}

func rec(tbl *mapping.TargetTable, ev *source.Event, vals ...td.Value) mapping.Record {
	return mapping.Record{Table: tbl, Event: ev, Values: vals}
}

// listFiles returns the keys of every file below dir (slash-separated),
// leaving out the spool directory.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == spoolName {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// readParquet reads a whole Parquet file with pqarrow and renders every
// value exactly (decimals from their unscaled integer, timestamps in
// RFC 3339 with nanoseconds, bytes in hex).
func readParquet(t *testing.T, data []byte) (*arrow.Schema, [][]string) {
	t.Helper()
	rdr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	rows := make([][]string, tbl.NumRows())
	for c := 0; c < int(tbl.NumCols()); c++ {
		r := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				rows[r] = append(rows[r], render(chunk, i))
				r++
			}
		}
	}
	return tbl.Schema(), rows
}

func readFile(t *testing.T, path string) (*arrow.Schema, [][]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readParquet(t, data)
}

// fileMeta returns the Parquet metadata of a file.
func fileMeta(t *testing.T, path string) *file.Reader {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false, file.WithReadProps(parquet.NewReaderProperties(nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdr.Close() })
	return rdr
}

func render(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return decText(a.Value(i).BigInt(), int(scale))
	case *array.Timestamp:
		return a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC().Format(time.RFC3339Nano)
	case *array.Binary:
		return hex.EncodeToString(a.Value(i))
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	}
	return a.ValueStr(i)
}

func decText(n *big.Int, scale int) string {
	s := new(big.Int).Abs(n).String()
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if n.Sign() < 0 {
		s = "-" + s
	}
	return s
}
