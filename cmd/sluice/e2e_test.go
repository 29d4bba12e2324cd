package main

// End-to-end tests of the real binary against the stand-ins started by
// scripts/with-infra.sh (gofakes3 for the S3 source, kinesalite for the
// Kinesis target). They skip when S3_ENDPOINT or KINESIS_ENDPOINT is unset.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicedata/sluice/source/s3csv"
	"github.com/sluicedata/sluice/target/kinesis/kinesistest"
)

var sluiceBin string // built once by TestMain

func TestMain(m *testing.M) {
	code := func() int {
		if os.Getenv("S3_ENDPOINT") == "" || os.Getenv("KINESIS_ENDPOINT") == "" {
			return m.Run() // every test here skips
		}
		dir, err := os.MkdirTemp("", "sluice-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		sluiceBin = filepath.Join(dir, "sluice")
		out, err := exec.Command("go", "build", "-o", sluiceBin, ".").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building sluice: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

type standIns struct {
	s3            *s3.Client
	kin           *kinesis.Client
	s3URL, kinURL string
}

func needStandIns(t *testing.T) standIns {
	t.Helper()
	s3URL, kinURL := os.Getenv("S3_ENDPOINT"), os.Getenv("KINESIS_ENDPOINT")
	if s3URL == "" || kinURL == "" {
		t.Skip("S3_ENDPOINT and KINESIS_ENDPOINT not set (run under scripts/with-infra.sh)")
	}
	ctx := context.Background()
	sc, err := s3csv.NewS3Client(ctx, s3URL)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kinesistest.Client(ctx, kinURL)
	if err != nil {
		t.Fatal(err)
	}
	return standIns{s3: sc, kin: kc, s3URL: s3URL, kinURL: kinURL}
}

// uniqueName makes bucket and stream names that never repeat across tests.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, rand.IntN(1e6))
}

func (si standIns) upload(t *testing.T, bucket string, files map[string]string) {
	t.Helper()
	ctx := context.Background()
	if _, err := si.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	for key, body := range files {
		if _, err := si.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: strings.NewReader(body)}); err != nil {
			t.Fatalf("uploading %s: %v", key, err)
		}
	}
}

func (si standIns) stream(t *testing.T, shards int32) string {
	t.Helper()
	name := uniqueName("e2e")
	if err := kinesistest.CreateStream(context.Background(), si.kin, name, shards); err != nil {
		t.Fatal(err)
	}
	return name
}

func (si standIns) readBack(t *testing.T, stream string) []message {
	t.Helper()
	recs, err := kinesistest.ReadAll(context.Background(), si.kin, stream)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]message, len(recs))
	for i, r := range recs {
		out[i].Key = r.PartitionKey
		out[i].Raw = string(r.Data)
		if err := json.Unmarshal(r.Data, &out[i]); err != nil {
			t.Fatalf("record %d is not JSON: %v\n%s", i, err, r.Data)
		}
	}
	return out
}

// message is a DMS Kinesis record as read back.
type message struct {
	Key      string
	Raw      string
	Data     map[string]any `json:"data"`
	Control  map[string]any `json:"control"`
	Metadata struct {
		RecordType string `json:"record-type"`
		Operation  string `json:"operation"`
		Schema     string `json:"schema-name"`
		Table      string `json:"table-name"`
		KeyType    string `json:"partition-key-type"`
		Position   string `json:"stream-position"`
	} `json:"metadata"`
}

