package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// PutRecords limits (Kinesis API reference).
const (
	maxBatchRecords = 500
	maxBatchBytes   = 5 << 20
)

// entry is one encoded message waiting for Kinesis.
type entry struct {
	key      string
	data     []byte
	size     int // len(key) + len(data)
	attempts int
	ok       bool // accepted by the last request that carried it
}

// keyQueue holds the unacknowledged entries of one partition key in write
// order. Ordering invariant: a keyQueue is either in the dispatcher's ready
// list or owned by exactly one in-flight request, never both, and (with the
// default MaxRecordsPerKey of 1) a request carries only the head entry of
// each key it owns. So a later entry of a key is sent only after every
// earlier one has been accepted by Kinesis.
type keyQueue struct {
	key   string
	items []*entry
}

// batch is one PutRecords request: the first entries of distinct keys, a
// key's entries next to each other.
type batch struct {
	keys  []*keyQueue
	heads []*entry // entries sent, read under t.mu: Write may append to items
	bytes int
}

// take fills b under t.mu: first keys whose previous record was just
// accepted (t.next, up to half a request so new keys are not starved), then
// the ready list (FIFO over keys), then t.next again. A hot key's next record
// thus goes out in the very next request instead of queueing behind every
// other ready key.
func (t *Target) take(b *batch) {
	b.keys, b.heads, b.bytes = b.keys[:0], b.heads[:0], 0
	t.takeNext(b, maxBatchRecords/2)
	for len(b.keys) < maxBatchRecords && t.readyHead < len(t.ready) {
		if !t.add(b, t.ready[t.readyHead]) {
			break
		}
		t.ready[t.readyHead] = nil
		t.readyHead++
	}
	t.takeNext(b, maxBatchRecords)
	if t.readyHead == len(t.ready) {
		t.ready, t.readyHead = t.ready[:0], 0
	} else if t.readyHead > 4096 && t.readyHead > len(t.ready)/2 {
		n := copy(t.ready, t.ready[t.readyHead:])
		clear(t.ready[n:])
		t.ready, t.readyHead = t.ready[:n], 0
	}
}

// takeNext moves keys from t.next into b while b holds fewer than limit records.
func (t *Target) takeNext(b *batch, limit int) {
	n := 0
	for n < len(t.next) && len(b.keys) < limit && t.add(b, t.next[n]) {
		n++
	}
	if n > 0 {
		m := copy(t.next, t.next[n:])
		clear(t.next[m:])
		t.next = t.next[:m]
	}
}

// add puts up to MaxRecordsPerKey head entries of kq into b; false when
// none fit (the request is full).
func (t *Target) add(b *batch, kq *keyQueue) bool {
	taken := 0
	for _, e := range kq.items[:min(len(kq.items), t.o.MaxRecordsPerKey)] {
		if len(b.keys) == maxBatchRecords || len(b.keys) > 0 && b.bytes+e.size > maxBatchBytes {
			break
		}
		b.keys = append(b.keys, kq)
		b.heads = append(b.heads, e)
		b.bytes += e.size
		taken++
	}
	return taken > 0
}

// runnable reports whether a sender has work, under t.mu.
func (t *Target) runnable() bool {
	return t.stall == nil && (len(t.next) > 0 || t.readyHead < len(t.ready))
}

// requeue returns the keys of an unsent request to the ready list, in
// request order (their queues are untouched).
func (t *Target) requeue(b *batch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, kq := range b.keys {
		if i == 0 || b.keys[i-1] != kq {
			t.ready = append(t.ready, kq)
		}
	}
}

// sender runs one request at a time until ctx is cancelled (Close).
func (t *Target) sender(ctx context.Context) {
	var b batch
	in := &kinesis.PutRecordsInput{}
	if t.sendName {
		in.StreamName = aws.String(t.name)
	}
	if t.arn != "" {
		in.StreamARN = aws.String(t.arn)
	}
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for {
		t.mu.Lock()
		for !t.runnable() && ctx.Err() == nil && t.err == nil {
			t.cond.Wait()
		}
		if ctx.Err() != nil || t.err != nil {
			t.mu.Unlock()
			return
		}
		t.take(&b)
		if t.runnable() {
			t.cond.Signal() // more than one request's worth: hand it on
		}
		t.mu.Unlock()

		in.Records = in.Records[:0]
		for _, e := range b.heads {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{Data: e.data, PartitionKey: aws.String(e.key)})
		}
		failed, attempts, accepted, err := t.send(ctx, in, &b, rng)
		if err == errStalled {
			t.requeue(&b) // resent in order once the runner retries
			continue
		}
		if err != nil {
			if ctx.Err() == nil { // cancelled by Close: not a task error
				t.fail(err)
			}
			return
		}
		if len(failed) > 0 {
			// Failed keys stay parked (out of the ready list) until their
			// backoff ends, so nothing later of those keys can overtake them;
			// meanwhile this sender carries on with other keys.
			time.AfterFunc(jitter(backoffFor(attempts), rng), func() {
				t.mu.Lock()
				t.ready = append(t.ready, failed...)
				t.broadcastLocked()
				t.mu.Unlock()
			})
			// Under a tenth accepted: the shards are saturated, so this
			// sender pauses too rather than hammer them with other keys
			// (capacity accrues meanwhile; the backoff cap is below a second).
			if accepted*10 < int64(len(in.Records)) {
				if err := sleep(ctx, jitter(backoffFor(attempts), rng)); err != nil {
					return
				}
			}
		}
	}
}

