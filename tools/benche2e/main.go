// Command benche2e measures an end-to-end full load: it generates a CSV data
// set of the requested size in a local directory (reused when present), runs
// `sluice run --once` on it with the file target, and reports rows/s, MB/s,
// wall time and the peak RSS of the sluice process (from rusage).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluicedata/sluice/source/s3csv"
	"github.com/sluicedata/sluice/tabledefs"
)

func main() {
	bin := flag.String("sluice", "bin/sluice", "sluice binary")
	dir := flag.String("dir", "out/bench/e2e", "work folder (data is cached here)")
	sizeMB := flag.Int("mb", 1024, "size of the generated data set in MB")
	files := flag.Int("files", 8, "number of CSV files the data set is split into")
	keep := flag.Bool("keep-output", false, "keep the file target's output")
	flag.Parse()
	if err := run(context.Background(), *bin, *dir, *sizeMB, *files, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "benche2e:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, dir string, sizeMB, files int, keep bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	data := filepath.Join(abs, fmt.Sprintf("data-%dmb", sizeMB))
	rows, bytes, err := ensureData(data, int64(sizeMB)<<20, files)
	if err != nil {
		return err
	}
	if err := writeTask(abs, data); err != nil {
		return err
	}
	out := filepath.Join(abs, "records.jsonl")
	_ = os.Remove(out)
	_ = os.RemoveAll(filepath.Join(abs, "state"))

	cmd := exec.CommandContext(ctx, bin, "--log-format", "json", "run", "--once", filepath.Join(abs, "task.json"))
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("sluice run: %w", err)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var maxRSS int64
	if ru != nil {
		maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	outLines, err := countLines(out)
	if err != nil {
		return err
	}
	fmt.Printf("data set:   %d rows, %.1f MB in %d files (%s)\n", rows, float64(bytes)/1e6, files, data)
	fmt.Printf("output:     %d records in %s\n", outLines, out)
	fmt.Printf("wall:       %.2f s\n", wall.Seconds())
	fmt.Printf("rows/s:     %.0f\n", float64(rows)/wall.Seconds())
	fmt.Printf("MB/s:       %.1f\n", float64(bytes)/1e6/wall.Seconds())
	fmt.Printf("peak RSS:   %.1f MiB\n", float64(maxRSS)/(1<<20))
	fmt.Printf("user+sys:   %.2f s CPU\n", cmd.ProcessState.UserTime().Seconds()+cmd.ProcessState.SystemTime().Seconds())
	if outLines < rows {
		return fmt.Errorf("only %d of %d rows arrived", outLines, rows)
	}
	if !keep {
		_ = os.Remove(out)
	}
	return nil
}

// ensureData generates the data set once; a marker file records its size.
func ensureData(dir string, size int64, files int) (rows, bytes int64, err error) {
	marker := filepath.Join(dir, "COMPLETE")
	if b, err := os.ReadFile(marker); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			r, _ := strconv.ParseInt(f[0], 10, 64)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return r, n, nil
		}
	}
	tdir := filepath.Join(dir, "bench", "rows")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return 0, 0, err
	}
	// Measure the average row size on a sample, then generate per file.
	var sample countWriter
	const sampleRows = 10000
	if err := s3csv.GenerateBenchCSV(&sample, sampleRows, 1); err != nil {
		return 0, 0, err
	}
	perFile := size / int64(files) / (sample.n / sampleRows)
	for i := range files {
		path := filepath.Join(tdir, fmt.Sprintf("LOAD%08d.csv", i+1))
		f, err := os.Create(path)
		if err != nil {
			return 0, 0, err
		}
		w := &countWriter{w: bufio.NewWriterSize(f, 1<<20)}
		if err := s3csv.GenerateBenchCSV(w, int(perFile), int64(i+1)); err != nil {
			f.Close()
			return 0, 0, fmt.Errorf("generating %s: %w", path, err)
		}
		if err := w.w.(*bufio.Writer).Flush(); err != nil {
			f.Close()
			return 0, 0, err
		}
		if err := f.Close(); err != nil {
			return 0, 0, err
		}
		rows += perFile
		bytes += w.n
	}
	return rows, bytes, os.WriteFile(marker, fmt.Appendf(nil, "%d %d\n", rows, bytes), 0o644)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.w == nil {
		return len(p), nil
	}
	return c.w.Write(p)
}

func writeTask(dir, data string) error {
	t := s3csv.BenchTable()
	cols := make([]map[string]any, len(t.Columns))
	for i, c := range t.Columns {
		m := map[string]any{"ColumnName": c.Name, "ColumnType": c.Type.String(),
			"ColumnNullable": c.Nullable, "ColumnIsPk": c.IsPK}
		if c.Length > 0 {
			m["ColumnLength"] = c.Length
		}
		if c.Type == tabledefs.TypeNumeric {
			m["ColumnPrecision"] = c.Precision
		}
		if c.Type == tabledefs.TypeNumeric || (c.Type == tabledefs.TypeDateTime && c.Scale > 0) {
			m["ColumnScale"] = c.Scale
		}
		if c.DateFormat != "" {
			m["ColumnDateFormat"] = c.DateFormat
		}
		cols[i] = m
	}
	defs := map[string]any{"TableCount": 1, "Tables": []any{map[string]any{
		"TableName": "rows", "TablePath": "bench/rows/", "TableOwner": "bench", "TableColumns": cols}}}
	task := map[string]any{
		"ReplicationTaskIdentifier": "bench-e2e",
		"MigrationType":             "full-load",
		"SourceEndpoint": map[string]any{"EngineName": "s3", "S3Settings": map[string]any{
			"BucketName": "file://" + data, "ExternalTableDefinition": "file://tabledefs.json"}},
		"TargetEndpoints": []any{map[string]any{"EngineName": "file",
			"FileSettings": map[string]any{"Path": "records.jsonl"}, "KinesisSettings": map[string]any{"MessageFormat": "json-unformatted"}}},
		"TableMappings": map[string]any{"rules": []any{map[string]any{"rule-type": "selection", "rule-id": "1",
			"rule-name": "all", "rule-action": "include", "object-locator": map[string]any{"schema-name": "bench", "table-name": "%"}}}},
		"StateLocation": "file://state",
	}
	for name, v := range map[string]any{"tabledefs.json": defs, "task.json": task} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("the file target wrote nothing at %s", path)
		}
		return 0, err
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		for _, b := range buf[:k] {
			if b == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
