package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	td "github.com/sluicedata/sluice/tabledefs"
)

var ordersTable = &mapping.TargetTable{Schema: "public", Name: "orders", Columns: []td.Column{
	{Name: "id", Type: td.TypeInt8, IsPK: true}, {Name: "seq", Type: td.TypeInt8}, {Name: "pad", Type: td.TypeString}}}

// skewed makes n inserts over nkeys keys; key 0 is hot (hotPercent of all
// records) so that per-key ordering is exercised with deep per-key queues.
func workload(n, nkeys, pad int, seed uint64) []mapping.Record { return skewed(n, nkeys, pad, seed, 1) }

func skewed(n, nkeys, pad int, seed uint64, hotPercent int) []mapping.Record {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	recs := make([]mapping.Record, n)
	p := strings.Repeat("x", pad)
	for i := range recs {
		k := rng.IntN(nkeys)
		if rng.IntN(100) < hotPercent {
			k = 0
		}
		ev := &source.Event{Op: source.OpInsert, TxID: "1", Origin: "0/0", Seq: int64(i)}
		recs[i] = mapping.Record{Event: ev, Table: ordersTable,
			Values:       []td.Value{td.IntValue(int64(k)), td.IntValue(int64(i)), td.StringValue(p)},
			PartitionKey: keyName(k), PartitionKeyType: "primary-key"}
	}
	return recs
}

type delivered struct {
	key  string
	data []byte
}

// checkDelivery proves nothing lost, nothing duplicated and per-key order:
// the records read back for each key, in stream order, are exactly the
// records written with that key, in write order.
func checkDelivery(t *testing.T, written []mapping.Record, got []delivered) {
	t.Helper()
	checkDeliveryDups(t, written, got, 0)
}

// checkDeliveryDups is checkDelivery allowing up to dups duplicates, each
// right after the copy it repeats: a PutRecords request whose response was
// lost in transport is sent again by the SDK, and Kinesis keeps both copies
// (at-least-once). Order per key must still hold exactly.
func checkDeliveryDups(t *testing.T, written []mapping.Record, got []delivered, dups int64) {
	t.Helper()
	want := map[string][]int64{}
	for _, r := range written {
		want[r.PartitionKey] = append(want[r.PartitionKey], r.Values[1].Int)
	}
	have := map[string][]int64{}
	for _, d := range got {
		var m struct {
			Data struct {
				Seq int64 `json:"seq"`
			} `json:"data"`
		}
		if err := json.Unmarshal(d.data, &m); err != nil {
			t.Fatalf("record is not JSON: %v: %s", err, d.data)
		}
		have[d.key] = append(have[d.key], m.Data.Seq)
	}
	// Match each key's records against what was written; a record equal
	// to the one before it that is not the next one expected is a repeat.
	var repeated int64
	for k, h := range have {
		w := want[k]
		kept := h[:0:0]
		for i, seq := range h {
			if len(kept) < len(w) && seq == w[len(kept)] {
				kept = append(kept, seq)
				continue
			}
			if i > 0 && seq == h[i-1] {
				repeated++
				continue
			}
			kept = append(kept, seq)
		}
		have[k] = kept
	}
	if repeated > dups {
		t.Errorf("%d duplicates, at most %d allowed", repeated, dups)
	}
	if int64(len(got))-repeated != int64(len(written)) {
		t.Errorf("read %d records (%d of them repeats), wrote %d", len(got), repeated, len(written))
	}
	for k, w := range want {
		h := have[k]
		if len(h) != len(w) {
			t.Errorf("key %s: read %d records, wrote %d", k, len(h), len(w))
			continue
		}
		for i := range w {
			if h[i] != w[i] {
				t.Errorf("key %s: record %d is seq %d, want %d (order broken)", k, i, h[i], w[i])
				break
			}
		}
	}
}

func fakeDelivered(f *fakeKinesis) []delivered {
	var out []delivered
	for _, s := range f.snapshot() {
		out = append(out, delivered{key: s.key, data: []byte(s.data)})
	}
	return out
}

