package kinesisfault

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// ShardLister lists a stream's shards (the proxy maps keys to shards with it).
type ShardLister interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
}

// LimitConfig sets the simulated per-shard write capacity.
type LimitConfig struct {
	RecordsPerSecond float64 // default 1,000
	BytesPerSecond   float64 // default 1 MiB (data + partition key)
	// StartFull gives every shard one second of burst at start; by default
	// buckets start empty so a measured rate cannot exceed the capacity.
	StartFull bool
	Now       func() time.Time // default time.Now
}

// Proxy is a loopback HTTP server in front of a Kinesis endpoint. PutRecords
// entries above their shard's capacity fail with
// ProvisionedThroughputExceededException and are not forwarded; everything
// else passes through unchanged. The shard of an entry is the one whose
// hash-key range holds MD5(partition key) read as a 128-bit integer (or the
// ExplicitHashKey). It assumes the upstream does not verify SigV4 body
// signatures (kinesalite and kinesis-local do not).
type Proxy struct {
	URL string

	srv      *httptest.Server
	upstream *url.URL
	rp       *httputil.ReverseProxy
	lister   ShardLister
	cfg      LimitConfig

	mu      sync.Mutex
	streams map[string][]*shard

	throttled atomic.Int64
	forwarded atomic.Int64
}

type shard struct {
	id         string
	start, end *big.Int
	recs, byts float64 // tokens
	last       time.Time
}

// NewProxy starts a proxy for the endpoint upstream (e.g. KINESIS_ENDPOINT).
func NewProxy(upstream string, lister ShardLister, cfg LimitConfig) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("parsing upstream %q: %w", upstream, err)
	}
	if cfg.RecordsPerSecond <= 0 {
		cfg.RecordsPerSecond = 1000
	}
	if cfg.BytesPerSecond <= 0 {
		cfg.BytesPerSecond = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Proxy{upstream: u, rp: httputil.NewSingleHostReverseProxy(u), lister: lister, cfg: cfg, streams: map[string][]*shard{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Throttled is the number of entries failed by the proxy so far.
func (p *Proxy) Throttled() int64 { return p.throttled.Load() }

// Forwarded is the number of entries passed to the upstream so far.
func (p *Proxy) Forwarded() int64 { return p.forwarded.Load() }

type putEntry struct {
	Data            string  `json:"Data"`
	PartitionKey    string  `json:"PartitionKey"`
	ExplicitHashKey *string `json:"ExplicitHashKey,omitempty"`
}

type putRequest struct {
	Records    []putEntry `json:"Records"`
	StreamName string     `json:"StreamName,omitempty"`
	StreamARN  string     `json:"StreamARN,omitempty"`
}

type putResponse struct {
	FailedRecordCount int               `json:"FailedRecordCount"`
	Records           []json.RawMessage `json:"Records"`
	EncryptionType    string            `json:"EncryptionType,omitempty"`
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecords") {
		p.rp.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req putRequest
	if err := json.Unmarshal(body, &req); err != nil {
		p.forward(w, r, body) // let the upstream produce its own error
		return
	}
	name := req.StreamName
	if name == "" {
		name = req.StreamARN[strings.LastIndex(req.StreamARN, "/")+1:]
	}
	shards, err := p.shards(r.Context(), name, req.StreamARN)
	if err != nil {
		p.forward(w, r, body)
		return
	}
	allow := p.admit(shards, req.Records)
	kept := make([]putEntry, 0, len(req.Records))
	for i, e := range req.Records {
		if allow[i] {
			kept = append(kept, e)
		}
	}
	nthrottled := len(req.Records) - len(kept)
	p.throttled.Add(int64(nthrottled))
	p.forwarded.Add(int64(len(kept)))
	var up putResponse
	if len(kept) > 0 {
		fwd := req
		fwd.Records = kept
		nb, _ := json.Marshal(fwd)
		resp, err := p.roundTrip(r, nb)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || json.Unmarshal(rb, &up) != nil || len(up.Records) != len(kept) {
			copyHeader(w.Header(), resp.Header)
			w.WriteHeader(resp.StatusCode)
			w.Write(rb)
			return
		}
	}
	failure := json.RawMessage(`{"ErrorCode":"` + Throttled + `","ErrorMessage":"Rate exceeded for shard (kinesisfault proxy)"}`)
	out := putResponse{FailedRecordCount: up.FailedRecordCount + nthrottled, EncryptionType: up.EncryptionType,
		Records: make([]json.RawMessage, len(req.Records))}
	j := 0
	for i := range out.Records {
		if allow[i] {
			out.Records[i] = up.Records[j]
			j++
		} else {
			out.Records[i] = failure
		}
	}
	rb, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(rb)))
	w.WriteHeader(http.StatusOK)
	w.Write(rb)
}

// admit takes tokens for each entry in request order; an entry that does not
// fit fails, later smaller ones may still fit (as in real Kinesis).
func (p *Proxy) admit(shards []*shard, recs []putEntry) []bool {
	now := p.cfg.Now()
	allow := make([]bool, len(recs))
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range shards {
		if s.last.IsZero() {
			s.last = now
			if p.cfg.StartFull {
				s.recs, s.byts = p.cfg.RecordsPerSecond, p.cfg.BytesPerSecond
			}
			continue
		}
		dt := now.Sub(s.last).Seconds()
		s.last = now
		s.recs = min(p.cfg.RecordsPerSecond, s.recs+dt*p.cfg.RecordsPerSecond)
		s.byts = min(p.cfg.BytesPerSecond, s.byts+dt*p.cfg.BytesPerSecond)
	}
	for i, e := range recs {
		s := findShard(shards, e)
		if s == nil {
			allow[i] = true // unknown range: let the upstream decide
			continue
		}
		size := float64(base64.StdEncoding.DecodedLen(len(e.Data)) - strings.Count(e.Data[max(0, len(e.Data)-2):], "=") + len(e.PartitionKey))
		if s.recs >= 1 && s.byts >= size {
			s.recs--
			s.byts -= size
			allow[i] = true
		}
	}
	return allow
}

// HashKey is the 128-bit hash key Kinesis derives from a partition key.
func HashKey(partitionKey string) *big.Int {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:])
}

