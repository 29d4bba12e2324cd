package task

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// checkEnv gives the AWS SDK static test credentials and no endpoint
// overrides, so that only what a test configures is contacted.
func checkEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
		"AWS_ENDPOINT_URL_KINESIS": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
}

const checkTableDefs = `{"TableCount": 2, "Tables": [
  {"TableName": "orders", "TablePath": "sales/orders/", "TableOwner": "sales",
   "TableColumns": [{"ColumnName": "id", "ColumnType": "INT8", "ColumnIsPk": true}], "TableColumnsTotal": 1},
  {"TableName": "customers", "TablePath": "sales/customers/", "TableOwner": "sales",
   "TableColumns": [{"ColumnName": "id", "ColumnType": "INT4", "ColumnIsPk": true}], "TableColumnsTotal": 1}]}`

const checkMappings = `{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
  "object-locator": {"schema-name": "sales", "table-name": "%"}, "rule-action": "include"}]}`

// checkConfig writes a task file into a temporary directory from its
// parts (JSON texts) and loads it as sluice check would.
func checkConfig(t *testing.T, migration, source string, targets []string, state string) *Config {
	t.Helper()
	dir := t.TempDir()
	doc := fmt.Sprintf(`{"ReplicationTaskIdentifier": "chk", "MigrationType": %q, "SourceEndpoint": %s,
		"TargetEndpoints": [%s], "TableMappings": %s`, migration, source, strings.Join(targets, ","), checkMappings)
	if state != "" {
		doc += fmt.Sprintf(`, "StateLocation": %q`, state)
	}
	doc += "}"
	path := filepath.Join(dir, "task.json")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("task file: %v\n%s", err, doc)
	}
	return cfg
}

func checkS3SourceJSON(endpoint, bucket, folder string) string {
	ep := ""
	if endpoint != "" {
		ep = fmt.Sprintf(`"EndpointUrl": %q, `, endpoint)
	}
	return fmt.Sprintf(`{"EngineName": "s3", %s"S3Settings": {"BucketName": %q, "BucketFolder": %q,
		"CdcPath": "cdc", "ExternalTableDefinition": %s}}`, ep, bucket, folder, checkTableDefs)
}

// checkOutcome is a result reduced to what tests compare.
type checkOutcome struct {
	Endpoint, Check string
	OK, Warning     bool
}

func checkOutcomes(rs []CheckResult) []checkOutcome {
	out := make([]checkOutcome, len(rs))
	for i, r := range rs {
		out[i] = checkOutcome{r.Endpoint, r.Check, r.OK, r.Warning}
	}
	return out
}

func checkFind(t *testing.T, rs []CheckResult, check string) CheckResult {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no check %q in %+v", check, rs)
	return CheckResult{}
}

func checkDump(rs []CheckResult) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  ok=%v warn=%v %s | %s | %s\n", r.OK, r.Warning, r.Endpoint, r.Check, r.Detail)
	}
	return b.String()
}

func checkFakeS3(t *testing.T, bucket string, keys ...string) string {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	checkPutObjects(t, srv.URL, bucket, keys...)
	return srv.URL
}

