// Command demo runs a real sluice task end to end against the local
// stand-ins started by scripts/with-infra.sh: it uploads the sample in
// testdata/demo/bucket to the S3 stand-in, creates a Kinesis stream, runs
// `sluice run --once`, reads the stream back and prints what arrived, the
// table statistics and the exceptions file.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicedata/sluice/target/kinesis/kinesistest"
)

func main() {
	bin := flag.String("sluice", "bin/sluice", "path to the sluice binary")
	data := flag.String("data", "testdata/demo", "folder holding the demo documents and bucket/")
	work := flag.String("work", "out/demo", "folder for the generated task file, state and file target")
	flag.Parse()
	if err := run(context.Background(), *bin, *data, *work); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, data, work string) error {
	s3URL, kinURL := os.Getenv("S3_ENDPOINT"), os.Getenv("KINESIS_ENDPOINT")
	if s3URL == "" || kinURL == "" {
		return errors.New("S3_ENDPOINT and KINESIS_ENDPOINT must be set: run it through scripts/with-infra.sh (make demo)")
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	if err != nil {
		return fmt.Errorf("loading AWS config: %w", err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(s3URL); o.UsePathStyle = true })
	kc := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(kinURL) })

	const bucket, stream = "landing", "sluice-demo"
	step("uploading the sample to s3://%s (S3 stand-in at %s)", bucket, s3URL)
	if err := upload(ctx, s3c, bucket, filepath.Join(data, "bucket")); err != nil {
		return err
	}
	step("creating Kinesis stream %s with 2 shards (kinesalite at %s)", stream, kinURL)
	if err := kinesistest.CreateStream(ctx, kc, stream, 2); err != nil {
		return err
	}

	if err := os.RemoveAll(work); err != nil {
		return fmt.Errorf("cleaning %s: %w", work, err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", work, err)
	}
	absData, err := filepath.Abs(data)
	if err != nil {
		return err
	}
	task := map[string]any{
		"ReplicationTaskIdentifier": "sales-demo",
		"MigrationType":             "full-load-and-cdc",
		"SourceEndpoint": map[string]any{
			"EngineName": "s3", "EndpointUrl": s3URL,
			"S3Settings": map[string]any{
				"BucketName": bucket, "BucketFolder": "exports", "CdcPath": "cdc",
				"ExternalTableDefinition": "file://" + filepath.Join(absData, "tabledefs.json"),
			},
		},
		"TargetEndpoints": []any{
			map[string]any{"EngineName": "kinesis", "EndpointUrl": kinURL, "KinesisSettings": map[string]any{
				"StreamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/" + stream, "MessageFormat": "json-unformatted",
				"IncludeTransactionDetails": true, "IncludePartitionValue": true, "IncludeNullAndEmpty": true,
			}},
			map[string]any{"EngineName": "file", "FileSettings": map[string]any{"Path": "records.jsonl"},
				"KinesisSettings": map[string]any{"IncludePartitionValue": true}},
			map[string]any{"EngineName": "s3", "S3Settings": map[string]any{
				"BucketName": "file://lake", "BucketFolder": "raw", "DataFormat": "parquet"}},
		},
		"TableMappings":           "file://" + filepath.Join(absData, "table-mappings.json"),
		"ReplicationTaskSettings": "file://" + filepath.Join(absData, "task-settings.json"),
		"StateLocation":           "file://state",
	}
	taskPath := filepath.Join(work, "task.json")
	if err := writeJSON(taskPath, task); err != nil {
		return err
	}
	step("the task file: %s", taskPath)
	fmt.Println(indent(mustRead(taskPath)))

	step("sluice validate task %s", taskPath)
	if code := sluice(ctx, bin, "validate", "task", taskPath); code != 0 {
		return fmt.Errorf("validate exited %d", code)
	}
	step("sluice run --once %s", taskPath)
	code := sluice(ctx, bin, "run", "--once", taskPath)
	fmt.Printf("\nexit code %d (3 = finished, some rows rejected: they are in the exceptions file)\n", code)
	if code != 0 && code != 3 {
		return fmt.Errorf("run exited %d", code)
	}

	step("reading stream %s back", stream)
	if err := readBack(ctx, kc, stream); err != nil {
		return err
	}
	step("sluice status %s", taskPath)
	sluice(ctx, bin, "status", taskPath)
	step("exceptions file (%s)", filepath.Join(work, "state", "exceptions.jsonl"))
	fmt.Println(indent(mustRead(filepath.Join(work, "state", "exceptions.jsonl"))))
	step("file target: first lines of %s", filepath.Join(work, "records.jsonl"))
	lines := strings.SplitN(mustRead(filepath.Join(work, "records.jsonl")), "\n", 4)
	fmt.Println(indent(strings.Join(lines[:min(3, len(lines))], "\n")))
	return showParquet(ctx, data, filepath.Join(work, "lake"))
}