// errStalled tells a sender that the target is stalled on transport errors:
// its request was not accepted and goes back to the ready list.
var errStalled = errors.New("kinesis target stalled")

// TransportError reports that PutRecords has failed without any response
// from Kinesis (connection refused or reset, timeouts, DNS) for longer than
// Options.MaxTransportRetryTime. It is recoverable: Retryable reports true so
// the task's RecoverableError* settings decide whether to try again. Nothing
// is lost: the records not yet accepted stay queued in order, and the
// senders resume as soon as the error has been returned to the caller.
type TransportError struct {
	Stream string
	For    time.Duration // how long requests have been failing
	Err    error         // the last transport error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("kinesis stream %s unreachable for %s: %v", e.Stream, e.For.Round(time.Millisecond), e.Err)
}
func (e *TransportError) Unwrap() error   { return e.Err }
func (e *TransportError) Retryable() bool { return true }

// transportFailed records a request that got no response and reports
// whether the target is now stalled (MaxTransportRetryTime exceeded).
func (t *Target) transportFailed(err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if t.transportSince.IsZero() {
		t.transportSince = now
	}
	if d := now.Sub(t.transportSince); t.stall == nil && t.o.MaxTransportRetryTime > 0 && d >= t.o.MaxTransportRetryTime {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			err = errors.New(err.Error()) // not the caller's context: keep it retryable
		}
		t.stall = &TransportError{Stream: t.name, For: d, Err: err}
		t.o.Logger.Error("kinesis stream unreachable, returning a recoverable error", "stream", t.name, "for", d, "error", err)
		t.broadcastLocked()
	}
	return t.stall != nil
}

// takeStall returns the stall error once and resumes the senders, under t.mu.
func (t *Target) takeStall() error {
	err := t.stall
	if err == nil {
		return nil
	}
	t.stall = nil
	t.cond.Broadcast()
	return err
}

