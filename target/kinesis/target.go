package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/target"
)

// API is the part of the Kinesis client the target uses.
type API interface {
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// Options configure a Kinesis target.
type Options struct {
	StreamARN   string
	StreamName  string // derived from StreamARN when empty (then sent only if the endpoint needs it)
	EndpointURL string // BaseEndpoint of the client built when Client is nil
	Message     MessageOptions
	// MaxInFlight bounds concurrent PutRecords requests (default 8).
	MaxInFlight int
	// MaxRecordSize is the largest partition key + data accepted (default:
	// the stream's MaxRecordSizeInKiB when reported, else 1 MiB). Larger
	// records go to Rejecter and are never sent.
	MaxRecordSize int
	// MaxRecordsPerKey is how many records of one partition key a request
	// may carry. 1 (the default) guarantees per-key order: a later record of a
	// key is never accepted before an earlier one. More raises a hot key's
	// throughput (one key otherwise moves one record per round trip) but a
	// partial failure can then reorder that key; such events are counted in
	// Stats.Reordered and logged.
	MaxRecordsPerKey int
	// MaxBufferedBytes bounds encoded bytes waiting for Kinesis; Write blocks
	// above it (default 64 MiB).
	MaxBufferedBytes int
	// MaxTransportRetryTime bounds how long PutRecords may fail without any
	// response from Kinesis (connection refused or reset, timeouts) before
	// Write/Flush return a recoverable *TransportError (default 5 minutes;
	// negative: retry forever). Throttling and server faults are always
	// retried without limit.
	MaxTransportRetryTime time.Duration
	Client                API
	Rejecter              target.Rejecter
	Logger                *slog.Logger
	// Now is the metadata timestamp clock for records without
	// mapping.Record.Time (default time.Now).
	Now func() time.Time
}

// Stats is a snapshot of the producer's counters.
type Stats struct {
	Records   int64 // records acknowledged by Kinesis
	Bytes     int64 // data + partition-key bytes acknowledged
	Requests  int64 // PutRecords calls made
	Retries   int64 // entries sent again after a failure
	Throttled int64 // entries that failed with a retryable code
	Rejected  int64 // records refused before sending (oversize, bad key)
	Reordered int64 // records accepted after a failed earlier record of their key (MaxRecordsPerKey > 1 only)
	Pending   int64 // records written but not yet acknowledged
}

type counters struct {
	records, bytes, requests, retries, throttled, rejected, reordered atomic.Int64
}

// Target writes records to one Kinesis stream. Write and Flush are called
// from one goroutine (the runner); the senders run in the background.
type Target struct {
	o        Options
	name     string
	arn      string
	sendName bool // put StreamName in requests (no ARN, or an emulator that needs it)
	client   API
	enc      *Encoder
	slab     []byte

	mu        sync.Mutex
	cond      *sync.Cond // senders wait on it for ready keys
	changed   chan struct{}
	keys      map[string]*keyQueue
	ready     []*keyQueue
	readyHead int
	next      []*keyQueue // keys whose previous record was just accepted: sent first
	pending   int
	bufBytes  int
	err       error
	// stall, when set, pauses the senders until Write or Flush has returned
	// it (MaxTransportRetryTime); transportSince starts the current run of
	// requests that got no response.
	stall          error
	transportSince time.Time

	stats  counters
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

// ParseStreamARN returns the stream name and region of a Kinesis stream ARN
// (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).
func ParseStreamARN(streamARN string) (name, region string, err error) {
	a, err := arn.Parse(streamARN)
	if err != nil || a.Service != "kinesis" || !strings.HasPrefix(a.Resource, "stream/") || a.Resource == "stream/" {
		return "", "", fmt.Errorf("kinesis StreamArn %q: not a stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)", streamARN)
	}
	return strings.TrimPrefix(a.Resource, "stream/"), a.Region, nil
}

// NewClient builds a Kinesis client from the default credential chain.
// endpointURL, when set, is the client's BaseEndpoint; region is used when
// the configuration names none (a stream ARN's region).
func NewClient(ctx context.Context, endpointURL, region string) (*kinesis.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = region
	}
	return kinesis.NewFromConfig(cfg, func(ko *kinesis.Options) {
		if endpointURL != "" {
			ko.BaseEndpoint = aws.String(endpointURL)
		}
	}), nil
}

// DescribeStream describes the stream given by ARN and/or name. With an ARN
// and no name, the request carries the ARN only (what AWS needs for a stream
// of another account); when the endpoint insists on a name (kinesalite
// answers ValidationException), it is asked again with the name taken from
// the ARN, and sendName tells the caller to keep sending it.
func DescribeStream(ctx context.Context, api interface {
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}, streamARN, name string) (sd *types.StreamDescriptionSummary, sendName bool, err error) {
	in := &kinesis.DescribeStreamSummaryInput{}
	if streamARN != "" {
		in.StreamARN = aws.String(streamARN)
		if name == "" {
			if name, _, err = ParseStreamARN(streamARN); err != nil {
				return nil, false, err
			}
		} else {
			in.StreamName = aws.String(name)
		}
	} else {
		in.StreamName = aws.String(name)
	}
	out, err := api.DescribeStreamSummary(ctx, in)
	var ae smithy.APIError
	if in.StreamName == nil && errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" {
		in.StreamName = aws.String(name)
		out, err = api.DescribeStreamSummary(ctx, in)
	}
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, false, fmt.Errorf("kinesis stream %s does not exist: %w", name, err)
		}
		return nil, false, fmt.Errorf("describing kinesis stream %s: %w", name, err)
	}
	if out.StreamDescriptionSummary == nil {
		return nil, false, fmt.Errorf("describing kinesis stream %s: empty response", name)
	}
	return out.StreamDescriptionSummary, in.StreamName != nil, nil
}

