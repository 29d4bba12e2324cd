package task

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newKinesisStream(t *testing.T, endpoint string) (*kinesis.Client, string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	c := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := fmt.Sprintf("runner-%d", time.Now().UnixNano())
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == ktypes.StreamStatusActive
	})
	return c, name
}

// readStream returns the data of every record in the stream's one shard.
func readStream(t *testing.T, c *kinesis.Client, name string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: &name,
		ShardId: shards.Shards[0].ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	iter := it.ShardIterator
	for range 10 {
		recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			var m map[string]any
			if err := json.Unmarshal(r.Data, &m); err != nil {
				t.Fatalf("record %q: %v", r.Data, err)
			}
			out = append(out, m)
		}
		if len(recs.Records) == 0 {
			break
		}
		iter = recs.NextShardIterator
	}
	return out
}

// TestRunEndToEnd runs a task file through Run against kinesalite: a
// local-directory S3 source with a bad row, a Kinesis target, then a second
// run that resumes and sends nothing again.
func TestRunEndToEnd(t *testing.T) {
	endpoint := os.Getenv("KINESIS_ENDPOINT")
	if endpoint == "" {
		t.Skip("KINESIS_ENDPOINT not set (run under scripts/with-infra.sh)")
	}
	kc, stream := newKinesisStream(t, endpoint)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "data/shop/items/LOAD0001.csv"), "a,1\nb,2\nc,not-a-number\nd,4\n")
	writeFile(t, filepath.Join(dir, "task.json"), `{
  "ReplicationTaskIdentifier": "e2e",
  "MigrationType": "full-load",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file://data",
    "ExternalTableDefinition": {"TableCount": 1, "Tables": [{"TableName": "items", "TablePath": "shop/items/", "TableOwner": "shop",
      "TableColumns": [{"ColumnName": "sku", "ColumnType": "STRING", "ColumnLength": 20, "ColumnIsPk": true},
                       {"ColumnName": "qty", "ColumnType": "INT4"}], "TableColumnsTotal": 2}]}}},
  "TargetEndpoints": [{"EngineName": "kinesis", "EndpointUrl": "`+endpoint+`",
    "KinesisSettings": {"StreamName": "`+stream+`", "IncludeTransactionDetails": true}}],
  "TableMappings": {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
    "object-locator": {"schema-name": "shop", "table-name": "%"}, "rule-action": "include"}]},
  "StateLocation": "file://state"
}`)
	cfg, err := LoadConfig(filepath.Join(dir, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := Run(ctx, cfg, RunOptions{Once: true, Log: discardLog()})
	if err != nil || res.StopReason != StopFullLoadOnlyFinished || res.Rejected != 1 || res.ExitCode() != ExitRejected {
		t.Fatalf("%v %+v", err, res)
	}
	var skus []string
	first := readStream(t, kc, stream)
	for _, m := range first {
		meta, _ := m["metadata"].(map[string]any)
		if meta["record-type"] == "data" {
			data, _ := m["data"].(map[string]any)
			skus = append(skus, fmt.Sprint(data["sku"]))
		}
	}
	if strings.Join(skus, ",") != "a,b,d" {
		t.Fatalf("stream holds %v", skus)
	}
	st, err := LoadStatus(ctx, cfg.StateLocation)
	if err != nil || st.Stats.Tables[0].FullLoadRows != 3 || st.Stats.Tables[0].RejectedRows != 1 ||
		st.Stats.Tables[0].TableState != TableCompleted {
		t.Fatalf("%+v %v", st, err)
	}
	exc := readExceptions(t, filepath.Join(dir, "state", ExceptionsFileName))
	if len(exc) != 1 || exc[0].Table != "items" || !strings.Contains(exc[0].Raw, "not-a-number") {
		t.Fatalf("exceptions %+v", exc)
	}

	// The second run resumes after the completed load and sends nothing.
	res, err = Run(ctx, cfg, RunOptions{Once: true, Log: discardLog()})
	if err != nil || res.Status != StatusStopped || res.Rejected != 0 {
		t.Fatalf("second run: %v %+v", err, res)
	}
	if n := len(readStream(t, kc, stream)); n != len(first) {
		t.Fatalf("second run wrote again: %d records", n)
	}
}

func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// dataOps lists "operation:sku" of the data records of a file target.
func dataOps(t *testing.T, path string) []string {
	t.Helper()
	var ops []string
	for _, l := range readJSONLines(t, path) {
		d, _ := l["Data"].(map[string]any)
		meta, _ := d["metadata"].(map[string]any)
		if meta["record-type"] != "data" {
			continue
		}
		data, _ := d["data"].(map[string]any)
		ops = append(ops, fmt.Sprintf("%v:%v", meta["operation"], data["sku"]))
	}
	return ops
}

// TestRunFileTarget runs full-load-and-cdc --once three times over a local
// bucket into the file target: resumes never resend and new CDC files are
// picked up; a changed task refuses to resume.
func TestRunFileTarget(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "data/shop/items/LOAD0001.csv"), "a,1\nb,2\nc,bad\nd,4\n")
	writeFile(t, filepath.Join(dir, "data/cdc/CDC00001.csv"), "I,items,shop,e,5\nU,items,shop,a,10\nD,items,shop,b,2\n")
	task := func(mt string) string {
		return `{
  "ReplicationTaskIdentifier": "files",
  "MigrationType": "` + mt + `",
  "SourceEndpoint": {"EngineName": "s3", "S3Settings": {"BucketName": "file://data", "CdcPath": "cdc",
    "ExternalTableDefinition": {"TableCount": 1, "Tables": [{"TableName": "items", "TablePath": "shop/items/", "TableOwner": "shop",
      "TableColumns": [{"ColumnName": "sku", "ColumnType": "STRING", "ColumnLength": 20, "ColumnIsPk": true},
                       {"ColumnName": "qty", "ColumnType": "INT4"}], "TableColumnsTotal": 2}]}}},
  "TargetEndpoints": [{"EngineName": "file", "FileSettings": {"Path": "out.jsonl"}}],
  "TableMappings": {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
    "object-locator": {"schema-name": "shop", "table-name": "%"}, "rule-action": "include"}]}
}`
	}
	writeFile(t, filepath.Join(dir, "task.json"), task("full-load-and-cdc"))
	cfg, err := LoadConfig(filepath.Join(dir, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "out.jsonl")
	res, err := Run(ctx, cfg, RunOptions{Once: true, Log: discardLog()})
	if err != nil || res.Status != StatusStopped || res.StopReason != StopNormal || res.ExitCode() != ExitRejected {
		t.Fatalf("%v %+v", err, res)
	}
	want := "load:a,load:b,load:d,insert:e,update:a,delete:b"
	if got := strings.Join(dataOps(t, out), ","); got != want {
		t.Fatalf("first run wrote %s, want %s", got, want)
	}
	st, err := LoadStatus(ctx, cfg.StateLocation)
	if err != nil {
		t.Fatal(err)
	}
	if ts := st.Stats.Tables[0]; ts.FullLoadRows != 3 || ts.Inserts != 1 || ts.Updates != 1 || ts.Deletes != 1 ||
		ts.RejectedRows != 1 || ts.TableState != TableCompleted || st.Phase != PhaseCDC {
		t.Fatalf("status %+v", st)
	}
	var tb strings.Builder
	if err := WriteStatusTable(&tb, st); err != nil || !strings.Contains(tb.String(), "Stop Reason NORMAL") {
		t.Fatalf("%s %v", tb.String(), err)
	}

	// Nothing new: nothing resent, nothing rejected again.
	res, err = Run(ctx, cfg, RunOptions{Once: true, Log: discardLog()})
	if err != nil || res.ExitCode() != ExitOK || strings.Join(dataOps(t, out), ",") != want {
		t.Fatalf("idle rerun: %v %+v %v", err, res, dataOps(t, out))
	}

	// A new CDC file is applied by the next run, and only it.
	writeFile(t, filepath.Join(dir, "data/cdc/CDC00002.csv"), "I,items,shop,f,6\n")
	if res, err = Run(ctx, cfg, RunOptions{Once: true, Log: discardLog()}); err != nil || res.ExitCode() != ExitOK {
		t.Fatalf("%v %+v", err, res)
	}
	if got := strings.Join(dataOps(t, out), ","); got != want+",insert:f" {
		t.Fatalf("third run: %s", got)
	}

	// A different migration type refuses to resume.
	writeFile(t, filepath.Join(dir, "task.json"), task("cdc"))
	cfg2, err := LoadConfig(filepath.Join(dir, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, cfg2, RunOptions{Once: true, Log: discardLog()}); err == nil || !strings.Contains(err.Error(), `migration type "full-load-and-cdc" → "cdc"`) {
		t.Fatalf("changed task: %v", err)
	}
}