// showParquet lists the Parquet files the S3 target wrote to its local
// directory bucket and reads the orders back with DuckDB, an independent
// reader.
func showParquet(ctx context.Context, data, lake string) error {
	step("Parquet files (S3 target, bucket file://%s)", lake)
	var orders []string
	err := filepath.WalkDir(lake, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(lake, path)
		fmt.Printf("    %-50s %6d bytes\n", rel, info.Size())
		if strings.Contains(rel, "/orders/") {
			orders = append(orders, path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", lake, err)
	}
	if os.Getenv("DUCKDB_NODE_MODULES") == "" || len(orders) == 0 {
		return nil
	}
	step("DuckDB reads the orders back")
	quoted := make([]string, len(orders))
	for i, o := range orders {
		quoted[i] = "'" + o + "'"
	}
	const cols = "Op, order_id, customer_id, ordered_at, status, total"
	sql := "SELECT " + cols + " FROM read_parquet([" + strings.Join(quoted, ", ") + "], union_by_name = true) ORDER BY order_id, Op NULLS FIRST"
	cmd := exec.CommandContext(ctx, "node", filepath.Join(data, "..", "s3parquet", "duckquery.cjs"), sql)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("querying the Parquet files with DuckDB: %w", err)
	}
	var rows [][]any
	if err := json.Unmarshal(out, &rows); err != nil {
		return fmt.Errorf("reading DuckDB's answer: %w", err)
	}
	fmt.Println("    [" + cols + "]  (Op: I/U/D in CDC files, null in full-load files)")
	for _, r := range rows {
		b, _ := json.Marshal(r)
		fmt.Println("    " + string(b))
	}
	return nil
}

func step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(b)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func sluice(ctx context.Context, bin string, args ...string) int {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "running sluice:", err)
		return -1
	}
	return 0
}

func upload(ctx context.Context, c *s3.Client, bucket, dir string) error {
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("creating bucket %s: %w", bucket, err)
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		key := filepath.ToSlash(rel)
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			return fmt.Errorf("uploading %s: %w", key, err)
		}
		fmt.Printf("    s3://%s/%s (%d bytes)\n", bucket, key, len(body))
		return nil
	})
}

func readBack(ctx context.Context, c *kinesis.Client, stream string) error {
	recs, err := kinesistest.ReadAll(ctx, c, stream)
	if err != nil {
		return err
	}
	shards := map[string]bool{}
	for _, r := range recs {
		shards[r.Shard] = true
	}
	ops := map[string]int{}
	for _, r := range recs {
		var m struct {
			Metadata struct {
				Operation string `json:"operation"`
				Table     string `json:"table-name"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(r.Data, &m)
		ops[m.Metadata.Table+" "+m.Metadata.Operation]++
	}
	fmt.Printf("    %d records, read from %d shards\n", len(recs), len(shards))
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("    %-30s %d\n", k, ops[k])
	}
	fmt.Println("    sample records (partition key → data):")
	for i, r := range recs {
		if i == 8 {
			break
		}
		fmt.Printf("    [%s] %s\n      %s\n", r.Shard, r.PartitionKey, strings.TrimSpace(string(r.Data)))
	}
	return nil
}