// New checks that the stream exists and accepts writes, then starts the senders.
func New(ctx context.Context, o Options) (*Target, error) {
	name := o.StreamName
	region := ""
	if o.StreamARN != "" {
		n, r, err := ParseStreamARN(o.StreamARN)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = n
		}
		region = r
	}
	if name == "" {
		return nil, errors.New("kinesis target: StreamArn or stream name required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 8
	}
	if o.MaxRecordsPerKey <= 0 {
		o.MaxRecordsPerKey = 1
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 64 << 20
	}
	if o.MaxTransportRetryTime == 0 {
		o.MaxTransportRetryTime = 5 * time.Minute
	}
	if err := o.Message.Validate(); err != nil {
		return nil, fmt.Errorf("kinesis target: %w", err)
	}
	client := o.Client
	if client == nil {
		c, err := NewClient(ctx, o.EndpointURL, region)
		if err != nil {
			return nil, err
		}
		client = c
	}
	sd, sendName, err := DescribeStream(ctx, client, o.StreamARN, o.StreamName)
	if err != nil {
		return nil, err
	}
	// UPDATING streams (resharding) accept writes like ACTIVE ones.
	if sd.StreamStatus != types.StreamStatusActive && sd.StreamStatus != types.StreamStatusUpdating {
		return nil, fmt.Errorf("kinesis stream %s is %s, not ACTIVE", name, sd.StreamStatus)
	}
	if o.MaxRecordSize <= 0 {
		o.MaxRecordSize = 1 << 20
		if sd.MaxRecordSizeInKiB != nil && *sd.MaxRecordSizeInKiB > 0 {
			o.MaxRecordSize = int(*sd.MaxRecordSizeInKiB) << 10
		}
	}
	t := &Target{o: o, name: name, arn: o.StreamARN, sendName: sendName, client: client, enc: NewEncoder(o.Message),
		changed: make(chan struct{}), keys: make(map[string]*keyQueue)}
	t.cond = sync.NewCond(&t.mu)
	sctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	for i := 0; i < o.MaxInFlight; i++ {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.sender(sctx)
		}()
	}
	// Wake senders blocked in cond.Wait when Close cancels them.
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		<-sctx.Done()
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	}()
	return t, nil
}

// Options returns the options in effect, defaults applied.
func (t *Target) Options() Options { return t.o }

// StreamName is the name the target sends on every request.
func (t *Target) StreamName() string { return t.name }

// Stats returns a snapshot of the counters.
func (t *Target) Stats() Stats {
	t.mu.Lock()
	p := t.pending
	t.mu.Unlock()
	return Stats{Records: t.stats.records.Load(), Bytes: t.stats.bytes.Load(), Requests: t.stats.requests.Load(),
		Retries: t.stats.retries.Load(), Throttled: t.stats.throttled.Load(), Rejected: t.stats.rejected.Load(), Reordered: t.stats.reordered.Load(), Pending: int64(p)}
}