func checkPutObjects(t *testing.T, endpoint, bucket string, keys ...string) {
	t.Helper()
	ctx := context.Background()
	api, err := checkNewS3(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	cl := api.(*s3.Client)
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k),
			Body: strings.NewReader("1\n")}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckS3Source(t *testing.T) {
	checkEnv(t)
	ep := checkFakeS3(t, "landing", "exports/sales/orders/LOAD0001.csv", "exports/cdc/20260101-1.csv")
	target := `{"EngineName": "file", "FileSettings": {"Path": "out.jsonl"}}`
	src := "source s3://landing/exports"
	tests := []struct {
		name      string
		migration string
		bucket    string
		folder    string
		want      []checkOutcome
		detail    map[string]string // check → substring of its detail
	}{
		{"full load: one table without files", "full-load", "landing", "exports", []checkOutcome{
			{src, "bucket listable", true, false},
			{src, "table mappings", true, false},
			{src, "BucketFolder has objects", true, false},
			{src, "table sales.orders has files", true, false},
			{src, "table sales.customers has files", false, false},
		}, map[string]string{
			"table sales.customers has files": "no objects under s3://landing/exports/sales/customers/",
			"table sales.orders has files":    "first object exports/sales/orders/LOAD0001.csv",
			"table mappings":                  "2 of 2 tables",
		}},
		{"cdc: tables are not read", "cdc", "landing", "exports", []checkOutcome{
			{src, "bucket listable", true, false},
			{src, "table mappings", true, false},
			{src, "BucketFolder has objects", true, false},
			{src, "CdcPath listable", true, false},
		}, map[string]string{"CdcPath listable": "first CDC file exports/cdc/20260101-1.csv"}},
		{"empty folder", "full-load-and-cdc", "landing", "nothing", []checkOutcome{
			{"source s3://landing/nothing", "bucket listable", true, false},
			{"source s3://landing/nothing", "table mappings", true, false},
			{"source s3://landing/nothing", "BucketFolder has objects", false, false},
			{"source s3://landing/nothing", "table sales.orders has files", false, false},
			{"source s3://landing/nothing", "table sales.customers has files", false, false},
			{"source s3://landing/nothing", "CdcPath listable", true, false},
		}, map[string]string{
			"BucketFolder has objects": "nothing under s3://landing/nothing/: check BucketName and BucketFolder",
			"CdcPath listable":         "no CDC files under s3://landing/nothing/cdc/ yet",
		}},
		{"missing bucket stops the source's later checks", "full-load", "nosuch", "exports", []checkOutcome{
			{"source s3://nosuch/exports", "bucket listable", false, false},
			{"source s3://nosuch/exports", "table mappings", true, false},
		}, map[string]string{"bucket listable": "bucket nosuch does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := checkConfig(t, tt.migration, checkS3SourceJSON(ep, tt.bucket, tt.folder), []string{target}, "")
			cfg.StateLocation = ""
			cfg.TargetEndpoints = nil
			rs := CheckTask(context.Background(), cfg)
			got := checkOutcomes(rs)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got\n%s\nwant %v", checkDump(rs), tt.want)
			}
			for check, sub := range tt.detail {
				if d := checkFind(t, rs, check).Detail; !strings.Contains(d, sub) {
					t.Errorf("%s: detail %q lacks %q", check, d, sub)
				}
			}
		})
	}
}

