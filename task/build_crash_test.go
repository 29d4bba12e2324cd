package task

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "SLUICE_TASK_CRASH_CHILD"

// TestCrashChild is the child process of TestKill9Resume: it runs the task
// file named by the environment with --once.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("child process of TestKill9Resume only")
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, RunOptions{Once: true, Log: discardLog()})
	if err != nil {
		t.Fatalf("%v %+v", err, res)
	}
}

// TestKill9Resume kills the whole process (SIGKILL) at random moments of a
// full-load-and-cdc run into the file target, restarts it each time, and
// checks the output: every row arrived at least once and, per key, changes
// first arrived in source order.
func TestKill9Resume(t *testing.T) {
	if testing.Short() || raceEnabled || os.Getenv(crashChildEnv) != "" {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	const loadRows, files, perFile, keys = 300000, 3, 10000, 50
	for f := range files {
		var b strings.Builder
		for i := range loadRows / files {
			id := f*(loadRows/files) + i
			fmt.Fprintf(&b, "L%05d,%d\n", id, id)
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("data/shop/items/LOAD%04d.csv", f)), b.String())
	}
	const cdcFiles = 4
	seq := 0
	for f := range cdcFiles {
		var b strings.Builder
		for range perFile / 2 {
			seq++
			fmt.Fprintf(&b, "U,items,shop,K%02d,%d\n", seq%keys, seq)
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("data/cdc/CDC%05d.csv", f)), b.String())
	}
	writeFile(t, filepath.Join(dir, "task.json"), `{
  "ReplicationTaskIdentifier": "crash",
  "MigrationType": "full-load-and-cdc",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file://data", "CdcPath": "cdc",
    "ExternalTableDefinition": {"TableCount": 1, "Tables": [{"TableName": "items", "TablePath": "shop/items/", "TableOwner": "shop",
      "TableColumns": [{"ColumnName": "sku", "ColumnType": "STRING", "ColumnLength": 20, "ColumnIsPk": true},
                       {"ColumnName": "qty", "ColumnType": "INT4"}], "TableColumnsTotal": 2}]}}},
  "TargetEndpoints": [{"EngineName": "file", "FileSettings": {"Path": "out.jsonl"}}],
  "TableMappings": {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
    "object-locator": {"schema-name": "shop", "table-name": "%"}, "rule-action": "include"}]}
}`)
	rng := rand.New(rand.NewPCG(7, 11))
	run := func(kill time.Duration) (killed bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+filepath.Join(dir, "task.json"))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var timeout <-chan time.Time
		if kill > 0 {
			timeout = time.After(kill)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, out.String())
			}
			return false
		case <-timeout:
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return true
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("child hung:\n%s", out.String())
		}
		return false
	}
	// Kill until a run gets to the end by itself, then once more unkilled.
	var kills []time.Duration
	for len(kills) < 8 {
		at := time.Duration(30+rng.IntN(220)) * time.Millisecond
		if !run(at) {
			break
		}
		kills = append(kills, at)
	}
	run(0)
	t.Logf("killed at %v", kills)
	if len(kills) < 2 {
		t.Fatalf("only %d kills: the data set is too small to test anything", len(kills))
	}

	lines, torn := readTornJSONLines(t, filepath.Join(dir, "out.jsonl"))
	if torn > 0 {
		t.Fatalf("%d torn lines after kill -9: the file target must cut a partial last line when it reopens", torn)
	}
	loaded := map[string]int{}
	firstSeen := map[int]bool{}
	lastQty := map[string]int{}
	for _, l := range lines {
		d, _ := l["Data"].(map[string]any)
		meta, _ := d["metadata"].(map[string]any)
		data, _ := d["data"].(map[string]any)
		if meta["record-type"] != "data" {
			continue
		}
		sku := fmt.Sprint(data["sku"])
		qty, _ := strconv.Atoi(fmt.Sprint(data["qty"]))
		switch meta["operation"] {
		case "load":
			loaded[sku]++
		case "update":
			if firstSeen[qty] {
				continue // a re-delivery
			}
			firstSeen[qty] = true
			if qty < lastQty[sku] {
				t.Fatalf("key %s: change %d first arrived after change %d", sku, qty, lastQty[sku])
			}
			lastQty[sku] = qty
		}
	}
	if len(loaded) != loadRows {
		t.Fatalf("%d of %d full-load rows arrived", len(loaded), loadRows)
	}
	if len(firstSeen) != seq {
		t.Fatalf("%d of %d changes arrived", len(firstSeen), seq)
	}
	st, err := LoadStatus(context.Background(), "file://"+filepath.Join(dir, ".sluice", "crash"))
	if err != nil {
		t.Fatal(err)
	}
	if ts := st.Stats.Tables[0]; ts.FullLoadRows != loadRows || ts.Updates != int64(seq) {
		t.Fatalf("statistics count rows once: %+v", ts)
	}
}

// readTornJSONLines reads a JSON-lines file in which a killed writer may
// have left a partial line that the next run appended to: such a line is
// counted and its last complete object kept.
func readTornJSONLines(t *testing.T, path string) ([]map[string]any, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	torn := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			i := strings.LastIndex(line, `{"PartitionKey":`)
			if i <= 0 || json.Unmarshal([]byte(line[i:]), &m) != nil {
				t.Fatalf("unreadable line %q", line)
			}
			torn++
		}
		out = append(out, m)
	}
	return out, torn
}