// sluice runs the binary and returns its exit code and combined output.
func sluice(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(sluiceBin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		t.Fatalf("running sluice: %v", err)
	}
	return 0, out.String()
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// demoFiles reads testdata/demo/bucket as object keys → contents.
func demoFiles(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("..", "..", "testdata", "demo", "bucket")
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestBinaryDemoTask runs the demo's task (three tables, two full-load files
// each, two CDC files, two bad lines) through the binary into kinesalite and
// the file target and checks what arrived.
func TestBinaryDemoTask(t *testing.T) {
	si := needStandIns(t)
	bucket, stream := uniqueName("demo"), si.stream(t, 2)
	si.upload(t, bucket, demoFiles(t))
	dir := t.TempDir()
	demo, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "demo"))
	writeJSON(t, filepath.Join(dir, "task.json"), map[string]any{
		"ReplicationTaskIdentifier": "demo",
		"MigrationType":             "full-load-and-cdc",
		"SourceEndpoint": map[string]any{"EngineName": "s3", "EndpointUrl": si.s3URL, "S3Settings": map[string]any{
			"BucketName": bucket, "BucketFolder": "exports", "CdcPath": "cdc",
			"ExternalTableDefinition": "file://" + filepath.Join(demo, "tabledefs.json")}},
		"TargetEndpoints": []any{
			map[string]any{"EngineName": "kinesis", "EndpointUrl": si.kinURL, "KinesisSettings": map[string]any{
				"StreamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/" + stream, "IncludeTransactionDetails": true}},
			map[string]any{"EngineName": "file", "FileSettings": map[string]any{"Path": "records.jsonl"}},
		},
		"TableMappings":           "file://" + filepath.Join(demo, "table-mappings.json"),
		"ReplicationTaskSettings": "file://" + filepath.Join(demo, "task-settings.json"),
		"StateLocation":           "file://state",
	})

	if code, out := sluice(t, dir, "validate", "task", "task.json"); code != 0 {
		t.Fatalf("validate exited %d:\n%s", code, out)
	}
	code, out := sluice(t, dir, "run", "--once", "task.json")
	if code != 3 {
		t.Fatalf("run exited %d, want 3 (finished with rejected rows):\n%s", code, out)
	}
	msgs := si.readBack(t, stream)

	count := map[string]int{}
	byKey := map[string][]message{}
	for _, m := range msgs {
		count[m.Metadata.Table+" "+m.Metadata.Operation]++
		byKey[m.Key] = append(byKey[m.Key], m)
	}
	want := map[string]int{
		"customers drop-table": 1, "customers create-table": 1, "customers load": 5, "customers update": 1,
		"orders drop-table": 1, "orders create-table": 1, "orders load": 6, "orders insert": 1, "orders update": 1, "orders delete": 1,
		"products drop-table": 1, "products create-table": 1, "products load": 3, "products insert": 1,
	}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("records per table and operation:\n got %v\nwant %v", count, want)
	}
	if len(msgs) != 25 {
		t.Errorf("%d records, want 25 (no duplicates in a run without failures)", len(msgs))
	}

	// Object mapping: orders are keyed by customer_id; customers by the
	// composite primary key in column order; the email column is removed.
	for _, m := range msgs {
		switch {
		case m.Metadata.RecordType == "control":
			if m.Key != "demo.sales."+m.Metadata.Table || m.Metadata.KeyType != "task-id" {
				t.Errorf("control record key %q type %q", m.Key, m.Metadata.KeyType)
			}
		case m.Metadata.Table == "orders":
			if m.Key != fmt.Sprint(m.Data["customer_id"]) || m.Metadata.KeyType != "attribute-name" {
				t.Errorf("orders record keyed %q (%s), want its customer_id %v", m.Key, m.Metadata.KeyType, m.Data["customer_id"])
			}
		case m.Metadata.Table == "customers" && m.Metadata.Operation == "load":
			if want := fmt.Sprintf("%v.%v", m.Data["customer_id"], m.Data["region"]); m.Key != want {
				t.Errorf("customers record keyed %q, want %q", m.Key, want)
			}
			if _, ok := m.Data["email"]; ok {
				t.Errorf("customers record still has the removed email column: %s", m.Raw)
			}
		case m.Metadata.Operation == "update" || m.Metadata.Operation == "insert" || m.Metadata.Operation == "delete":
			if m.Metadata.Position == "" {
				t.Errorf("CDC record without stream-position (IncludeTransactionDetails): %s", m.Raw)
			}
		}
	}
	// Values survive exactly: a quoted multi-line note, a 12-digit decimal,
	// a DATETIME with milliseconds.
	var order1003 string
	for _, m := range byKey["1"] {
		if fmt.Sprint(m.Data["order_id"]) == "1003" {
			order1003 = m.Raw
		}
	}
	for _, s := range []string{`"note":"multi-line\nnote"`, `"total":9999999999.99`, `"ordered_at":"2024-05-02T18:45:59.999Z"`} {
		if !strings.Contains(strings.Join(strings.Fields(order1003), ""), strings.ReplaceAll(s, " ", "")) {
			t.Errorf("order 1003 lacks %s:\n%s", s, order1003)
		}
	}
	// Per key, the full-load row comes before its CDC change.
	ops := func(key string) string {
		var s []string
		for _, m := range byKey[key] {
			if m.Metadata.Table == "orders" && fmt.Sprint(m.Data["order_id"]) == "1004" {
				s = append(s, m.Metadata.Operation)
			}
		}
		return strings.Join(s, ",")
	}
	if got := ops("4"); got != "load,update" {
		t.Errorf("order 1004 arrived as %q, want load,update", got)
	}

	exc, err := os.ReadFile(filepath.Join(dir, "state", "exceptions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(exc), "\n"); n != 2 || !strings.Contains(string(exc), "not-a-date") || !strings.Contains(string(exc), "UPSERT") {
		t.Errorf("exceptions file has %d lines, want the bad DATETIME row and the UPSERT line:\n%s", n, exc)
	}
	fileRecs, err := os.ReadFile(filepath.Join(dir, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(fileRecs), "\n"); n != 25 {
		t.Errorf("file target has %d records, want 25", n)
	}

	code, out = sluice(t, dir, "status", "--json", "task.json")
	if code != 0 {
		t.Fatalf("status exited %d:\n%s", code, out)
	}
	var st struct {
		Stats struct {
			Status string
			Tables []struct {
				TableName                               string
				FullLoadRows, Inserts, Updates, Deletes int
				RejectedRows                            int
				TableState                              string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, tb := range st.Stats.Tables {
		got[tb.TableName] = fmt.Sprintf("load=%d ins=%d upd=%d del=%d rej=%d %s",
			tb.FullLoadRows, tb.Inserts, tb.Updates, tb.Deletes, tb.RejectedRows, tb.TableState)
	}
	wantSt := map[string]string{
		"customers": "load=5 ins=0 upd=1 del=0 rej=0 Table completed",
		"orders":    "load=6 ins=1 upd=1 del=1 rej=2 Table completed",
		"products":  "load=3 ins=1 upd=0 del=0 rej=0 Table completed",
	}
	if fmt.Sprint(got) != fmt.Sprint(wantSt) {
		t.Errorf("table statistics:\n got %v\nwant %v", got, wantSt)
	}

	// A second --once run finds nothing new: no record is sent again.
	if code, out := sluice(t, dir, "run", "--once", "task.json"); code != 0 {
		t.Fatalf("second run exited %d:\n%s", code, out)
	}
	if n := len(si.readBack(t, stream)); n != 25 {
		t.Errorf("after a second run the stream holds %d records, want still 25", n)
	}
}

// TestBinaryKill9Kinesis kills the binary with SIGKILL at random moments of
// a full-load-and-cdc run into kinesalite, restarts it until it finishes,
// and checks the stream: every row arrived, per key the changes first arrived
// in source order, and duplicates stay within what a checkpoint interval
// can hold in flight. Several seeds.
func TestBinaryKill9Kinesis(t *testing.T) {
	si := needStandIns(t)
	if testing.Short() {
		t.Skip("kills processes repeatedly")
	}
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { kill9Run(t, si, seed) })
	}
}

func kill9Run(t *testing.T, si standIns, seed uint64) {
	const loadFiles, perLoad, cdcFiles, perCDC, keys, commitRate = 3, 4000, 3, 2000, 97, 1000
	files := map[string]string{}
	for f := range loadFiles {
		var b strings.Builder
		for i := range perLoad {
			id := f*perLoad + i
			fmt.Fprintf(&b, "%d,0\n", id)
		}
		files[fmt.Sprintf("x/shop/items/LOAD%04d.csv", f)] = b.String()
	}
	version := 0
	for f := range cdcFiles {
		var b strings.Builder
		for range perCDC {
			version++
			fmt.Fprintf(&b, "U,items,shop,%d,%d\n", version%keys, version)
		}
		files[fmt.Sprintf("x/cdc/CDC%05d.csv", f)] = b.String()
	}
	bucket, stream := uniqueName("kill"), si.stream(t, 4)
	si.upload(t, bucket, files)
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "task.json"), map[string]any{
		"ReplicationTaskIdentifier": "kill9",
		"MigrationType":             "full-load-and-cdc",
		"SourceEndpoint": map[string]any{"EngineName": "s3", "EndpointUrl": si.s3URL, "S3Settings": map[string]any{
			"BucketName": bucket, "BucketFolder": "x", "CdcPath": "cdc",
			"ExternalTableDefinition": map[string]any{"TableCount": 1, "Tables": []any{map[string]any{
				"TableName": "items", "TablePath": "shop/items/", "TableOwner": "shop",
				"TableColumns": []any{
					map[string]any{"ColumnName": "id", "ColumnType": "INT8", "ColumnIsPk": true},
					map[string]any{"ColumnName": "version", "ColumnType": "INT8"},
				}}}}}},
		"TargetEndpoints": []any{map[string]any{"EngineName": "kinesis", "EndpointUrl": si.kinURL,
			"KinesisSettings": map[string]any{"StreamName": stream, "MessageFormat": "json-unformatted"}}},
		// Primary-key partitioning in CDC as well, so that per-key order
		// is checked across many keys and shards.
		"ReplicationTaskSettings": map[string]any{
			"TargetMetadata":   map[string]any{"ParallelApplyThreads": 4},
			"FullLoadSettings": map[string]any{"CommitRate": commitRate}},
		"TableMappings": map[string]any{"rules": []any{map[string]any{"rule-type": "selection", "rule-id": "1",
			"rule-name": "all", "rule-action": "include", "object-locator": map[string]any{"schema-name": "shop", "table-name": "%"}}}},
		"StateLocation": "file://state",
	})

	rng := rand.New(rand.NewPCG(seed, 99))
	var kills []time.Duration
	for {
		cmd := exec.Command(sluiceBin, "run", "--once", "task.json")
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var killAt <-chan time.Time
		at := time.Duration(50+rng.IntN(650)) * time.Millisecond
		if len(kills) < 6 {
			killAt = time.After(at)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run failed: %v\n%s", err, out.String())
			}
		case <-killAt:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills = append(kills, at)
			continue
		case <-time.After(3 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("run hung:\n%s", out.String())
		}
		break
	}
	t.Logf("seed %d: killed after %v", seed, kills)

	msgs := si.readBack(t, stream)
	loaded := map[string]bool{}
	seen := map[string]bool{}
	last := map[string]int{}
	dups := 0
	for _, m := range msgs {
		if m.Metadata.RecordType != "data" {
			continue
		}
		id, v := fmt.Sprint(m.Data["id"]), int(m.Data["version"].(float64))
		if m.Key != id {
			t.Fatalf("record keyed %q, want its primary key %s", m.Key, id)
		}
		switch m.Metadata.Operation {
		case "load":
			if loaded[id] {
				dups++
			}
			loaded[id] = true
		case "update":
			k := fmt.Sprint(v)
			if seen[k] {
				dups++
				continue
			}
			seen[k] = true
			if v < last[id] {
				t.Fatalf("key %s: change %d first arrived after change %d", id, v, last[id])
			}
			last[id] = v
		}
	}
	if len(loaded) != loadFiles*perLoad {
		t.Errorf("%d of %d full-load rows arrived", len(loaded), loadFiles*perLoad)
	}
	if len(seen) != version {
		t.Errorf("%d of %d changes arrived", len(seen), version)
	}
	// What can be re-sent after a kill is what was written since the last
	// checkpoint: at most CommitRate records plus the batches in hand.
	if limit := len(kills) * (commitRate + 4096); dups > limit {
		t.Errorf("%d duplicates after %d kills, more than the %d that can be in flight", dups, len(kills), limit)
	}
	t.Logf("seed %d: %d records, %d duplicates", seed, len(msgs), dups)
}

