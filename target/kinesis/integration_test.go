package kinesis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/target/kinesis/kinesisfault"
)

// Integration tests run against kinesalite or kinesis-local at
// KINESIS_ENDPOINT (scripts/with-infra.sh sets it) and skip without it.

type tb interface {
	Helper()
	Skip(...any)
	Fatal(...any)
	Fatalf(string, ...any)
	Cleanup(func())
}

func endpoint(t tb) string {
	t.Helper()
	ep := os.Getenv("KINESIS_ENDPOINT")
	if ep == "" {
		t.Skip("KINESIS_ENDPOINT not set (run under scripts/with-infra.sh)")
	}
	return ep
}

func testClient(t tb, ep string, apiOpts ...func(*middleware.Stack) error) *kinesis.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		o.BaseEndpoint = aws.String(ep)
		o.APIOptions = append(o.APIOptions, apiOpts...)
	})
}

// createStream makes a new stream for one test and deletes it afterwards.
func createStream(t tb, cl *kinesis.Client, shards int32) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("sluice-%d-%d", time.Now().UnixNano(), rand.IntN(1e6))
	if _, err := cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	w := kinesis.NewStreamExistsWaiter(cl, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("waiting for stream: %v", err)
	}
	t.Cleanup(func() {
		cl.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
	})
	return name
}

// readStream reads every shard from TRIM_HORIZON; records of one key are on
// one shard, so per-key order is the read order.
func readStream(t tb, cl *kinesis.Client, name string) []delivered {
	t.Helper()
	ctx := context.Background()
	ls, err := cl.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var out []delivered
	for _, sh := range ls.Shards {
		it, err := cl.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: sh.ShardId,
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		prevSeq := ""
		for iter != nil {
			res, err := cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Records {
				if s := aws.ToString(r.SequenceNumber); len(s) < len(prevSeq) || len(s) == len(prevSeq) && s <= prevSeq {
					t.Fatalf("shard %s: sequence numbers not increasing: %s after %s", aws.ToString(sh.ShardId), s, prevSeq)
				}
				prevSeq = aws.ToString(r.SequenceNumber)
				out = append(out, delivered{key: aws.ToString(r.PartitionKey), data: r.Data})
			}
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// splitGolden returns the messages of a golden file, without the separators.
func splitGolden(t *testing.T, b []byte) [][]byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	var out [][]byte
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.TrimSpace(b[start:dec.InputOffset()]))
	}
}

func TestKinesaliteGolden(t *testing.T) {
	ep := endpoint(t)
	cl := testClient(t, ep)
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			name := createStream(t, cl, 2)
			checkGolden(t, cl, name, c, Options{StreamName: name, Client: cl})
		})
	}
}

// checkGolden writes a golden case through a Target made with o and
// compares what the stream holds with testdata/kinesis/NAME.json.
func checkGolden(t *testing.T, cl *kinesis.Client, name string, c goldenCase, o Options) {
	t.Helper()
	ctx := context.Background()
	o.Message, o.Now, o.Logger = c.opts, func() time.Time { return testNow }, quietLogger()
	tg, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Write(ctx, c.recs); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "kinesis", c.name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := splitGolden(t, want)
	got := readStream(t, cl, name)
	if len(got) != len(msgs) {
		t.Fatalf("read %d records, golden has %d", len(got), len(msgs))
	}
	// Match each record read to a golden message (order across keys is free).
	used := make([]bool, len(msgs))
	var emitted []mapping.Record
	e := NewEncoder(c.opts)
	for i := range c.recs {
		if e.Emits(&c.recs[i]) {
			emitted = append(emitted, c.recs[i])
		}
	}
next:
	for _, d := range got {
		if c.opts.MessageFormat == FormatJSONUnformatted && !bytes.HasSuffix(d.data, []byte("}\n")) {
			t.Errorf("json-unformatted record does not end with a newline: %q", d.data)
		}
		for i, m := range msgs {
			if !used[i] && bytes.Equal(bytes.TrimSpace(d.data), m) && emitted[i].PartitionKey == d.key {
				used[i] = true
				continue next
			}
		}
		t.Errorf("record read back matches no golden message:\nkey %s\n%s", d.key, d.data)
	}
}

func TestKinesaliteARNAndMissingStream(t *testing.T) {
	ep := endpoint(t)
	cl := testClient(t, ep)
	ctx := context.Background()
	if _, err := New(ctx, Options{StreamName: "sluice-no-such-stream", Client: cl}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing stream: %v", err)
	}
	name := createStream(t, cl, 1)
	d, err := cl.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	// ARN only, client built from EndpointURL and the default chain.
	tg, err := New(ctx, Options{StreamARN: aws.ToString(d.StreamDescriptionSummary.StreamARN), EndpointURL: ep, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	recs := workload(20, 5, 1, 1)
	if err := tg.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkDelivery(t, recs, readStream(t, cl, name))
}

// Under 30% injected entry failures: nothing lost, nothing duplicated (the
// injector drops failed entries before sending), per-key order kept.
func TestKinesaliteRandomFailures(t *testing.T) {
	ep := endpoint(t)
	inj := kinesisfault.New(kinesisfault.Config{FailRate: 0.3, Seed: 42})
	fcl := testClient(t, ep, inj.APIOption)
	cl := testClient(t, ep)
	name := createStream(t, cl, 4)
	ctx := context.Background()
	tg, err := New(ctx, Options{StreamName: name, Client: fcl, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	recs := skewed(8000, 500, 50, 11, 1)
	for i := 0; i < len(recs); i += 500 {
		if err := tg.Write(ctx, recs[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkDelivery(t, recs, readStream(t, cl, name))
	st := tg.Stats()
	if inj.Injected() == 0 || st.Retries != inj.Injected() || st.Records != int64(len(recs)) {
		t.Errorf("injected %d, stats %+v", inj.Injected(), st)
	}
}

// Under sustained throttling by the shard-limit proxy (the workload is 3×
// the stream's per-second capacity).
func TestKinesaliteShardLimits(t *testing.T) {
	ep := endpoint(t)
	cl := testClient(t, ep)
	name := createStream(t, cl, 2)
	px, err := kinesisfault.NewProxy(ep, cl, kinesisfault.LimitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	ctx := context.Background()
	tg, err := New(ctx, Options{StreamName: name, Client: testClient(t, px.URL), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	recs := skewed(6000, 2000, 20, 5, 2)
	for i := 0; i < len(recs); i += 500 {
		if err := tg.Write(ctx, recs[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Entries the proxy stored beyond those acknowledged were in requests
	// whose response was lost and that the SDK sent again: the only
	// duplicates allowed.
	lost := px.Forwarded() - int64(len(recs))
	checkDeliveryDups(t, recs, readStream(t, cl, name), lost)
	if px.Throttled() == 0 || (lost == 0 && tg.Stats().Throttled != px.Throttled()) {
		t.Errorf("proxy throttled %d, stats %+v", px.Throttled(), tg.Stats())
	}
}
