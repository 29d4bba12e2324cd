package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	td "github.com/sluicedata/sluice/tabledefs"
)

// An outage longer than MaxTransportRetryTime surfaces as a recoverable
// *TransportError from Flush and Write; the records stay queued and are
// delivered in order, exactly once, when the caller retries after it ends.
func TestProducerTransportOutageIsRecoverable(t *testing.T) {
	f := newFake(t, 0)
	outage := &transportErr{syscall.ECONNREFUSED}
	f.setDown(outage)
	tg := newTestTarget(t, f, Options{MaxInFlight: 4, MaxTransportRetryTime: 50 * time.Millisecond})
	ctx := context.Background()
	recs := skewed(600, 20, 10, 11, 30)
	if err := tg.Write(ctx, recs[:300]); err != nil {
		t.Fatal(err)
	}
	err := tg.Flush(ctx)
	var te *TransportError
	if !errors.As(err, &te) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Flush during an outage = %v, want a *TransportError wrapping the cause", err)
	}
	if r, ok := err.(interface{ Retryable() bool }); !ok || !r.Retryable() {
		t.Fatalf("%v is not marked retryable", err)
	}
	if p := tg.Stats().Pending; p != 300 {
		t.Fatalf("pending = %d after the stall, want 300 (nothing dropped)", p)
	}
	// The senders resumed when Flush returned; the outage goes on, so the
	// next failed request stalls them again at once. A Write that gets the
	// stall queues nothing, so the caller's retry of the same records is exact.
	time.Sleep(200 * time.Millisecond)
	err = tg.Write(ctx, recs[300:])
	if !errors.As(err, &te) {
		t.Fatalf("Write during the outage = %v", err)
	}
	if p := tg.Stats().Pending; p != 300 {
		t.Fatalf("pending = %d after a refused Write, want 300", p)
	}
	f.setDown(nil)
	for {
		if err := tg.Write(ctx, recs[300:]); err == nil {
			break
		} else if !errors.As(err, &te) {
			t.Fatal(err)
		}
	}
	for {
		err := tg.Flush(ctx)
		if err == nil {
			break
		}
		if !errors.As(err, &te) {
			t.Fatal(err)
		}
	}
	checkDelivery(t, recs, fakeDelivered(f))
}

// transportErr is a network failure without an API error code.
type transportErr struct{ err error }

func (e *transportErr) Error() string { return "dial tcp: " + e.err.Error() }
func (e *transportErr) Unwrap() error { return e.err }

// Without MaxTransportRetryTime (negative) transport errors are retried
// silently, as before.
func TestProducerTransportRetryForever(t *testing.T) {
	f := newFake(t, 0)
	f.reqErrs = []error{&transportErr{syscall.ECONNRESET}, &transportErr{syscall.ECONNRESET}, &transportErr{syscall.ECONNRESET}}
	tg := newTestTarget(t, f, Options{MaxInFlight: 1, MaxTransportRetryTime: -1})
	recs := workload(40, 5, 1, 3)
	writeAll(t, tg, recs, 40)
	checkDelivery(t, recs, fakeDelivered(f))
}

// A hot key's next record goes into the very next request, ahead of the
// other ready keys, instead of waiting for a full round of the ready list.
func TestProducerHotKeyNextRequest(t *testing.T) {
	f := newFake(t, 0)
	tg := newTestTarget(t, f, Options{MaxInFlight: 1})
	var recs []mapping.Record
	for i := 0; i < 3; i++ {
		recs = append(recs, keyed(0, i))
	}
	for i := 1; i <= 1500; i++ {
		recs = append(recs, keyed(i, 3+i))
	}
	writeAll(t, tg, recs, len(recs))
	checkDelivery(t, recs, fakeDelivered(f))
	var hot []int
	for i, s := range f.snapshot() {
		if s.key == keyName(0) {
			hot = append(hot, i)
		}
	}
	// Requests of 500: the hot key's records are in requests 1, 2 and 3.
	for n, pos := range hot {
		if pos >= (n+1)*maxBatchRecords {
			t.Errorf("hot record %d stored at %d: not in request %d", n, pos, n+1)
		}
	}
}

func keyed(key, seq int) mapping.Record {
	ev := &source.Event{Op: source.OpInsert, Origin: "0/0", Seq: int64(seq)}
	return mapping.Record{Event: ev, Table: ordersTable,
		Values:       []td.Value{td.IntValue(int64(key)), td.IntValue(int64(seq)), td.StringValue("x")},
		PartitionKey: keyName(key), PartitionKeyType: "primary-key"}
}

// The metadata timestamp is mapping.Record.Time when set (one time per
// batch across targets), else the target's clock.
func TestWriteUsesRecordTime(t *testing.T) {
	f := newFake(t, 0)
	clock := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	tg := newTestTarget(t, f, Options{MaxInFlight: 1, Now: func() time.Time { return clock }})
	a, b := keyed(1, 1), keyed(2, 2)
	a.Time = time.Date(2024, 7, 29, 0, 58, 17, 983670000, time.UTC)
	writeAll(t, tg, []mapping.Record{a, b}, 2)
	want := map[string]string{keyName(1): "2024-07-29T00:58:17.983670Z", keyName(2): "2030-01-02T03:04:05.000006Z"}
	for _, s := range f.snapshot() {
		var m struct {
			Metadata struct{ Timestamp string } `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(s.data), &m); err != nil {
			t.Fatal(err)
		}
		if m.Metadata.Timestamp != want[s.key] {
			t.Errorf("%s: timestamp %s, want %s", s.key, m.Metadata.Timestamp, want[s.key])
		}
	}
}
