package s3parquet

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/parquet/schema"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestParquetSchemaGolden pins the Parquet physical and logical types of
// every DMS type, for the default settings and for millisecond timestamps
// with Parquet 2.0, and the Op and timestamp columns of CDC files.
func TestParquetSchemaGolden(t *testing.T) {
	var out strings.Builder
	for _, tc := range []struct {
		name string
		o    Options
		op   source.Op
	}{
		{"full load, defaults", Options{}, source.OpLoad},
		{"CDC, ParquetTimestampInMillisecond, parquet-2-0, TimestampColumnName", Options{ParquetTimestampInMillisecond: true,
			ParquetVersion: "parquet-2-0", TimestampColumnName: "ts"}, source.OpInsert},
	} {
		tg, dir := dirTarget(t, tc.o)
		tbl := allTypes()
		ctx := context.Background()
		if err := tg.Write(ctx, []mapping.Record{rec(tbl, event(tc.op, t0, 1), allTypesRow(1)...)}); err != nil {
			t.Fatal(err)
		}
		if err := tg.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		name := "LOAD00000001.parquet"
		if tc.op != source.OpLoad {
			name = cdcName(t0.In(time.UTC))
		}
		out.WriteString("# " + tc.name + "\n")
		schema.PrintSchema(fileMeta(t, filepath.Join(dir, "shop/all_types", name)).MetaData().Schema.Root(), &out, 2)
	}
	golden := filepath.Join("..", "..", "testdata", "s3parquet", "alltypes.schema.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Fatalf("Parquet schema differs from %s (go test -update to rewrite):\n%s", golden, out.String())
	}
}
