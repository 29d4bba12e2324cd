package kinesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// fakeKinesis is an in-memory stream with failure injection that also
// checks the producer's ordering invariant: no partition key in two
// concurrent requests, and no key twice in one request.
type fakeKinesis struct {
	t *testing.T

	mu        sync.Mutex
	status    types.StreamStatus
	maxKiB    int32
	stored    []stored
	seq       int64
	inflight  map[string]bool
	requests  int
	maxBatch  int
	maxBytes  int
	failRate  float64
	rng       *rand.Rand
	entryCode string          // failure code for injected entry failures
	reqErrs   []error         // returned by the next requests, one each
	downErr   error           // when set, returned by every request (an outage)
	gate      chan struct{}   // when set, every request waits for it
	perKey    bool            // MaxRecordsPerKey > 1: a key may repeat within a request
	names     map[string]bool // StreamName values seen
	needName  bool            // like kinesalite: requests without StreamName fail validation
	arns      map[string]bool
}

type stored struct {
	key  string
	data string
	seq  int64
}

func newFake(t *testing.T, failRate float64) *fakeKinesis {
	return &fakeKinesis{t: t, status: types.StreamStatusActive, inflight: map[string]bool{}, failRate: failRate,
		rng: rand.New(rand.NewPCG(1, 2)), entryCode: "ProvisionedThroughputExceededException", names: map[string]bool{}, arns: map[string]bool{}}
}

func (f *fakeKinesis) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names[aws.ToString(in.StreamName)] = true
	if f.needName && in.StreamName == nil {
		return nil, apiErr("ValidationException", smithy.FaultClient)
	}
	if f.status == "" {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Stream " + aws.ToString(in.StreamName) + " not found")}
	}
	sd := &types.StreamDescriptionSummary{StreamName: in.StreamName, StreamStatus: f.status}
	if f.maxKiB > 0 {
		sd.MaxRecordSizeInKiB = aws.Int32(f.maxKiB)
	}
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: sd}, nil
}

func (f *fakeKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	f.requests++
	f.names[aws.ToString(in.StreamName)] = true
	if f.needName && in.StreamName == nil {
		f.t.Errorf("PutRecords without StreamName after the endpoint asked for it")
	}
	if in.StreamARN != nil {
		f.arns[*in.StreamARN] = true
	}
	if len(in.Records) > maxBatchRecords {
		f.t.Errorf("request with %d records", len(in.Records))
	}
	bytes := 0
	seen := map[string]bool{}
	for _, r := range in.Records {
		k := aws.ToString(r.PartitionKey)
		bytes += len(k) + len(r.Data)
		if seen[k] && !f.perKey {
			f.t.Errorf("key %q twice in one request", k)
		}
		if f.inflight[k] && !seen[k] {
			f.t.Errorf("key %q in two concurrent requests", k)
		}
		seen[k] = true
		f.inflight[k] = true
	}
	if bytes > maxBatchBytes {
		f.t.Errorf("request of %d bytes", bytes)
	}
	f.maxBatch = max(f.maxBatch, len(in.Records))
	f.maxBytes = max(f.maxBytes, bytes)
	var reqErr error
	if len(f.reqErrs) > 0 {
		reqErr, f.reqErrs = f.reqErrs[0], f.reqErrs[1:]
	} else if f.downErr != nil {
		reqErr = f.downErr
	}
	gate := f.gate
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		for k := range seen {
			delete(f.inflight, k)
		}
		f.mu.Unlock()
	}()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if reqErr != nil {
		return nil, reqErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
	failed := int32(0)
	for i, r := range in.Records {
		if f.rng.Float64() < f.failRate {
			out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String(f.entryCode), ErrorMessage: aws.String("injected")}
			failed++
			continue
		}
		f.seq++
		f.stored = append(f.stored, stored{key: aws.ToString(r.PartitionKey), data: string(r.Data), seq: f.seq})
		out.Records[i] = types.PutRecordsResultEntry{SequenceNumber: aws.String(strconv.FormatInt(f.seq, 10)), ShardId: aws.String("shardId-000000000000")}
	}
	out.FailedRecordCount = aws.Int32(failed)
	return out, nil
}

func apiErr(code string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: "fake " + code, Fault: fault}
}

func (f *fakeKinesis) setDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.downErr = err
}

func (f *fakeKinesis) snapshot() []stored {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stored(nil), f.stored...)
}

func keyName(i int) string { return fmt.Sprintf("public.orders.%d", i) }