// send performs one PutRecords and settles the successful entries. It
// returns the keys whose entries must be resent, the highest attempt count
// among those entries and how many entries were accepted, errStalled, or a
// permanent error.
func (t *Target) send(ctx context.Context, in *kinesis.PutRecordsInput, b *batch, rng *rand.Rand) (failed []*keyQueue, attempts int, accepted int64, err error) {
	for attempt := 1; ; attempt++ {
		t.stats.requests.Add(1)
		out, err := t.client.PutRecords(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, 0, ctx.Err()
			}
			if !retryableRequest(err) {
				return nil, 0, 0, fmt.Errorf("putting %d records to kinesis stream %s: %w", len(in.Records), t.name, err)
			}
			t.stats.throttled.Add(int64(len(in.Records)))
			t.stats.retries.Add(int64(len(in.Records)))
			if !transport(err) {
				t.mu.Lock()
				t.transportSince = time.Time{} // Kinesis answered (throttling, server fault)
				t.mu.Unlock()
			} else if t.transportFailed(err) {
				return nil, 0, 0, errStalled
			}
			t.o.Logger.Warn("kinesis PutRecords failed, retrying", "stream", t.name, "records", len(in.Records), "attempt", attempt, "error", err)
			if err := sleep(ctx, jitter(backoffFor(attempt), rng)); err != nil {
				return nil, 0, 0, err
			}
			t.mu.Lock()
			stalled := t.stall != nil // another sender gave up meanwhile
			t.mu.Unlock()
			if stalled {
				return nil, 0, 0, errStalled
			}
			continue
		}
		if len(out.Records) != len(in.Records) {
			return nil, 0, 0, fmt.Errorf("putting records to kinesis stream %s: response has %d entries for %d records", t.name, len(out.Records), len(in.Records))
		}
		var permanent error
		var ackRecs, ackBytes, nfailed, reordered int64
		t.mu.Lock()
		t.transportSince = time.Time{} // Kinesis answered
		for i, r := range out.Records {
			e := b.heads[i]
			e.ok = r.ErrorCode == nil
			if e.ok {
				ackRecs++
				ackBytes += int64(e.size)
				continue
			}
			nfailed++
			e.attempts++
			attempts = max(attempts, e.attempts)
			code := *r.ErrorCode
			if retryableEntry(code) {
				t.stats.throttled.Add(1)
			} else if permanent == nil {
				permanent = fmt.Errorf("putting record with partition key %q to kinesis stream %s: %s: %s", e.key, t.name, code, aws.ToString(r.ErrorMessage))
			}
		}
		// Settle key by key: a key's entries are items[:taken] of its queue.
		for i := 0; i < len(b.keys); {
			kq := b.keys[i]
			taken := 1
			for i+taken < len(b.keys) && b.keys[i+taken] == kq {
				taken++
			}
			i += taken
			// Keep the failed entries, in order, at the end of the prefix.
			w, sawFail := taken, false
			for k := 0; k < taken; k++ {
				if !kq.items[k].ok {
					sawFail = true
				} else if sawFail {
					reordered++ // only possible with MaxRecordsPerKey > 1
				}
			}
			for k := taken - 1; k >= 0; k-- {
				if e := kq.items[k]; !e.ok {
					w--
					kq.items[w] = e
				}
			}
			clear(kq.items[:w])
			kq.items = kq.items[w:]
			switch {
			case w < taken:
				failed = append(failed, kq)
			case len(kq.items) > 0:
				t.next = append(t.next, kq)
			default:
				delete(t.keys, kq.key)
			}
		}
		t.pending -= int(ackRecs)
		t.bufBytes -= int(ackBytes)
		if ackRecs > 0 {
			// No cond wake-up: this sender takes the next request itself
			// and wakes another if work is left (waking every idle sender
			// for a single hot key cost a scheduler round per record).
			close(t.changed)
			t.changed = make(chan struct{})
		}
		t.mu.Unlock()
		t.stats.records.Add(ackRecs)
		t.stats.bytes.Add(ackBytes)
		if permanent != nil {
			return nil, 0, 0, permanent
		}
		t.stats.retries.Add(nfailed)
		if reordered > 0 {
			t.stats.reordered.Add(reordered)
			t.o.Logger.Warn("kinesis partial failure reordered records of a partition key (MaxRecordsPerKey > 1)", "stream", t.name, "records", reordered)
		}
		return failed, attempts, ackRecs, nil
	}
}

// Backoff: 25 ms doubling to 500 ms. The cap stays below Kinesis's one-second
// shard accounting window, so a throttled producer retries before the
// capacity it waited for is lost.
func backoffFor(attempt int) time.Duration {
	d := 25 * time.Millisecond
	for i := 1; i < attempt && d < 500*time.Millisecond; i++ {
		d *= 2
	}
	return min(d, 500*time.Millisecond)
}

// jitter returns a duration in [d/2, d].
func jitter(d time.Duration, rng *rand.Rand) time.Duration {
	return d/2 + time.Duration(rng.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// retryableEntry says whether a per-record PutRecords error code is
// transient: throttling and internal failures are retried without limit.
func retryableEntry(code string) bool {
	switch code {
	case "ProvisionedThroughputExceededException", "InternalFailure", "InternalFailureException", "KMSThrottlingException", "ServiceUnavailable":
		return true
	}
	return false
}

// retryableRequest says whether a whole-request error is transient. API
// errors are permanent unless they are throttling or server faults
// (missing stream, access denied, KMS key disabled, validation); transport
// errors without an API code are retried.
func retryableRequest(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "LimitExceededException", "InternalFailure",
			"InternalFailureException", "KMSThrottlingException", "ServiceUnavailable", "ThrottlingException":
			return true
		}
		return ae.ErrorFault() == smithy.FaultServer && !permanentCode(ae.ErrorCode())
	}
	return true
}

// transport reports whether err came without any response from Kinesis
// (no API error code): only these count towards MaxTransportRetryTime;
// throttling and server faults are retried without limit.
func transport(err error) bool {
	var ae smithy.APIError
	return !errors.As(err, &ae)
}

func permanentCode(code string) bool {
	switch code {
	case "ResourceNotFoundException", "AccessDeniedException", "ValidationException", "InvalidArgumentException",
		"KMSDisabledException", "KMSInvalidStateException", "KMSNotFoundException", "KMSAccessDeniedException",
		"KMSOptInRequired", "UnrecognizedClientException", "ResourceInUseException":
		return true
	}
	return false
}