func newTestTarget(t *testing.T, f *fakeKinesis, o Options) *Target {
	t.Helper()
	o.Client = f
	if o.StreamName == "" && o.StreamARN == "" {
		o.StreamName = "orders"
	}
	o.Message.MessageFormat = FormatJSONUnformatted
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	tg, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close(context.Background()) })
	return tg
}

func writeAll(t *testing.T, tg *Target, recs []mapping.Record, chunk int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(recs); i += chunk {
		if err := tg.Write(ctx, recs[i:min(i+chunk, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestProducerOrderUnderPartialFailures(t *testing.T) {
	for _, rate := range []float64{0, 0.3, 0.6} {
		t.Run(fmt.Sprintf("fail%.0f%%", rate*100), func(t *testing.T) {
			f := newFake(t, rate)
			tg := newTestTarget(t, f, Options{MaxInFlight: 6})
			n := 20000
			if rate > 0.5 {
				n = 4000 // every entry needs ~2.5 attempts: keep the test short
			}
			recs := skewed(n, 400, 10, 7, 1) // hot key: 1% of records queued behind each other
			writeAll(t, tg, recs, 700)
			checkDelivery(t, recs, fakeDelivered(f))
			st := tg.Stats()
			if st.Records != int64(len(recs)) || st.Pending != 0 {
				t.Errorf("stats %+v", st)
			}
			if rate > 0 && (st.Retries == 0 || st.Throttled != st.Retries) {
				t.Errorf("expected retries counted: %+v", st)
			}
			if f.maxBatch < 2 {
				t.Errorf("never batched: max %d records per request", f.maxBatch)
			}
		})
	}
}

func TestProducerBatchLimits(t *testing.T) {
	f := newFake(t, 0)
	tg := newTestTarget(t, f, Options{MaxInFlight: 2})
	big := workload(200, 200, 100<<10, 3) // 100 KiB each: 5 MiB caps at ~51
	small := workload(3000, 3000, 1, 4)
	writeAll(t, tg, big, 200)
	if f.maxBytes > maxBatchBytes || f.maxBatch > 51 {
		t.Errorf("max request %d bytes / %d records", f.maxBytes, f.maxBatch)
	}
	writeAll(t, tg, small, 3000)
	if f.maxBatch != maxBatchRecords {
		t.Errorf("max records per request %d, want %d", f.maxBatch, maxBatchRecords)
	}
	checkDelivery(t, append(big, small...), fakeDelivered(f))
}

type rejects struct {
	mu  sync.Mutex
	got []source.Reject
}

func (r *rejects) Reject(x source.Reject) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, x)
	return nil
}

func TestProducerOversizeRejected(t *testing.T) {
	f := newFake(t, 0)
	f.maxKiB = 2 // stream reports 2 KiB records
	rj := &rejects{}
	tg := newTestTarget(t, f, Options{Rejecter: rj})
	recs := workload(3, 3, 10, 1)
	huge := workload(1, 1, 4096, 2)[0]
	huge.Event = &source.Event{Op: source.OpInsert, Origin: "s3://b/k.csv", Seq: 17}
	noKey := recs[1]
	noKey.PartitionKey = ""
	longKey := recs[1]
	longKey.PartitionKey = strings.Repeat("é", 257)
	in := []mapping.Record{recs[0], huge, noKey, longKey, recs[2]}
	writeAll(t, tg, in, 10)
	checkDelivery(t, []mapping.Record{recs[0], recs[2]}, fakeDelivered(f))
	if len(rj.got) != 3 || !strings.Contains(rj.got[2].Reason, "longer than 256") || rj.got[0].Position != "s3://b/k.csv:17" || !strings.Contains(rj.got[0].Reason, "maximum record size of 2048") ||
		rj.got[0].Table != "orders" || !strings.Contains(rj.got[1].Reason, "empty partition key") {
		t.Fatalf("rejects %+v", rj.got)
	}
	if tg.Stats().Rejected != 3 {
		t.Errorf("stats %+v", tg.Stats())
	}
	// Without a Rejecter the task stops.
	tg2 := newTestTarget(t, newFake(t, 0), Options{MaxRecordSize: 100})
	if err := tg2.Write(context.Background(), []mapping.Record{huge}); err == nil || !strings.Contains(err.Error(), "s3://b/k.csv:17") {
		t.Fatalf("want oversize error, got %v", err)
	}
}

func TestProducerPermanentErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*fakeKinesis)
		wantErr string
	}{
		{"kms disabled entry", func(f *fakeKinesis) { f.failRate, f.entryCode = 1, "KMSDisabledException" }, "KMSDisabledException"},
		{"stream deleted", func(f *fakeKinesis) { f.reqErrs = []error{apiErr("ResourceNotFoundException", smithy.FaultClient)} }, "ResourceNotFoundException"},
		{"access denied", func(f *fakeKinesis) { f.reqErrs = []error{apiErr("AccessDeniedException", smithy.FaultClient)} }, "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, 0)
			tg := newTestTarget(t, f, Options{MaxInFlight: 1})
			tt.setup(f)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := tg.Write(ctx, workload(10, 5, 1, 1)); err != nil {
				t.Fatal(err)
			}
			err := tg.Flush(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Flush = %v, want %s", err, tt.wantErr)
			}
			if err := tg.Write(ctx, workload(1, 1, 1, 1)); err == nil {
				t.Fatal("Write after a permanent error succeeded")
			}
			if err := tg.Close(ctx); err == nil {
				t.Fatal("Close after a permanent error returned nil")
			}
		})
	}
}