func TestCheckLocalSource(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "exp", "sales", "orders", "2026"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "exp", "sales", "orders", "2026", "a.csv"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A sibling whose name starts like the table's must not count as its file.
	if err := os.MkdirAll(filepath.Join(root, "exp", "sales", "customers_old"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "exp", "sales", "customers_old", "x.csv"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := `{"EngineName": "file", "FileSettings": {"Path": "out.jsonl"}}`
	cfg := checkConfig(t, "full-load", checkS3SourceJSON("", "file://"+root, "exp"), []string{target}, "")
	cfg.TargetEndpoints, cfg.StateLocation = nil, ""
	rs := CheckTask(context.Background(), cfg)
	src := "source file://" + root + "/exp"
	want := []checkOutcome{
		{src, "directory readable", true, false},
		{src, "table mappings", true, false},
		{src, "BucketFolder has objects", true, false},
		{src, "table sales.orders has files", true, false},
		{src, "table sales.customers has files", false, false},
	}
	if fmt.Sprint(checkOutcomes(rs)) != fmt.Sprint(want) {
		t.Fatalf("got\n%s\nwant %v", checkDump(rs), want)
	}
	if d := rs[3].Detail; !strings.Contains(d, "exp/sales/orders/2026/a.csv") {
		t.Errorf("orders detail %q", d)
	}

	cfg = checkConfig(t, "full-load", checkS3SourceJSON("", "file://"+filepath.Join(root, "missing"), "exp"), []string{target}, "")
	cfg.TargetEndpoints, cfg.StateLocation = nil, ""
	rs = CheckTask(context.Background(), cfg)
	if r := rs[0]; r.OK || !strings.Contains(r.Detail, "missing does not exist") || len(rs) != 2 {
		t.Errorf("missing directory:\n%s", checkDump(rs))
	}
}

func TestCheckFirstLocal(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a/b/x.csv", "a/bc.csv", "cdc/1.csv"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ prefix, want string }{
		{"", "a/b/x.csv"},
		{"a/b/", "a/b/x.csv"},
		{"a/bc", "a/bc.csv"},
		{"a/c/", ""},
		{"zzz/", ""},
		{"cdc/", "cdc/1.csv"},
	}
	for _, tt := range tests {
		got, err := checkFirstLocal(context.Background(), root, tt.prefix)
		if err != nil || got != tt.want {
			t.Errorf("checkFirstLocal(%q) = %q, %v; want %q", tt.prefix, got, err, tt.want)
		}
	}
}

// checkFakeKinesis answers DescribeStreamSummary (awsJson1.1) from a map
// of stream statuses and records the stream names asked for.
type checkFakeKinesis struct {
	mu      sync.Mutex
	streams map[string]string
	asked   []string
}

func (f *checkFakeKinesis) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct{ StreamName, StreamARN string }
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	f.asked = append(f.asked, in.StreamName)
	status, ok := f.streams[in.StreamName]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if r.Header.Get("X-Amz-Target") != "Kinesis_20131202.DescribeStreamSummary" {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type": "UnknownOperationException"}`)
		return
	}
	if in.StreamName == "" { // like kinesalite
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type": "ValidationException", "message": "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"}`)
		return
	}
	if !ok {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"__type": "ResourceNotFoundException", "message": "Stream %s under account 000000000000 not found."}`, in.StreamName)
		return
	}
	fmt.Fprintf(w, `{"StreamDescriptionSummary": {"StreamName": %q, "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/%s",
		"StreamStatus": %q, "OpenShardCount": 2, "RetentionPeriodHours": 24, "StreamCreationTimestamp": 1.7e9,
		"EnhancedMonitoring": [], "StreamModeDetails": {"StreamMode": "PROVISIONED"}}}`, in.StreamName, in.StreamName, status)
}

func TestCheckKinesisTarget(t *testing.T) {
	checkEnv(t)
	fake := &checkFakeKinesis{streams: map[string]string{"orders": "ACTIVE", "busy": "UPDATING", "new": "CREATING"}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	kin := func(ep, settings string) string {
		return fmt.Sprintf(`{"EngineName": "kinesis", "EndpointUrl": %q, "KinesisSettings": %s}`, ep, settings)
	}
	tests := []struct {
		name, target   string
		ok, warn       bool
		endpoint, want string
	}{
		{"active by ARN", kin(srv.URL, `{"StreamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/orders"}`),
			true, false, "target kinesis:orders", "ACTIVE, 2 open shards, PROVISIONED"},
		{"active by name", kin(srv.URL, `{"StreamName": "orders"}`), true, false, "target kinesis:orders", "ACTIVE"},
		{"resharding", kin(srv.URL, `{"StreamName": "busy"}`), true, true, "target kinesis:busy", "UPDATING"},
		{"creating", kin(srv.URL, `{"StreamName": "new"}`), false, false, "target kinesis:new", "stream new is CREATING, not ACTIVE"},
		{"missing", kin(srv.URL, `{"StreamName": "gone"}`), false, false, "target kinesis:gone", "stream gone does not exist"},
		{"unreachable", kin(closedURL, `{"StreamName": "orders"}`), false, false, "target kinesis:orders", "cannot reach " + closedURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := checkConfig(t, "full-load", checkS3SourceJSON("", "file:///nonexistent", ""), []string{tt.target}, "")
			cfg.SourceEndpoint, cfg.StateLocation = SourceEndpoint{}, ""
			rs := CheckTask(context.Background(), cfg)
			if len(rs) != 1 {
				t.Fatalf("got\n%s", checkDump(rs))
			}
			r := rs[0]
			if r.OK != tt.ok || r.Warning != tt.warn || r.Endpoint != tt.endpoint || r.Check != "stream ACTIVE" ||
				!strings.Contains(r.Detail, tt.want) {
				t.Errorf("got %+v\nwant ok=%v warn=%v %q containing %q", r, tt.ok, tt.warn, tt.endpoint, tt.want)
			}
		})
	}
	// The ARN alone is asked first (AWS, cross-account streams); kinesalite
	// needs the stream name, taken from the ARN.
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.asked) < 2 || fake.asked[0] != "" || fake.asked[1] != "orders" {
		t.Errorf("stream names asked: %q", fake.asked)
	}
}

func TestCheckS3Target(t *testing.T) {
	checkEnv(t)
	ep := checkFakeS3(t, "lake", "raw/x.parquet")
	s3t := func(bucket string) string {
		return fmt.Sprintf(`{"EngineName": "s3", "EndpointUrl": %q, "S3Settings": {"BucketName": %q, "BucketFolder": "raw", "DataFormat": "parquet"}}`, ep, bucket)
	}
	cfg := checkConfig(t, "full-load", checkS3SourceJSON("", "file:///x", ""), []string{s3t("lake"), s3t("nosuch")}, "")
	cfg.SourceEndpoint, cfg.StateLocation = SourceEndpoint{}, ""
	rs := CheckTask(context.Background(), cfg)
	want := []checkOutcome{
		{"target s3://lake/raw", "bucket exists", true, false},
		{"target s3://lake/raw", "bucket listable", true, false},
		{"target s3://nosuch/raw", "bucket exists", false, false},
	}
	if fmt.Sprint(checkOutcomes(rs)) != fmt.Sprint(want) {
		t.Fatalf("got\n%s\nwant %v", checkDump(rs), want)
	}
	if !strings.Contains(rs[2].Detail, "bucket nosuch does not exist") {
		t.Errorf("missing bucket detail %q", rs[2].Detail)
	}
}

func TestCheckFileTargetAndState(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(existing, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, CheckpointFileName), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		run      func(r *checkRecorder)
		ok       bool
		contains string
	}{
		{"new file in existing dir", func(r *checkRecorder) { checkFileTarget(context.Background(), r, filepath.Join(dir, "new.jsonl")) },
			true, "does not exist yet; " + dir + " is writable"},
		{"existing file", func(r *checkRecorder) { checkFileTarget(context.Background(), r, existing) },
			true, "exists (3 bytes)"},
		{"missing directory", func(r *checkRecorder) {
			checkFileTarget(context.Background(), r, filepath.Join(dir, "no", "out.jsonl"))
		}, false, "no such file or directory (sluice run does not create it)"},
		{"path is a directory", func(r *checkRecorder) { checkFileTarget(context.Background(), r, dir) },
			false, "is a directory"},
		{"parent is a file", func(r *checkRecorder) { checkFileTarget(context.Background(), r, filepath.Join(existing, "x.jsonl")) },
			false, "is not a directory"},
		{"state to create", func(r *checkRecorder) {
			checkStateLocation(context.Background(), r, "file://"+filepath.Join(dir, "a", "b"))
		}, true, "does not exist yet; " + dir + " is writable, so sluice run can create it; no checkpoint yet"},
		{"state with checkpoint", func(r *checkRecorder) { checkStateLocation(context.Background(), r, "file://"+stateDir) },
			true, "exists and is writable; a checkpoint is there: sluice run resumes from it"},
		{"state under a file", func(r *checkRecorder) {
			checkStateLocation(context.Background(), r, "file://"+filepath.Join(existing, "state"))
		}, false, existing + " is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r checkRecorder
			tt.run(&r)
			if len(r.results) != 1 {
				t.Fatalf("got %+v", r.results)
			}
			got := r.results[0]
			if got.OK != tt.ok || !strings.Contains(got.Detail, tt.contains) {
				t.Errorf("got ok=%v %q, want ok=%v containing %q", got.OK, got.Detail, tt.ok, tt.contains)
			}
		})
	}
	// The probes leave nothing behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".sluice-check") {
			t.Errorf("probe file left: %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.jsonl")); err == nil {
		t.Error("the check created the target file")
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("the check created the state directory")
	}
}

func TestCheckUnwritableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only directories")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if _, err := checkDirWritable(dir, false); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("read-only directory: %v", err)
	}
}

func TestCheckS3State(t *testing.T) {
	checkEnv(t)
	ep := checkFakeS3(t, "state", "tasks/chk/checkpoint.json")
	t.Setenv("AWS_ENDPOINT_URL_S3", ep)
	tests := []struct {
		loc, want string
		ok        bool
	}{
		{"s3://state/tasks/chk", "a checkpoint is there", true},
		{"s3://state/tasks/other", "no checkpoint yet", true},
		{"s3://state/tasks/ch", "no checkpoint yet", true}, // a prefix of another task's is not its checkpoint
		{"s3://nosuch/x", "bucket nosuch does not exist", false},
	}
	for _, tt := range tests {
		var r checkRecorder
		checkStateLocation(context.Background(), &r, tt.loc)
		got := r.results[0]
		if got.OK != tt.ok || !strings.Contains(got.Detail, tt.want) || got.Endpoint != "state "+tt.loc {
			t.Errorf("%s: got %+v, want ok=%v containing %q", tt.loc, got, tt.ok, tt.want)
		}
	}
}

// TestCheckTaskReportsEveryEndpoint: failures of some endpoints do not
// hide the others, and results keep the source, targets, state order.
func TestCheckTaskReportsEveryEndpoint(t *testing.T) {
	checkEnv(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	dir := t.TempDir()
	targets := []string{
		fmt.Sprintf(`{"EngineName": "kinesis", "EndpointUrl": %q, "KinesisSettings": {"StreamName": "s"}}`, closedURL),
		fmt.Sprintf(`{"EngineName": "file", "FileSettings": {"Path": %q}}`, filepath.Join(dir, "out.jsonl")),
	}
	cfg := checkConfig(t, "full-load", checkS3SourceJSON(closedURL, "landing", "exports"), targets, "file://"+filepath.Join(dir, "st"))
	rs := CheckTask(context.Background(), cfg)
	var eps []string
	for _, r := range rs {
		if len(eps) == 0 || eps[len(eps)-1] != r.Endpoint {
			eps = append(eps, r.Endpoint)
		}
	}
	want := []string{"source s3://landing/exports", "target kinesis:s", "target file:" + filepath.Join(dir, "out.jsonl"),
		"state file://" + filepath.Join(dir, "st")}
	if fmt.Sprint(eps) != fmt.Sprint(want) {
		t.Fatalf("endpoints %q, want %q\n%s", eps, want, checkDump(rs))
	}
	if rs[0].OK || !strings.Contains(rs[0].Detail, "cannot reach "+closedURL) {
		t.Errorf("source: %+v", rs[0])
	}
	if !rs[len(rs)-1].OK || !rs[len(rs)-2].OK {
		t.Errorf("local endpoints should pass:\n%s", checkDump(rs))
	}
}

func TestCheckTimeout(t *testing.T) {
	checkEnv(t)
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	old := checkTimeout
	checkTimeout = 200 * time.Millisecond
	t.Cleanup(func() { checkTimeout = old })
	var r checkRecorder
	start := time.Now()
	checkKinesisTarget(context.Background(), &r, &TargetEndpoint{EngineName: EngineKinesis, EndpointUrl: srv.URL,
		KinesisSettings: &KinesisSettings{StreamName: "s"}})
	if got := r.results[0]; got.OK || !strings.Contains(got.Detail, "no answer within 200ms") {
		t.Errorf("got %+v", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout not honoured: %s", d)
	}
}

func TestCheckPostgresConnectFailureHidesPassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const pw = "s3cr3t-Pa55"
	for _, cs := range []string{
		"postgres://app:" + pw + "@" + addr + "/db?sslmode=disable&connect_timeout=2",
		"host=127.0.0.1 port=" + addr[strings.LastIndex(addr, ":")+1:] + " user=app password=" + pw + " dbname=db sslmode=disable",
		"postgres://app:" + pw + "@host:notaport/db", // unparsable
	} {
		pg := &PostgresEndpoint{ConnectionString: cs}
		cfg := &Config{MigrationType: MigrationFullLoadAndCDC, SourceEndpoint: SourceEndpoint{EngineName: EnginePostgres, Postgres: pg}}
		rs := CheckTask(context.Background(), cfg)
		if len(rs) != 1 || rs[0].OK || rs[0].Check != "connect" {
			t.Fatalf("%s:\n%s", cs, checkDump(rs))
		}
		if strings.Contains(checkDump(rs), pw) {
			t.Errorf("password in the report:\n%s", checkDump(rs))
		}
	}
}

func TestCheckPGConfig(t *testing.T) {
	t.Setenv("PGPASSWORD", "from-env")
	c, err := checkPGConfig(&PostgresEndpoint{ServerName: "db.example", Port: 6543, DatabaseName: "it's", Username: `a\b`})
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "db.example" || c.Port != 6543 || c.Database != "it's" || c.User != `a\b` || c.Password != "from-env" {
		t.Errorf("config %s:%d db=%q user=%q pw=%q", c.Host, c.Port, c.Database, c.User, c.Password)
	}
}

func TestCheckPGColumn(t *testing.T) {
	tests := []struct {
		typ, typtype string
		typmod       int32
		want         string
	}{
		{"int4", "b", -1, "INT4 0 0 0"},
		{"numeric", "b", (12<<16 | 2) + 4, "NUMERIC 0 12 2"},
		{"numeric", "b", -1, "NUMERIC 0 28 6"},
		{"numeric", "b", (40<<16 | 2) + 4, "STRING 42 0 0"},
		{"varchar", "b", 44, "STRING 160 0 0"}, // bytes: up to 4 per UTF-8 character
		{"bool", "b", -1, "STRING 5 0 0"},
		{"timestamptz", "b", 3, "DATETIME 0 0 3"},
		{"_int4", "b", -1, "CLOB 0 0 0"},
		{"mood", "e", -1, "STRING 64 0 0"},
		{"uuid", "b", -1, "STRING 36 0 0"},
	}
	for _, tt := range tests {
		c := checkPGColumn(tt.typ, tt.typtype, tt.typmod, false)
		if got := fmt.Sprintf("%s %d %d %d", c.Type, c.Length, c.Precision, c.Scale); got != tt.want {
			t.Errorf("%s(%d) = %s, want %s", tt.typ, tt.typmod, got, tt.want)
		}
	}
}

func TestCheckPGTableJudge(t *testing.T) {
	pub := map[[2]string]bool{{"s", "t"}: true}
	tests := []struct {
		name         string
		t            checkPGTable
		full, cdc    bool
		pub          map[[2]string]bool
		ok           bool
		detailOrFail string
	}{
		{"pk, cdc", checkPGTable{schema: "s", name: "t", replident: 'd', canSelect: true, pk: []string{"id"}}, true, true, pub, true, "primary key (id); updates and deletes carry the old key only"},
		{"full identity without pk", checkPGTable{schema: "s", name: "t", replident: 'f', canSelect: true}, true, true, nil, true, "no primary key, REPLICA IDENTITY FULL"},
		{"no pk, cdc", checkPGTable{schema: "s", name: "t", replident: 'd', canSelect: true}, true, true, nil, false, `ALTER TABLE "s"."t" REPLICA IDENTITY FULL`},
		{"no pk, full load only", checkPGTable{schema: "s", name: "t", replident: 'd', canSelect: true}, true, false, nil, true, "no primary key"},
		{"nothing", checkPGTable{schema: "s", name: "t", replident: 'n', canSelect: true, pk: []string{"id"}}, false, true, nil, false, "REPLICA IDENTITY NOTHING"},
		{"no select", checkPGTable{schema: "s", name: "t", replident: 'd', pk: []string{"id"}}, true, true, nil, false, "no SELECT privilege"},
		{"not published", checkPGTable{schema: "s", name: "u", replident: 'd', canSelect: true, pk: []string{"id"}}, true, true, pub, false, `not in publication p: its changes would not be captured (ALTER PUBLICATION "p" ADD TABLE "s"."u")`},
	}
	for _, tt := range tests {
		detail, err := tt.t.judge(tt.full, tt.cdc, tt.pub, "p")
		got := detail
		if err != nil {
			got = err.Error()
		}
		if (err == nil) != tt.ok || !strings.Contains(got, tt.detailOrFail) {
			t.Errorf("%s: got %q (ok=%v), want ok=%v containing %q", tt.name, got, err == nil, tt.ok, tt.detailOrFail)
		}
	}
}

func TestCheckPGSlotJudge(t *testing.T) {
	tests := []struct {
		slot checkPGSlot
		want string // "" = passes
	}{
		{checkPGSlot{plugin: "pgoutput", slotType: "logical", database: "app", walStatus: "reserved"}, ""},
		{checkPGSlot{plugin: "test_decoding", slotType: "logical", database: "app"}, "uses the test_decoding plugin"},
		{checkPGSlot{slotType: "physical"}, "is a physical slot"},
		{checkPGSlot{plugin: "pgoutput", slotType: "logical", database: "other"}, "belongs to database other"},
		{checkPGSlot{plugin: "pgoutput", slotType: "logical", database: "app", active: true}, "is in use"},
		{checkPGSlot{plugin: "pgoutput", slotType: "logical", database: "app", walStatus: "lost"}, "wal_status lost"},
	}
	for _, tt := range tests {
		_, err := tt.slot.judge("app")
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want %q", tt.slot, err, tt.want)
		}
	}
}