func findShard(shards []*shard, e putEntry) *shard {
	var h *big.Int
	if e.ExplicitHashKey != nil {
		h, _ = new(big.Int).SetString(*e.ExplicitHashKey, 10)
	}
	if h == nil {
		h = HashKey(e.PartitionKey)
	}
	for _, s := range shards {
		if s.start.Cmp(h) <= 0 && h.Cmp(s.end) <= 0 {
			return s
		}
	}
	return nil
}

func (p *Proxy) shards(ctx context.Context, name, arn string) ([]*shard, error) {
	p.mu.Lock()
	s, ok := p.streams[name]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	var out []*shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name)}
	for {
		res, err := p.lister.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing shards of %s: %w", name, err)
		}
		for _, sh := range res.Shards {
			if sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil {
				continue // closed shard
			}
			st, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
			en, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
			if st == nil || en == nil {
				return nil, fmt.Errorf("shard %s of %s: bad hash key range", aws.ToString(sh.ShardId), name)
			}
			out = append(out, &shard{id: aws.ToString(sh.ShardId), start: st, end: en})
		}
		if res.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: res.NextToken}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.streams[name]; ok {
		return s, nil
	}
	p.streams[name] = out
	return out, nil
}

func (p *Proxy) roundTrip(r *http.Request, body []byte) (*http.Response, error) {
	u := *p.upstream
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	copyHeader(req.Header, r.Header)
	req.Header.Del("Content-Length")
	req.ContentLength = int64(len(body))
	return http.DefaultTransport.RoundTrip(req)
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	resp, err := p.roundTrip(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		dst[k] = append([]string(nil), vs...)
	}
}
