package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runHere runs the command line in-process in the current directory.
func runHere(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Run(context.Background(), Options{Version: "test", Stdout: &out, Stderr: &errOut}, append([]string{"sluice"}, args...))
	return code, out.String(), errOut.String()
}

// localTask writes a one-table full-load task reading dir/data (a
// file:// bucket) into a file target, with its state in dir/state.
func localTask(t *testing.T, withData bool) string {
	t.Helper()
	dir := t.TempDir()
	if withData {
		p := filepath.Join(dir, "data", "shop", "items")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "LOAD00000001.csv"), []byte("a,1\nb,2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc := map[string]any{
		"ReplicationTaskIdentifier": "cli1",
		"MigrationType":             "full-load",
		"SourceEndpoint": map[string]any{"EngineName": "s3", "S3Settings": map[string]any{
			"BucketName": "file://" + filepath.Join(dir, "data"),
			"ExternalTableDefinition": map[string]any{"TableCount": 1, "Tables": []any{map[string]any{
				"TableName": "items", "TablePath": "shop/items/", "TableOwner": "shop",
				"TableColumns": []any{
					map[string]any{"ColumnName": "sku", "ColumnType": "STRING", "ColumnLength": 20, "ColumnIsPk": true},
					map[string]any{"ColumnName": "qty", "ColumnType": "INT4"}},
				"TableColumnsTotal": 2}}}}},
		"TargetEndpoints": []any{map[string]any{"EngineName": "file", "FileSettings": map[string]any{"Path": filepath.Join(dir, "out.jsonl")}}},
		"TableMappings":   `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"shop","table-name":"%"},"rule-action":"include"}]}`,
		"StateLocation":   "file://" + filepath.Join(dir, "state"),
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "task.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestRunFlagsAfterFileAndProgressInLogs: `run TASK.json --once` is
// accepted like status and validate accept flags after the file, and
// without a terminal progress goes to the log.
func TestRunFlagsAfterFileAndProgressInLogs(t *testing.T) {
	file := localTask(t, true)
	code, stdout, stderr := runHere("run", file, "--once", "--grace-timeout", "5s")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "msg=progress") || !strings.Contains(stderr, "rows=2") {
		t.Errorf("no progress log line:\n%s", stderr)
	}
	if !strings.Contains(stdout, "task stopped") || !strings.Contains(stdout, "Table completed") {
		t.Errorf("summary:\n%s", stdout)
	}
	if code, _, stderr := runHere("run", file, "--bogus"); code != ExitUsage || !strings.Contains(stderr, "bogus") {
		t.Errorf("unknown flag after the file: exit %d %s", code, stderr)
	}
}

// TestRunFailurePrintedOnce: a run that fails before any table started
// prints its error once and no empty statistics table.
func TestRunFailurePrintedOnce(t *testing.T) {
	file := localTask(t, false)
	if err := os.MkdirAll(filepath.Join(filepath.Dir(file), "state", "exceptions.jsonl"), 0o755); err != nil {
		t.Fatal(err) // a directory where the exceptions file goes: the run fails before any data moves
	}
	code, stdout, stderr := runHere("run", "--once", file)
	if code != ExitFailed {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if n := strings.Count(stdout+stderr, "opening exceptions file"); n != 1 {
		t.Errorf("error printed %d times\nstdout:\n%s\nstderr:\n%s", n, stdout, stderr)
	}
	if strings.Contains(stdout, "SchemaName") {
		t.Errorf("empty statistics table printed:\n%s", stdout)
	}
}
