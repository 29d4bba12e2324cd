package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// checkTaskFile writes a task whose endpoints are all local: a directory
// bucket (dataDir, relative to the task file) with one table's files, and a
// file target.
func checkTaskFile(t *testing.T, dataDir string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data", "shop", "items"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "shop", "items", "1.csv"), []byte("a,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	task := fmt.Sprintf(`{
  "ReplicationTaskIdentifier": "chk", "MigrationType": "full-load",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file://%s", "ExternalTableDefinition": {
    "TableCount": 1, "Tables": [{"TableName": "items", "TablePath": "shop/items/", "TableOwner": "shop",
      "TableColumns": [{"ColumnName": "sku", "ColumnType": "STRING", "ColumnLength": 20, "ColumnIsPk": true},
                       {"ColumnName": "qty", "ColumnType": "INT4"}], "TableColumnsTotal": 2}]}}},
  "TargetEndpoints": [{"EngineName": "file", "FileSettings": {"Path": "out.jsonl"}}],
  "TableMappings": {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
    "object-locator": {"schema-name": "shop", "table-name": "%%"}, "rule-action": "include"}]}
}`, dataDir)
	path := filepath.Join(dir, "task.json")
	if err := os.WriteFile(path, []byte(task), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCheck(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), Options{Stdout: &out, Stderr: &errOut}, append([]string{"sluice", "check"}, args...))
	return code, out.String(), errOut.String()
}

func TestCheckCommandText(t *testing.T) {
	ok := checkTaskFile(t, "data")
	dir := filepath.Dir(ok)
	code, stdout, stderr := runCheck(t, ok)
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^ok   source file://` + regexp.QuoteMeta(dir) + `/data +directory readable: directory .* is readable  \(.*\)$`),
		regexp.MustCompile(`^ok   source file://\S+ +table mappings: 1 of 1 tables`),
		regexp.MustCompile(`^ok   source file://\S+ +BucketFolder has objects: first object shop/items/1.csv  \(`),
		regexp.MustCompile(`^ok   source file://\S+ +table shop.items has files: first object shop/items/1.csv  \(`),
		regexp.MustCompile(`^ok   target file:` + regexp.QuoteMeta(filepath.Join(dir, "out.jsonl")) + ` +file writable: does not exist yet`),
		regexp.MustCompile(`^ok   state file://` + regexp.QuoteMeta(filepath.Join(dir, ".sluice", "chk")) + ` +directory writable: does not exist yet; .*no checkpoint yet`),
		regexp.MustCompile(`^` + regexp.QuoteMeta(ok) + `: 6 checks, 6 passed, 0 failed$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i+1, lines[i], re)
		}
	}
	// Endpoint columns are aligned: every check name starts at one column.
	col := strings.Index(lines[0], "directory readable")
	if strings.Index(lines[4], "file writable") != col {
		t.Errorf("columns not aligned:\n%s", stdout)
	}

	bad := checkTaskFile(t, "missing")
	code, stdout, stderr = runCheck(t, bad)
	if code != ExitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stdout, "FAIL source file://") || !strings.Contains(stdout, "missing does not exist") ||
		!strings.Contains(stdout, ": 4 checks, 3 passed, 1 failed\n") {
		t.Errorf("stdout:\n%s", stdout)
	}
	if stderr != "sluice: 1 of 4 checks failed\n" {
		t.Errorf("stderr %q", stderr)
	}
}

func TestCheckCommandJSON(t *testing.T) {
	for _, tt := range []struct {
		data   string
		code   int
		ok     bool
		checks int
	}{{"data", ExitOK, true, 6}, {"missing", ExitFailed, false, 4}} {
		path := checkTaskFile(t, tt.data)
		code, stdout, _ := runCheck(t, path, "--json")
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d", tt.data, code, tt.code)
		}
		var rep jsonCheckReport
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("not the JSON report: %v\n%s", err, stdout)
		}
		if rep.OK != tt.ok || len(rep.Checks) != tt.checks || rep.Problems != nil {
			t.Errorf("%s: report %+v", tt.data, rep)
		}
		failed := 0
		for _, c := range rep.Checks {
			if c.Endpoint == "" || c.Check == "" || c.DurationMS < 0 {
				t.Errorf("incomplete check %+v", c)
			}
			if !c.OK {
				failed++
			}
		}
		if (failed == 0) != tt.ok {
			t.Errorf("%s: ok=%v with %d failed checks", tt.data, rep.OK, failed)
		}
	}
}

func TestCheckCommandInvalidTask(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		// The problems are printed as validate prints them; nothing is contacted.
		{[]string{"invalid/targets.json"}, ExitFailed,
			"invalid/targets.json:$.TargetEndpoints[2].EngineName: must be one of \"kinesis\", \"s3\", \"file\", not \"kafka\"\n",
			"sluice: 14 problems in invalid/targets.json\n"},
		{[]string{"mapping-bad-column/task.json"}, ExitFailed, "mapping-bad-column/table-mappings.json:$.rules[1]", "problem"},
		{[]string{"--json", "mapping-bad-column/task.json"}, ExitFailed, `"problems": [`, "1 problem in mapping-bad-column/task.json"},
		{[]string{"no/such/task.json"}, ExitUsage, "", "sluice: reading task file: open no/such/task.json: no such file or directory"},
		{nil, ExitUsage, "", "missing TASK.json argument (usage: sluice check [--json] TASK.json)"},
		{[]string{"a.json", "b.json"}, ExitUsage, "", "expected one TASK.json argument, got 2"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"check"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode == ExitUsage && stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
		})
	}
}

func TestCheckDuration(t *testing.T) {
	for d, want := range map[int64]string{0: "<1ms", 1_499_999: "1ms", 12_345_678: "12ms", 1_234_567_890: "1.23s"} {
		if got := checkDuration(time.Duration(d)); got != want {
			t.Errorf("checkDuration(%d) = %q, want %q", d, got, want)
		}
	}
}
