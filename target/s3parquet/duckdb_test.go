package s3parquet

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
)

// duckQuery runs SQL with DuckDB through testdata/s3parquet/duckquery.cjs
// and returns the last statement's rows. It skips without node or
// DUCKDB_NODE_MODULES.
func duckQuery(t *testing.T, sql ...string) [][]any {
	t.Helper()
	if os.Getenv("DUCKDB_NODE_MODULES") == "" {
		t.Skip("DUCKDB_NODE_MODULES not set (run under scripts/with-infra.sh)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	script, _ := filepath.Abs("../../testdata/s3parquet/duckquery.cjs")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, append([]string{script, "SET TimeZone='UTC'"}, sql...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("duckdb: %v: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var rows [][]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("duckdb output %q: %v", out, err)
	}
	return rows
}

// DuckDB reads every type back with the expected SQL type and value.
func TestDuckDBAllTypes(t *testing.T) {
	if os.Getenv("DUCKDB_NODE_MODULES") == "" {
		t.Skip("DUCKDB_NODE_MODULES not set (run under scripts/with-infra.sh)")
	}
	tg, dir := dirTarget(t, Options{})
	tbl := allTypes()
	err := tg.Write(context.Background(), []mapping.Record{
		rec(tbl, event(source.OpLoad, time.Time{}, 1), allTypesRow(1)...),
		rec(tbl, event(source.OpLoad, time.Time{}, 2), nullRow(2, len(tbl.Columns))...),
	})
	if err == nil {
		err = tg.Flush(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	glob := filepath.Join(dir, "shop/all_types/*.parquet")
	types := duckQuery(t, fmt.Sprintf("SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('%s'))", glob))
	wantTypes := "BIGINT TINYINT SMALLINT INTEGER UTINYINT USMALLINT UINTEGER UBIGINT DECIMAL(38,0) DECIMAL(38,10) DECIMAL(12,2) " +
		"FLOAT DOUBLE VARCHAR VARCHAR BLOB BLOB BOOLEAN DATE TIME WITH TIME ZONE TIMESTAMP WITH TIME ZONE"
	var got []string
	for _, r := range types {
		got = append(got, r[0].(string))
	}
	if strings.Join(got, " ") != wantTypes {
		t.Errorf("DuckDB types\n got %s\nwant %s", strings.Join(got, " "), wantTypes)
	}
	rows := duckQuery(t, fmt.Sprintf("SELECT COLUMNS(*)::VARCHAR FROM read_parquet('%s') ORDER BY id", glob))
	want := slices.Clone(allTypesWant)
	want[15] = `\x00\xFF`
	want[19], want[20] = "13:14:15.123456+00", "2026-03-14 15:09:26.535897+00"
	if fmt.Sprint(rows[0]) != fmt.Sprint(want) {
		t.Errorf("row 1\n got %q\nwant %q", rows[0], want)
	}
	if rows[1][0] != "2" || slices.ContainsFunc(rows[1][1:], func(v any) bool { return v != nil }) {
		t.Errorf("row 2 %v", rows[1])
	}
}

// DuckDB aggregates over 20,000 bench rows split over several gzip files
// match what sluice wrote.
func TestDuckDBBenchAggregates(t *testing.T) {
	if os.Getenv("DUCKDB_NODE_MODULES") == "" {
		t.Skip("DUCKDB_NODE_MODULES not set (run under scripts/with-infra.sh)")
	}
	recs, _ := benchRecords(t, 20000)
	tg, dir := dirTarget(t, Options{MaxFileSize: 256, CompressionType: "gzip", RowGroupLength: 3000})
	writeAll(t, tg, recs)
	files, _ := filepath.Glob(filepath.Join(dir, "bench/rows/LOAD*.parquet"))
	if len(files) < 3 {
		t.Fatalf("files %v: want the load rolled over several files", files)
	}
	price := new(big.Int)
	var qty, parents, createdMs, days, active int64
	var nameLen int64
	for _, r := range recs {
		v := r.Values
		qty += v[2].Int
		d, err := parseDecimal(v[3].Str, 12, 2)
		if err != nil {
			t.Fatal(err)
		}
		price.Add(price, d.BigInt())
		createdMs += v[4].Int*1000 + int64(v[4].Nano)/1e6
		days += v[5].Int
		active += v[6].Int
		nameLen += int64(len([]rune(v[1].Str)))
		if !v[9].IsNull() {
			parents++
		}
	}
	got := duckQuery(t, fmt.Sprintf(`SELECT count(*)::VARCHAR, count(DISTINCT id)::VARCHAR, sum(qty)::VARCHAR,
		sum(price)::VARCHAR, sum(epoch_ms(created_at))::VARCHAR, sum(day - DATE '1970-01-01')::VARCHAR,
		sum(active::INT)::VARCHAR, count(parent_id)::VARCHAR, sum(length(name))::VARCHAR
		FROM read_parquet('%s')`, filepath.Join(dir, "bench/rows/*.parquet")))
	want := []string{"20000", "20000", fmt.Sprint(qty), decText(price, 2), fmt.Sprint(createdMs), fmt.Sprint(days),
		fmt.Sprint(active), fmt.Sprint(parents), fmt.Sprint(nameLen)}
	if fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("DuckDB aggregates\n got %v\nwant %v", got[0], want)
	}
}
