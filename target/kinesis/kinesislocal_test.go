package kinesis

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// kinesis-local (kinesis-mock) at KINESIS_LOCAL_ENDPOINT accepts requests
// that name the stream by StreamARN only, which kinesalite rejects:
// scripts/with-infra.sh starts both.

func localEndpoint(t tb) string {
	t.Helper()
	ep := os.Getenv("KINESIS_LOCAL_ENDPOINT")
	if ep == "" {
		t.Skip("KINESIS_LOCAL_ENDPOINT not set (run under scripts/with-infra.sh)")
	}
	return ep
}

// arnOnlyAPI records whether any request named the stream by StreamName.
type arnOnlyAPI struct {
	API
	named atomic.Int64
}

func (a *arnOnlyAPI) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, o ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	if in.StreamName != nil {
		a.named.Add(1)
	}
	return a.API.DescribeStreamSummary(ctx, in, o...)
}

func (a *arnOnlyAPI) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, o ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	if in.StreamName != nil {
		a.named.Add(1)
	}
	return a.API.PutRecords(ctx, in, o...)
}

func streamARN(t *testing.T, cl *kinesis.Client, name string) string {
	t.Helper()
	d, err := cl.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(d.StreamDescriptionSummary.StreamARN)
}

// Every golden case through a Target given only the StreamArn: all requests
// carry the ARN alone, and the stream holds the golden messages.
func TestKinesisLocalARNOnlyGolden(t *testing.T) {
	cl := testClient(t, localEndpoint(t))
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			name := createStream(t, cl, 2)
			api := &arnOnlyAPI{API: cl}
			checkGolden(t, cl, name, c, Options{StreamARN: streamARN(t, cl, name), Client: api})
			if n := api.named.Load(); n != 0 {
				t.Errorf("%d requests named the stream by StreamName", n)
			}
		})
	}
}

// ARN only with the client built from EndpointURL and the default chain,
// several keys and requests in flight: nothing lost, per-key order kept.
func TestKinesisLocalARNOnlyDelivery(t *testing.T) {
	ep := localEndpoint(t)
	cl := testClient(t, ep)
	name := createStream(t, cl, 2)
	ctx := context.Background()
	tg, err := New(ctx, Options{StreamARN: streamARN(t, cl, name), EndpointURL: ep, Logger: quietLogger(), MaxInFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	if tg.sendName {
		t.Fatal("kinesis-local accepted the ARN alone, yet the target sends the stream name")
	}
	recs := workload(2000, 50, 20, 7)
	for i := 0; i < len(recs); i += 250 {
		if err := tg.Write(ctx, recs[i:i+250]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkDelivery(t, recs, readStream(t, cl, name))
}
