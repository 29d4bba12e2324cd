package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// run runs the command line in-process from testdata/tasks, so file names
// in the output are the ones given on the command line.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Chdir("../../../../testdata/tasks")
	var out, errOut bytes.Buffer
	code = Run(context.Background(), Options{Version: "v1.2.3-test", Stdout: &out, Stderr: &errOut}, append([]string{"sluice"}, args...))
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr []string
		noStdout   bool
	}{
		{name: "valid task with file references", args: []string{"validate", "task", "valid-files/task.json"},
			wantCode:   ExitOK,
			wantStdout: []string{"valid-files/task.json: valid (task orders-to-kinesis, full-load-and-cdc from s3 to kinesis, s3, file)\n"},
			wantStderr: []string{"note: valid-files/task-settings.json:$.CharacterSetSettings has no effect in sluice"}},
		{name: "valid inline task", args: []string{"validate", "task", "valid-inline/task.json"},
			wantCode: ExitOK, wantStdout: []string{"valid-inline/task.json: valid (task inline1, full-load from s3 to file)"}},
		{name: "invalid task", args: []string{"validate", "task", "invalid/targets.json"},
			wantCode:   ExitFailed,
			wantStdout: []string{"invalid/targets.json:$.TargetEndpoints[2].EngineName: must be one of \"kinesis\", \"s3\", \"file\", not \"kafka\"\n"},
			wantStderr: []string{"sluice: 14 problems in invalid/targets.json\n"}},
		{name: "problems in referenced files", args: []string{"validate", "task", "invalid/references.json"},
			wantCode: ExitFailed,
			wantStdout: []string{
				"invalid/docs/bad-tabledefs.json:$.Tables[0].TableColumns[0].ColumnType: unknown column type \"INTEGER\"",
				"invalid/references.json:$.TableMappings: cannot read invalid/docs/missing-mappings.json: no such file or directory\n",
				"invalid/docs/bad-settings.json:$.FullLoadSettings.MaxFullLoadSubTask: unknown key (did you mean \"MaxFullLoadSubTasks\"?)\n",
			}},
		{name: "syntax error has line and column", args: []string{"validate", "task", "invalid/syntax.json"},
			wantCode: ExitFailed, wantStdout: []string{"invalid/syntax.json:3:32: invalid JSON"},
			wantStderr: []string{"sluice: 1 problem in invalid/syntax.json\n"}},
		{name: "mapping names a missing column", args: []string{"validate", "task", "mapping-bad-column/task.json"},
			wantCode: ExitFailed, wantStdout: []string{"mapping-bad-column/table-mappings.json:$.rules[1]", "nosuch"}},
		{name: "inline mapping names a missing column", args: []string{"validate", "task", "mapping-inline-bad/task.json"},
			wantCode:   ExitFailed,
			wantStdout: []string{"mapping-inline-bad/task.json:$.TableMappings.rules[1].object-locator.column-name: ", `"ghost"`},
			wantStderr: []string{"sluice: 1 problem in mapping-inline-bad/task.json\n"}},
		{name: "postgres task", args: []string{"validate", "task", "valid-postgres/task.json"},
			wantCode:   ExitOK,
			wantStdout: []string{"valid-postgres/task.json: valid (task pg-orders, full-load-and-cdc from postgres to kinesis)"},
			wantStderr: []string{"table mappings are checked against a PostgreSQL source by `sluice check`"}},
		{name: "unreadable task file", args: []string{"validate", "task", "no/such/task.json"},
			wantCode: ExitUsage, noStdout: true, wantStderr: []string{"sluice: reading task file: open no/such/task.json: no such file or directory"}},
		{name: "valid tabledefs", args: []string{"validate", "tabledefs", "valid-files/tabledefs.json"},
			wantCode: ExitOK, wantStdout: []string{"valid-files/tabledefs.json: valid (2 tables)\n"}},
		{name: "invalid tabledefs", args: []string{"validate", "tabledefs", "invalid/docs/bad-tabledefs.json"},
			wantCode:   ExitFailed,
			wantStdout: []string{"invalid/docs/bad-tabledefs.json:$.TableCount: is 2 but Tables has 1 entries\n"},
			wantStderr: []string{"sluice: 2 problems in invalid/docs/bad-tabledefs.json\n"}},
		{name: "unreadable tabledefs", args: []string{"validate", "tabledefs", "missing.json"},
			wantCode: ExitUsage, noStdout: true, wantStderr: []string{"missing.json", "no such file or directory"}},
		{name: "missing argument", args: []string{"validate", "task"},
			wantCode: ExitUsage, noStdout: true, wantStderr: []string{"missing TASK.json argument (usage: sluice validate task [--json] TASK.json)"}},
		{name: "two arguments", args: []string{"validate", "tabledefs", "a.json", "b.json"},
			wantCode: ExitUsage, wantStderr: []string{"expected one FILE argument, got 2: a.json b.json"}},
		{name: "unknown flag", args: []string{"validate", "task", "--strict", "x.json"},
			wantCode: ExitUsage, wantStderr: []string{"flag provided but not defined: -strict"}},
		{name: "unknown command", args: []string{"valdate", "task", "x.json"},
			wantCode: ExitUsage, wantStderr: []string{`unknown command "valdate"; commands: run, status, validate, check, version (did you mean "validate"?)`}},
		{name: "unknown validate subcommand", args: []string{"validate", "tabledef", "x.json"},
			wantCode: ExitUsage, wantStderr: []string{`unknown command "tabledef"; commands: task, tabledefs (did you mean "tabledefs"?)`}},
		{name: "validate without subcommand", args: []string{"validate"},
			wantCode: ExitUsage, wantStdout: []string{"COMMANDS:", "tabledefs"}, wantStderr: []string{"validate needs a subcommand"}},
		{name: "no command", args: nil,
			wantCode: ExitUsage, wantStdout: []string{"USAGE:"}, wantStderr: []string{"sluice: no command given"}},
		{name: "bad log format", args: []string{"--log-format", "xml", "version"},
			wantCode: ExitUsage, noStdout: true, wantStderr: []string{`--log-format must be text or json, not "xml"`}},
		{name: "bad log level", args: []string{"--log-level", "loud", "version"},
			wantCode: ExitUsage, wantStderr: []string{`--log-level must be debug, info, warn or error, not "loud"`}},
		{name: "version", args: []string{"--log-format", "json", "version"},
			wantCode: ExitOK, wantStdout: []string{"sluice v1.2.3-test", "(go1."}},
		{name: "help", args: []string{"--help"},
			wantCode: ExitOK, wantStdout: []string{"Exit codes: 0 success", "validate", "version", "--log-format"}},
		{name: "validate task help", args: []string{"validate", "task", "--help"},
			wantCode: ExitOK, wantStdout: []string{"sluice validate task [command options] TASK.json", "Example:", "Exit codes: 0 valid; 1 invalid; 2 usage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.noStdout && stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
		})
	}
}

