package kinesis

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/target/kinesis/kinesisfault"
)

// BenchmarkKinesaliteProducer compares, side by side on fresh 4-shard
// streams, a bare PutRecords loop sending pre-built 500-record batches with
// the Target fed the same records (encoding included). Per-record keys (the
// primary-key partitioning of full loads and parallel apply).
//
//	scripts/with-infra.sh go test -run '^$' -bench Kinesalite -benchtime 1x ./target/kinesis/

func BenchmarkKinesaliteProducer(b *testing.B) {
	for _, inFlight := range []int{1, 8} {
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) { benchProducer(b, inFlight) })
	}
}

func benchProducer(b *testing.B, inFlight int) {
	ep := endpoint(b)
	cl := testClient(b, ep)
	const n, rounds = 20000, 3
	recs := skewed(n, n, 100, 3, 0)
	// Rounds alternate bare and target on fresh streams; the emulator shares
	// a loaded machine, so medians of rounds are reported.
	var bare, tgt, ratio, perReq []float64
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			br := bareLoop(b, cl, recs)
			tr, rr := targetLoop(b, cl, recs, inFlight)
			bare, tgt, ratio, perReq = append(bare, br), append(tgt, tr), append(ratio, tr/br), append(perReq, rr)
		}
	}
	b.ReportMetric(median(bare), "bare-records/s")
	b.ReportMetric(median(tgt), "target-records/s")
	b.ReportMetric(median(ratio), "ratio")
	b.ReportMetric(median(perReq), "records/request")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// bareLoop sends pre-built 500-record batches one request at a time.
func bareLoop(b *testing.B, cl *kinesis.Client, recs []mapping.Record) float64 {
	ctx := context.Background()
	name := createStream(b, cl, 4)
	enc := NewEncoder(MessageOptions{MessageFormat: FormatJSONUnformatted})
	var batches [][]types.PutRecordsRequestEntry
	for j := 0; j < len(recs); j += 500 {
		var batch []types.PutRecordsRequestEntry
		for k := j; k < min(j+500, len(recs)); k++ {
			batch = append(batch, types.PutRecordsRequestEntry{Data: enc.Append(nil, &recs[k], time.Now()), PartitionKey: aws.String(recs[k].PartitionKey)})
		}
		batches = append(batches, batch)
	}
	start := time.Now()
	for _, batch := range batches {
		out, err := cl.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: batch})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			b.Fatalf("bare PutRecords: %v", err)
		}
	}
	return float64(len(recs)) / time.Since(start).Seconds()
}

// targetLoop feeds the Target 500 records per Write (encoding included) and
// returns records/s and records per request.
func targetLoop(b *testing.B, cl *kinesis.Client, recs []mapping.Record, inFlight int) (float64, float64) {
	ctx := context.Background()
	name := createStream(b, cl, 4)
	tg, err := New(ctx, Options{StreamName: name, Client: cl, Message: MessageOptions{MessageFormat: FormatJSONUnformatted},
		Logger: quietLogger(), MaxInFlight: inFlight})
	if err != nil {
		b.Fatal(err)
	}
	defer tg.Close(ctx)
	start := time.Now()
	for j := 0; j < len(recs); j += 500 {
		if err := tg.Write(ctx, recs[j:min(j+500, len(recs))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := tg.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	rate := float64(len(recs)) / time.Since(start).Seconds()
	return rate, float64(len(recs)) / float64(tg.Stats().Requests)
}

// BenchmarkShardLimitedThroughput feeds the Target through the shard-limit
// proxy (1,000 records/s per shard, buckets starting empty) and reports the
// sustained rate against the simulated capacity.
func BenchmarkShardLimitedThroughput(b *testing.B) {
	for _, shards := range []int{1, 2} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) { benchShardLimited(b, shards) })
	}
}