func TestProducerRetriesTransientRequestErrors(t *testing.T) {
	f := newFake(t, 0)
	f.reqErrs = []error{apiErr("ProvisionedThroughputExceededException", smithy.FaultClient), errors.New("connection reset"),
		apiErr("InternalFailure", smithy.FaultServer), apiErr("ServiceUnavailable", smithy.FaultServer)}
	tg := newTestTarget(t, f, Options{MaxInFlight: 1})
	recs := workload(50, 10, 1, 9)
	writeAll(t, tg, recs, 50)
	checkDelivery(t, recs, fakeDelivered(f))
	if st := tg.Stats(); st.Requests < 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestFlushWaitsForAcknowledgement(t *testing.T) {
	f := newFake(t, 0)
	f.gate = make(chan struct{})
	tg := newTestTarget(t, f, Options{})
	if err := tg.Write(context.Background(), workload(10, 10, 1, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := tg.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush returned %v before Kinesis acknowledged", err)
	}
	if len(f.snapshot()) != 0 {
		t.Fatal("stored before the gate opened")
	}
	close(f.gate)
	if err := tg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(f.snapshot()) != 10 {
		t.Fatalf("stored %d", len(f.snapshot()))
	}
}

func TestNewChecksStream(t *testing.T) {
	ctx := context.Background()
	f := newFake(t, 0)
	f.status = ""
	if _, err := New(ctx, Options{StreamName: "nope", Client: f}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing stream: %v", err)
	}
	f.status = "CREATING"
	if _, err := New(ctx, Options{StreamName: "s", Client: f}); err == nil || !strings.Contains(err.Error(), "not ACTIVE") {
		t.Fatalf("creating stream: %v", err)
	}
	if _, err := New(ctx, Options{StreamARN: "arn:aws:s3:::bucket", Client: f}); err == nil {
		t.Fatal("non-stream ARN accepted")
	}
	if _, err := New(ctx, Options{Client: f}); err == nil {
		t.Fatal("no stream accepted")
	}
	for _, m := range []MessageOptions{{MessageFormat: "xml"}, {BeforeImage: BeforeImageOptions{Enabled: true}},
		{BeforeImage: BeforeImageOptions{Enabled: true, FieldName: "b", ColumnFilter: "some"}}} {
		if _, err := New(ctx, Options{StreamName: "s", Client: f, Message: m}); err == nil {
			t.Fatalf("options %+v accepted", m)
		}
	}
	// ARN only: requests carry the ARN alone (a stream of another account);
	// an endpoint that insists on a name (kinesalite) gets the derived one.
	arn := "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-arn"
	for _, needName := range []bool{false, true} {
		f = newFake(t, 0)
		f.needName = needName
		tg := newTestTarget(t, f, Options{StreamARN: arn})
		writeAll(t, tg, workload(5, 5, 1, 1), 5)
		wantNames := map[string]bool{"": true}
		if needName {
			wantNames["orders-arn"] = true
		}
		if fmt.Sprint(f.names) != fmt.Sprint(wantNames) || !f.arns[arn] || tg.StreamName() != "orders-arn" || len(f.stored) != 5 {
			t.Fatalf("needName %v: names %v arns %v, %d stored", needName, f.names, f.arns, len(f.stored))
		}
	}
}

func TestWriteSkipsSuppressedControlRecords(t *testing.T) {
	f := newFake(t, 0)
	tg := newTestTarget(t, f, Options{Message: MessageOptions{TaskID: "T"}})
	tr := mapping.Record{Event: &source.Event{Op: source.OpTruncate}, Table: ordersTable, PartitionKey: "T.public.orders"}
	ct := tr
	ct.Event = &source.Event{Op: source.OpCreateTable}
	writeAll(t, tg, []mapping.Record{tr, ct}, 2)
	got := f.snapshot()
	if len(got) != 1 || !strings.Contains(got[0].data, `"create-table"`) {
		t.Fatalf("stored %v", got)
	}
}

func TestBackoff(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	prev := time.Duration(0)
	for a := 1; a < 20; a++ {
		d := backoffFor(a)
		if d < prev || d > 500*time.Millisecond {
			t.Fatalf("backoff(%d) = %v", a, d)
		}
		prev = d
		if j := jitter(d, rng); j < d/2 || j > d {
			t.Fatalf("jitter(%v) = %v", d, j)
		}
	}
	if retryableEntry("KMSDisabledException") || !retryableEntry("KMSThrottlingException") || !retryableEntry("InternalFailure") {
		t.Fatal("entry classification")
	}
	if retryableRequest(apiErr("ValidationException", smithy.FaultClient)) || !retryableRequest(errors.New("EOF")) {
		t.Fatal("request classification")
	}
}

// MaxRecordsPerKey > 1 trades the ordering guarantee for hot-key throughput;
// every reorder is counted.
func TestProducerRecordsPerKey(t *testing.T) {
	for _, rate := range []float64{0, 0.3} {
		t.Run(fmt.Sprintf("fail%.0f%%", rate*100), func(t *testing.T) {
			f := newFake(t, rate)
			f.perKey = true
			tg := newTestTarget(t, f, Options{MaxInFlight: 4, MaxRecordsPerKey: 50})
			recs := skewed(5000, 50, 10, 3, 50) // half the records on one key
			writeAll(t, tg, recs, 500)
			got := fakeDelivered(f)
			if len(got) != len(recs) {
				t.Fatalf("delivered %d of %d", len(got), len(recs))
			}
			wantSeq := map[string][]int64{}
			for _, r := range recs {
				wantSeq[r.PartitionKey] = append(wantSeq[r.PartitionKey], r.Values[1].Int)
			}
			inOrder := true
			seen := map[int64]bool{}
			pos := map[string]int{}
			for _, d := range got {
				var m struct {
					Data struct{ Seq int64 } `json:"data"`
				}
				if err := json.Unmarshal(d.data, &m); err != nil {
					t.Fatal(err)
				}
				if seen[m.Data.Seq] {
					t.Fatalf("seq %d delivered twice", m.Data.Seq)
				}
				seen[m.Data.Seq] = true
				if wantSeq[d.key][pos[d.key]] != m.Data.Seq {
					inOrder = false
				}
				pos[d.key]++
			}
			st := tg.Stats()
			if inOrder != (st.Reordered == 0) {
				t.Fatalf("in order %v but Reordered %d", inOrder, st.Reordered)
			}
			if rate > 0 && st.Reordered == 0 {
				t.Fatal("30% failures with 50 records per key never reordered: the check is not exercised")
			}
			if rate == 0 && (!inOrder || f.maxBatch <= 50) {
				t.Fatalf("without failures order must hold and batches must be full: max batch %d", f.maxBatch)
			}
		})
	}
}