// TestBinaryTwoRunnersOneTask starts a CDC task that keeps running, then a
// second runner of the same task: it must refuse at once. SIGTERM then stops
// the first one cleanly (exit 0, checkpoint saved).
func TestBinaryTwoRunnersOneTask(t *testing.T) {
	si := needStandIns(t)
	bucket, stream := uniqueName("two"), si.stream(t, 1)
	si.upload(t, bucket, map[string]string{"f/cdc/CDC1.csv": "I,t,s,1\nI,t,s,2\n"})
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "task.json"), map[string]any{
		"ReplicationTaskIdentifier": "two",
		"MigrationType":             "cdc",
		"SourceEndpoint": map[string]any{"EngineName": "s3", "EndpointUrl": si.s3URL, "S3Settings": map[string]any{
			"BucketName": bucket, "BucketFolder": "f", "CdcPath": "cdc", "CdcPollInterval": 1,
			"ExternalTableDefinition": map[string]any{"TableCount": 1, "Tables": []any{map[string]any{
				"TableName": "t", "TablePath": "s/t/", "TableOwner": "s",
				"TableColumns": []any{map[string]any{"ColumnName": "id", "ColumnType": "INT8", "ColumnIsPk": true}}}}}}},
		"TargetEndpoints": []any{map[string]any{"EngineName": "kinesis", "EndpointUrl": si.kinURL,
			"KinesisSettings": map[string]any{"StreamName": stream}}},
		"TableMappings": map[string]any{"rules": []any{map[string]any{"rule-type": "selection", "rule-id": "1",
			"rule-name": "all", "rule-action": "include", "object-locator": map[string]any{"schema-name": "s", "table-name": "t"}}}},
		"StateLocation": "file://state",
	})
	first := exec.Command(sluiceBin, "run", "task.json")
	first.Dir = dir
	var out1 bytes.Buffer
	first.Stdout, first.Stderr = &out1, &out1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	defer func() { _ = first.Process.Kill() }()

	// Wait until the first runner has delivered the two inserts.
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < 3; n = len(si.readBack(t, stream)) { // create-table + 2 inserts
		if time.Now().After(deadline) {
			t.Fatalf("first runner delivered %d records in 30 s:\n%s", n, out1.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, out2 := sluice(t, dir, "run", "task.json")
	if code != 1 || !strings.Contains(out2, "in use") {
		t.Fatalf("second runner exited %d, want 1 with an 'in use' error:\n%s", code, out2)
	}
	_ = first.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("first runner after SIGTERM: %v\n%s", err, out1.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("first runner did not stop after SIGTERM:\n%s", out1.String())
	}
	code, out := sluice(t, dir, "status", "task.json")
	if code != 0 || !strings.Contains(out, "stopped") {
		t.Errorf("status after SIGTERM exited %d:\n%s", code, out)
	}
}