func benchShardLimited(b *testing.B, shards int) {
	ep := endpoint(b)
	cl := testClient(b, ep)
	const seconds = 8
	capacity := float64(shards * 1000)
	n := int(capacity) * seconds
	recs := skewed(n, n, 100, 4, 0)
	ctx := context.Background()
	var rate float64
	var throttled int64
	for i := 0; i < b.N; i++ {
		name := createStream(b, cl, int32(shards))
		px, err := kinesisfault.NewProxy(ep, cl, kinesisfault.LimitConfig{})
		if err != nil {
			b.Fatal(err)
		}
		tg, err := New(ctx, Options{StreamName: name, Client: testClient(b, px.URL), Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for j := 0; j < n; j += 500 {
			if err := tg.Write(ctx, recs[j:j+500]); err != nil {
				b.Fatal(err)
			}
		}
		if err := tg.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		rate = float64(n) / time.Since(start).Seconds()
		throttled = tg.Stats().Throttled
		tg.Close(ctx)
		px.Close()
	}
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(capacity, "capacity-records/s")
	b.ReportMetric(rate/capacity, "ratio")
	b.ReportMetric(float64(throttled), "throttled-entries")
}

// BenchmarkKinesaliteHotKey shows the price of strict per-key order: every
// record on one partition key (the CDC default schema.table key) moves one
// record per round trip; MaxRecordsPerKey trades that guarantee for batching.
// bare=1 is the ceiling of strict order: a loop of one-record PutRecords.
// mixed puts 20% of the records on one key among 2,000 others, where the hot
// key's next record must not wait behind a round of every other ready key.
//
//	scripts/with-infra.sh go test -run '^$' -bench HotKey ./target/kinesis/
func BenchmarkKinesaliteHotKey(b *testing.B) {
	for _, perKey := range []int{1, 500} {
		b.Run(fmt.Sprintf("perkey=%d", perKey), func(b *testing.B) {
			benchHotKey(b, skewed(3000, 1, 100, 5, 100), Options{MaxRecordsPerKey: perKey})
		})
	}
	b.Run("bare=1", func(b *testing.B) {
		ep := endpoint(b)
		cl := testClient(b, ep)
		recs := skewed(3000, 1, 100, 5, 100)
		enc := NewEncoder(MessageOptions{MessageFormat: FormatJSONUnformatted})
		ctx := context.Background()
		var rate float64
		for i := 0; i < b.N; i++ {
			name := createStream(b, cl, 1)
			start := time.Now()
			for k := range recs {
				in := &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
					{Data: enc.Append(nil, &recs[k], time.Now()), PartitionKey: aws.String(recs[k].PartitionKey)}}}
				if out, err := cl.PutRecords(ctx, in); err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
					b.Fatalf("bare PutRecords: %v", err)
				}
			}
			rate = float64(len(recs)) / time.Since(start).Seconds()
		}
		b.ReportMetric(rate, "records/s")
	})
	b.Run("mixed", func(b *testing.B) {
		benchHotKey(b, skewed(10000, 2000, 100, 6, 20), Options{})
	})
}

func benchHotKey(b *testing.B, recs []mapping.Record, o Options) {
	ep := endpoint(b)
	cl := testClient(b, ep)
	ctx := context.Background()
	var rate float64
	for i := 0; i < b.N; i++ {
		name := createStream(b, cl, 1)
		o.StreamName, o.Client, o.Logger = name, cl, quietLogger()
		o.Message = MessageOptions{MessageFormat: FormatJSONUnformatted}
		tg, err := New(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for j := 0; j < len(recs); j += 500 {
			if err := tg.Write(ctx, recs[j:min(j+500, len(recs))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := tg.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		rate = float64(len(recs)) / time.Since(start).Seconds()
		tg.Close(ctx)
	}
	b.ReportMetric(rate, "records/s")
}

// latencyAPI accepts every record after a fixed round trip: a stand-in that
// isolates the producer's scheduling from the emulator's noise.
type latencyAPI struct{ rtt time.Duration }

func (l latencyAPI) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{
		StreamName: in.StreamName, StreamStatus: types.StreamStatusActive}}, nil
}

func (l latencyAPI) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	time.Sleep(l.rtt)
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records)), FailedRecordCount: aws.Int32(0)}
	for i := range out.Records {
		out.Records[i].SequenceNumber = aws.String("1")
	}
	return out, nil
}

// BenchmarkHotKeyLatency runs the hot-key workloads against a stand-in with
// a fixed 2 ms round trip: strict order caps one key at 500 records/s, so
// "single" shows the producer's own overhead and "mixed" (10% of 40,000
// records on one key among 20,000, more ready keys than MaxInFlight full
// requests hold) whether the hot key waits behind the others.
//
//	go test -run '^$' -bench HotKeyLatency ./target/kinesis/
func BenchmarkHotKeyLatency(b *testing.B) {
	for _, c := range []struct {
		name string
		recs []mapping.Record
	}{{"single", skewed(1000, 1, 100, 5, 100)}, {"mixed", skewed(40000, 20000, 100, 6, 10)}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			var rate float64
			for i := 0; i < b.N; i++ {
				tg, err := New(ctx, Options{StreamName: "s", Client: latencyAPI{2 * time.Millisecond}, Logger: quietLogger(),
					Message: MessageOptions{MessageFormat: FormatJSONUnformatted}})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for j := 0; j < len(c.recs); j += 500 {
					if err := tg.Write(ctx, c.recs[j:min(j+500, len(c.recs))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := tg.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				rate = float64(len(c.recs)) / time.Since(start).Seconds()
				tg.Close(ctx)
			}
			b.ReportMetric(rate, "records/s")
		})
	}
}