// TestValidateTaskPrintsEveryProblem checks the whole stdout against the
// golden problems of the task package's tests: one line per problem, in order.
func TestValidateTaskPrintsEveryProblem(t *testing.T) {
	for _, name := range []string{"settings", "s3-source", "postgres", "inline-text"} {
		t.Run(name, func(t *testing.T) {
			golden, err := os.ReadFile(filepath.Join("../../../../testdata/tasks/invalid", name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(string(golden), "../testdata/tasks/", "")
			code, stdout, stderr := run(t, "validate", "task", "invalid/"+name+".json")
			if code != ExitFailed || stdout != want {
				t.Errorf("exit %d; stdout:\n%s\nwant:\n%s", code, stdout, want)
			}
			n := strings.Count(want, "\n")
			if !strings.HasSuffix(stderr, "problems in invalid/"+name+".json\n") || !strings.Contains(stderr, "sluice: "+strconv.Itoa(n)+" ") {
				t.Errorf("stderr %q, want a count of %d", stderr, n)
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	tests := []struct {
		args      []string
		wantCode  int
		wantValid bool
		wantFirst jsonProblem
		wantN     int
	}{
		{[]string{"validate", "task", "--json", "valid-inline/task.json"}, ExitOK, true, jsonProblem{}, 0},
		// --json after the file works too.
		{[]string{"validate", "task", "invalid/syntax.json", "--json"}, ExitFailed, false,
			jsonProblem{File: "invalid/syntax.json", Line: 3, Col: 32,
				Message: "invalid JSON: invalid character ',' looking for beginning of object key string"}, 1},
		{[]string{"validate", "tabledefs", "--json", "invalid/docs/bad-tabledefs.json"}, ExitFailed, false,
			jsonProblem{File: "invalid/docs/bad-tabledefs.json", Path: "$.TableCount", Message: "is 2 but Tables has 1 entries"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, _ := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d", code, tt.wantCode)
			}
			var r jsonReport
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
			}
			if r.Valid != tt.wantValid || len(r.Problems) != tt.wantN || r.Problems == nil {
				t.Fatalf("report %+v", r)
			}
			if tt.wantN > 0 && r.Problems[0] != tt.wantFirst {
				t.Errorf("first problem %+v, want %+v", r.Problems[0], tt.wantFirst)
			}
			if tt.wantValid && !strings.Contains(stdout, `"problems": []`) {
				t.Errorf("a valid report must carry an empty problems array:\n%s", stdout)
			}
		})
	}
}
