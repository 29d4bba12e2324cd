// Package kinesisfault injects Kinesis failures for tests: an SDK middleware
// that fails a random fraction of PutRecords entries, and a loopback proxy
// that enforces real per-shard write limits in front of an emulator.
package kinesisfault

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
)

// Throttled is the per-entry error code Kinesis returns above shard limits.
const Throttled = "ProvisionedThroughputExceededException"

// Config sets what the injector fails.
type Config struct {
	FailRate  float64 // fraction of PutRecords entries failed, 0..1
	Seed      uint64  // same seed, same failure pattern for the same calls
	ErrorCode string  // default ProvisionedThroughputExceededException
}

// Injector removes a random fraction of PutRecords entries before the request
// is sent, so the service never stores them (as real Kinesis behaves), and
// puts failure entries back at their positions in the response. It works at
// the Initialize step, so SigV4 signatures stay valid against any endpoint.
type Injector struct {
	cfg      Config
	mu       sync.Mutex
	rng      *rand.Rand
	injected atomic.Int64
	enabled  atomic.Bool
}

// New returns an enabled Injector.
func New(cfg Config) *Injector {
	if cfg.ErrorCode == "" {
		cfg.ErrorCode = Throttled
	}
	f := &Injector{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	f.enabled.Store(true)
	return f
}

// APIOption builds an Injector and returns its middleware installer, for
// kinesis.Options.APIOptions.
func APIOption(cfg Config) func(*middleware.Stack) error { return New(cfg).APIOption }

// Injected is the number of entries failed so far.
func (f *Injector) Injected() int64 { return f.injected.Load() }

// SetEnabled turns injection on or off (for example to drain at the end of a test).
func (f *Injector) SetEnabled(on bool) { f.enabled.Store(on) }

// APIOption installs the injector on a client's middleware stack.
func (f *Injector) APIOption(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("kinesisfault.Inject", f.handle), middleware.Before)
}

func (f *Injector) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	p, ok := in.Parameters.(*kinesis.PutRecordsInput)
	if !ok || !f.enabled.Load() || f.cfg.FailRate <= 0 || len(p.Records) == 0 {
		return next.HandleInitialize(ctx, in)
	}
	drop := make([]bool, len(p.Records))
	ndrop := 0
	f.mu.Lock()
	for i := range drop {
		if f.rng.Float64() < f.cfg.FailRate {
			drop[i] = true
			ndrop++
		}
	}
	f.mu.Unlock()
	if ndrop == 0 {
		return next.HandleInitialize(ctx, in)
	}
	f.injected.Add(int64(ndrop))
	kept := make([]types.PutRecordsRequestEntry, 0, len(p.Records)-ndrop)
	for i, r := range p.Records {
		if !drop[i] {
			kept = append(kept, r)
		}
	}
	out := &kinesis.PutRecordsOutput{}
	var md middleware.Metadata
	if len(kept) > 0 {
		cp := *p // never modify the caller's input
		cp.Records = kept
		in.Parameters = &cp
		res, m, err := next.HandleInitialize(ctx, in)
		if err != nil {
			return res, m, err
		}
		out, md = res.Result.(*kinesis.PutRecordsOutput), m
	}
	merged := make([]types.PutRecordsResultEntry, len(p.Records))
	failed := aws.ToInt32(out.FailedRecordCount)
	j := 0
	for i := range merged {
		if drop[i] {
			merged[i] = types.PutRecordsResultEntry{ErrorCode: aws.String(f.cfg.ErrorCode), ErrorMessage: aws.String("Rate exceeded for shard (injected by kinesisfault)")}
			failed++
			continue
		}
		if j < len(out.Records) {
			merged[i] = out.Records[j]
		}
		j++
	}
	res := *out
	res.Records = merged
	res.FailedRecordCount = aws.Int32(failed)
	return middleware.InitializeOutput{Result: &res}, md, nil
}
