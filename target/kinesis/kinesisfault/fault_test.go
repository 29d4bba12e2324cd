package kinesisfault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
)

// upstream is a minimal awsJson1.1 Kinesis: ListShards with two shards split
// at 2^127, PutRecords accepting everything and remembering what it got.
type upstream struct {
	mu   sync.Mutex
	keys []string
	size int
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op := r.Header.Get("X-Amz-Target"); {
	case strings.HasSuffix(op, ".ListShards"):
		half := new(big.Int).Lsh(big.NewInt(1), 127)
		top := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
		fmt.Fprintf(w, `{"Shards":[{"ShardId":"shardId-0","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"%s"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}},`+
			`{"ShardId":"shardId-1","HashKeyRange":{"StartingHashKey":"%s","EndingHashKey":"%s"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}`,
			new(big.Int).Sub(half, big.NewInt(1)), half, top)
	case strings.HasSuffix(op, ".PutRecords"):
		var req putRequest
		if err := json.Unmarshal(body, &req); err != nil {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"__type":"SerializationException","message":%q}`, err.Error())
			return
		}
		u.mu.Lock()
		var res []string
		for _, e := range req.Records {
			u.keys = append(u.keys, e.PartitionKey)
			d, _ := base64.StdEncoding.DecodeString(e.Data)
			u.size += len(d)
			res = append(res, fmt.Sprintf(`{"SequenceNumber":"%d","ShardId":"shardId-0"}`, len(u.keys)))
		}
		u.mu.Unlock()
		fmt.Fprintf(w, `{"FailedRecordCount":0,"Records":[%s]}`, strings.Join(res, ","))
	default:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"UnknownOperationException"}`)
	}
}

func client(url string, opts ...func(*middleware.Stack) error) *kinesis.Client {
	return kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), APIOptions: opts})
}

func entries(n, size int, key func(i int) string) []types.PutRecordsRequestEntry {
	out := make([]types.PutRecordsRequestEntry, n)
	for i := range out {
		out[i] = types.PutRecordsRequestEntry{Data: []byte(strings.Repeat("x", size)), PartitionKey: aws.String(key(i))}
	}
	return out
}

func TestInjector(t *testing.T) {
	up := &upstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	pattern := func(seed uint64) (string, int) {
		up.mu.Lock()
		up.keys = nil
		up.mu.Unlock()
		inj := New(Config{FailRate: 0.3, Seed: seed})
		in := &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries(500, 10, func(i int) string { return fmt.Sprint(i) })}
		out, err := client(srv.URL, inj.APIOption).PutRecords(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Records) != 500 {
			t.Fatal("caller's input modified")
		}
		var b strings.Builder
		failed := 0
		for _, r := range out.Records {
			if r.ErrorCode != nil {
				if *r.ErrorCode != Throttled {
					t.Fatalf("code %s", *r.ErrorCode)
				}
				failed++
				b.WriteByte('F')
				continue
			}
			b.WriteByte('.')
		}
		if int(aws.ToInt32(out.FailedRecordCount)) != failed || int64(failed) != inj.Injected() {
			t.Fatalf("FailedRecordCount %d, failed entries %d, injected %d", aws.ToInt32(out.FailedRecordCount), failed, inj.Injected())
		}
		// The upstream got exactly the non-failed entries, in order.
		up.mu.Lock()
		defer up.mu.Unlock()
		j := 0
		for i, r := range out.Records {
			if r.ErrorCode == nil {
				if up.keys[j] != fmt.Sprint(i) {
					t.Fatalf("upstream entry %d is key %s, want %d", j, up.keys[j], i)
				}
				j++
			}
		}
		if j != len(up.keys) {
			t.Fatalf("upstream stored %d, want %d", len(up.keys), j)
		}
		return b.String(), failed
	}
	p1, f1 := pattern(7)
	p2, _ := pattern(7)
	p3, _ := pattern(8)
	if p1 != p2 || p1 == p3 {
		t.Fatal("same seed must give the same pattern, another seed another")
	}
	if f1 < 100 || f1 > 200 {
		t.Fatalf("%d of 500 failed at rate 0.3", f1)
	}
}

func TestProxyLimits(t *testing.T) {
	up := &upstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	px, err := NewProxy(srv.URL, client(srv.URL), LimitConfig{StartFull: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	cl := client(px.URL)
	half := new(big.Int).Lsh(big.NewInt(1), 127)
	// Keys on shard 0 only.
	var keys []string
	for i := 0; len(keys) < 1500; i++ {
		if k := fmt.Sprint("k", i); HashKey(k).Cmp(half) < 0 {
			keys = append(keys, k)
		}
	}
	put := func(from, n, size int) (ok int) {
		out, err := cl.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String("s"),
			Records: entries(n, size, func(i int) string { return keys[from+i] })})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			if r.ErrorCode == nil {
				ok++
			} else if *r.ErrorCode != Throttled {
				t.Fatalf("code %s", *r.ErrorCode)
			}
		}
		if len(out.Records) != n || int(aws.ToInt32(out.FailedRecordCount)) != n-ok {
			t.Fatalf("bad response shape")
		}
		return ok
	}
	// A full second of burst: 1,000 records, then nothing until time passes.
	if got := put(0, 500, 10) + put(500, 500, 10) + put(1000, 500, 10); got != 1000 {
		t.Fatalf("accepted %d of 1500 in one second, want 1000", got)
	}
	advance(250 * time.Millisecond)
	if got := put(0, 500, 10); got != 250 {
		t.Fatalf("accepted %d after 250 ms, want 250", got)
	}
	// Bytes: 1 MiB/s; 300 KiB records fit three per second.
	advance(2 * time.Second)
	if got := put(0, 5, 300<<10); got != 3 {
		t.Fatalf("accepted %d large records, want 3", got)
	}
	if px.Throttled() != 500+250+2 || px.Forwarded() != 1253 || len(up.keys) != 1253 {
		t.Fatalf("throttled %d forwarded %d upstream %d", px.Throttled(), px.Forwarded(), len(up.keys))
	}
	// Another shard has its own budget.
	advance(0)
	var other []string
	for i := 0; len(other) < 10; i++ {
		if k := fmt.Sprint("o", i); HashKey(k).Cmp(half) >= 0 {
			other = append(other, k)
		}
	}
	keys = other
	if got := put(0, 10, 10); got != 10 {
		t.Fatalf("other shard accepted %d of 10", got)
	}
}

func TestHashKey(t *testing.T) {
	// MD5("a") = 0cc175b9c0f1b6a831c399e269772661
	want, _ := new(big.Int).SetString("0cc175b9c0f1b6a831c399e269772661", 16)
	if HashKey("a").Cmp(want) != 0 {
		t.Fatal(HashKey("a"))
	}
}