// Write encodes recs and queues them; it blocks while too much is buffered.
// Oversize records and invalid partition keys go to the Rejecter. Write is
// all or nothing: a *TransportError is returned before anything is encoded
// (call Write again with the same records); once encoding started every
// record is queued, past MaxBufferedBytes if the senders are stalled.
func (t *Target) Write(ctx context.Context, recs []mapping.Record) error {
	t.mu.Lock()
	err := t.takeStall()
	t.mu.Unlock()
	if err != nil {
		return err
	}
	clock := time.Time{}
	es := make([]*entry, 0, len(recs))
	bytes := 0
	for i := range recs {
		r := &recs[i]
		if !t.enc.Emits(r) {
			continue
		}
		if cap(t.slab) < 64<<10 {
			t.slab = make([]byte, 0, 256<<10)
		}
		now := r.Time
		if now.IsZero() {
			if clock.IsZero() {
				clock = t.o.Now()
			}
			now = clock
		}
		msg := t.enc.Append(t.slab[:0], r, now)
		size := len(msg) + len(r.PartitionKey)
		if reason := t.check(r.PartitionKey, size); reason != "" {
			if err := t.reject(r, reason, msg); err != nil {
				return err
			}
			continue
		}
		if cap(msg) == cap(t.slab) { // encoded in place: carve it off the slab
			msg = msg[:len(msg):len(msg)]
			t.slab = t.slab[len(msg):len(msg)]
		} else {
			t.slab = t.slab[:0] // grew into a new array: msg owns it
		}
		es = append(es, &entry{key: r.PartitionKey, data: msg, size: size})
		bytes += size
	}
	if len(es) == 0 {
		return t.Err()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.waitLocked(ctx, func() bool { return t.bufBytes > 0 && t.bufBytes+bytes > t.o.MaxBufferedBytes }); err != nil {
		return err
	}
	if t.err != nil {
		return t.err
	}
	if t.closed {
		return fmt.Errorf("kinesis stream %s: write after Close", t.name)
	}
	for _, e := range es {
		kq := t.keys[e.key]
		if kq == nil {
			kq = &keyQueue{key: e.key}
			t.keys[e.key] = kq
		}
		kq.items = append(kq.items, e)
		// A key with earlier entries is either ready or in flight already.
		if len(kq.items) == 1 {
			t.ready = append(t.ready, kq)
		}
	}
	t.pending += len(es)
	t.bufBytes += bytes
	t.cond.Broadcast()
	return nil
}

func (t *Target) check(key string, size int) string {
	if key == "" {
		return "empty partition key"
	}
	if utf8.RuneCountInString(key) > 256 {
		return "partition key longer than 256 characters"
	}
	if size > t.o.MaxRecordSize {
		return "record of " + strconv.Itoa(size) + " bytes (partition key + data) exceeds the stream's maximum record size of " + strconv.Itoa(t.o.MaxRecordSize) + " bytes"
	}
	return ""
}

func (t *Target) reject(r *mapping.Record, reason string, msg []byte) error {
	t.stats.rejected.Add(1)
	rj := source.Reject{Schema: r.Table.Schema, Table: r.Table.Name, Reason: "kinesis: " + reason,
		Position: r.Event.Origin + ":" + strconv.FormatInt(r.Event.Seq, 10)}
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	rj.Raw = string(msg)
	if t.o.Rejecter == nil {
		return fmt.Errorf("kinesis stream %s: %s.%s at %s: %s", t.name, rj.Schema, rj.Table, rj.Position, reason)
	}
	if err := t.o.Rejecter.Reject(rj); err != nil {
		return fmt.Errorf("rejecting record of %s.%s: %w", rj.Schema, rj.Table, err)
	}
	return nil
}

// Err returns the permanent error that stopped the target, if any.
func (t *Target) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Flush returns when every record written so far is acknowledged by Kinesis,
// with the permanent error that stopped the target, or with a recoverable
// *TransportError (call Flush again: the records are still queued).
func (t *Target) Flush(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.waitLocked(ctx, func() bool { return t.pending > 0 }); err != nil {
		return err
	}
	if t.err != nil {
		return t.err
	}
	return t.takeStall()
}

// waitLocked waits, t.mu held on entry and on return, while busy() holds and
// the target has neither failed nor stalled; it returns ctx's error if ctx
// ends first.
func (t *Target) waitLocked(ctx context.Context, busy func() bool) error {
	for t.err == nil && t.stall == nil && busy() {
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			t.mu.Lock()
			return ctx.Err()
		case <-ch:
		}
		t.mu.Lock()
	}
	return nil
}

// Close flushes, then stops the senders.
func (t *Target) Close(ctx context.Context) error {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return nil
	}
	err := t.Flush(ctx)
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
	return err
}

// fail records the first permanent error and wakes every waiter.
func (t *Target) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
		t.o.Logger.Error("kinesis target stopped", "stream", t.name, "error", err)
	}
	t.broadcastLocked()
}

func (t *Target) broadcastLocked() {
	t.cond.Broadcast()
	close(t.changed)
	t.changed = make(chan struct{})
}

var _ target.Target = (*Target)(nil)
