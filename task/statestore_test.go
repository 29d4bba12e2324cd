package task

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sluicedata/sluice/source"
)

func testCheckpoint(task string, pos int) *Checkpoint {
	id := Identity{SourceEngine: "fake", SourceLocation: "here", Tables: []string{"s.a"}, MigrationType: "full-load"}
	return &Checkpoint{Version: CheckpointVersion, Task: task, Fingerprint: id.Fingerprint(), Identity: id,
		Phase: PhaseFullLoad, Source: encodePos(pos), Stats: TaskStats{Status: StatusRunning}, SavedAt: time.Now().UTC()}
}

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	loc := "file://" + dir
	s, err := OpenStateStore(ctx, loc, "t1", StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := s.Load(ctx); cp != nil || err != nil {
		t.Fatalf("new store: %v %v", cp, err)
	}
	for pos := 1; pos <= 3; pos++ {
		if err := s.Save(ctx, testCheckpoint("t1", pos)); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := s.Load(ctx)
	if err != nil || posOf(cp) != 3 || cp.Task != "t1" {
		t.Fatalf("%+v %v", cp, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
	if s.ExceptionsPath() != filepath.Join(dir, ExceptionsFileName) {
		t.Errorf("exceptions path %s", s.ExceptionsPath())
	}

	// A second runner of the task is refused while the first holds it; status reads still work.
	if _, err := OpenStateStore(ctx, loc, "t1", StoreOptions{}); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "locked by pid") {
		t.Fatalf("second open: %v", err)
	}
	if cp, err := ReadCheckpoint(ctx, loc, StoreOptions{}); err != nil || posOf(cp) != 3 {
		t.Fatalf("read while locked: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenStateStore(ctx, loc, "t1", StoreOptions{})
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	s2.Close(ctx)

	// A corrupt checkpoint is an error, not a fresh start.
	os.WriteFile(filepath.Join(dir, CheckpointFileName), []byte(`{"version":2}`), 0o644)
	if _, err := ReadCheckpoint(ctx, loc, StoreOptions{}); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("future version: %v", err)
	}
	if _, err := OpenStateStore(ctx, "ftp://x", "t1", StoreOptions{}); err == nil {
		t.Fatal("bad scheme accepted")
	}
}

// TestTwoRunnersOneTask starts two runners of one task on one file://
// location at once: exactly one proceeds, the other fails clearly.
func TestTwoRunnersOneTask(t *testing.T) {
	loc := "file://" + t.TempDir()
	var wg, opened sync.WaitGroup
	results := make([]error, 2)
	opened.Add(len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			st, err := OpenStateStore(ctx, loc, "t1", StoreOptions{})
			opened.Done()
			opened.Wait() // the winner holds the task until both have tried
			if err != nil {
				results[i] = err
				return
			}
			defer st.Close(ctx)
			w := newWorld(t, genEvents(30, 3), "t1")
			g := newRig(w, nil, 2)
			g.r.Store = st
			_, results[i] = g.r.Run(ctx)
		}()
	}
	wg.Wait()
	ok, inUse := 0, 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrInUse):
			inUse++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || inUse != 1 {
		t.Fatalf("ok %d, in use %d: %v", ok, inUse, results)
	}
}

func newFakeS3(t *testing.T) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Region: "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("k", "s", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("state")}); err != nil {
		t.Fatal(err)
	}
	return c
}

// hookedS3 runs afterGet once after its first GetObject of the checkpoint.
type hookedS3 struct {
	S3API
	once     sync.Once
	afterGet func()
}

func (h *hookedS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := h.S3API.GetObject(ctx, in, o...)
	if strings.HasSuffix(*in.Key, CheckpointFileName) {
		h.once.Do(h.afterGet)
	}
	return out, err
}

// gofakes3 v1.2.0 honours If-None-Match:* and If-Match on PutObject
// (backend.go CheckPutConditions, used by s3mem under its lock), so the
// conditional logic is tested against it directly.
func TestS3Store(t *testing.T) {
	ctx := context.Background()
	c := newFakeS3(t)
	loc := "s3://state/tasks/t1"
	optsA := StoreOptions{S3: c, Owner: "A"}
	a, err := OpenStateStore(ctx, loc, "t1", optsA)
	if err != nil {
		t.Fatal(err)
	}
	if cp, _ := a.Load(ctx); cp != nil {
		t.Fatalf("new task loaded %+v", cp)
	}
	if cp, err := ReadCheckpoint(ctx, loc, optsA); cp != nil || err != nil {
		t.Fatalf("a claim must read as no checkpoint: %+v %v", cp, err)
	}
	if err := a.Save(ctx, testCheckpoint("t1", 4)); err != nil {
		t.Fatal(err)
	}

	// While A runs and its lease is fresh, B is refused before moving data.
	if _, err := OpenStateStore(ctx, loc, "t1", StoreOptions{S3: c, Owner: "B"}); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "owned by runner A") {
		t.Fatalf("B while A runs: %v", err)
	}

	// B reads the checkpoint, then A saves before B claims: B's conditional claim fails.
	raced := &hookedS3{S3API: c, afterGet: func() {
		if err := a.Save(ctx, testCheckpoint("t1", 5)); err != nil {
			t.Errorf("A save during race: %v", err)
		}
	}}
	if _, err := OpenStateStore(ctx, loc, "t1", StoreOptions{S3: raced, Owner: "B", Lease: time.Nanosecond}); !errors.Is(err, ErrInUse) {
		t.Fatalf("racing claim: %v", err)
	}

	// After A's lease expires (A died), B takes over; A's next save fails.
	b, err := OpenStateStore(ctx, loc, "t1", StoreOptions{S3: c, Owner: "B", Lease: time.Nanosecond})
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	if cp, _ := b.Load(ctx); posOf(cp) != 5 {
		t.Fatalf("B resumes at %d", posOf(cp))
	}
	if err := a.Save(ctx, testCheckpoint("t1", 6)); !errors.Is(err, ErrInUse) {
		t.Fatalf("A after takeover: %v", err)
	}
	if err := b.Save(ctx, testCheckpoint("t1", 7)); err != nil {
		t.Fatal(err)
	}
	cp, err := ReadCheckpoint(ctx, loc, optsA)
	if err != nil || posOf(cp) != 7 || cp.Owner != "B" {
		t.Fatalf("%+v %v", cp, err)
	}
	a.Close(ctx)
	b.Close(ctx)
}

func TestRunnerOnS3Store(t *testing.T) {
	ctx := context.Background()
	c := newFakeS3(t)
	loc := "s3://state/t1"
	events := genEvents(12, 2)
	events[4] = fakeEvent{table: "s.a", key: 0, reject: true}
	w := newWorld(t, events, "t1")
	for run := 0; run < 2; run++ {
		st, err := OpenStateStore(ctx, loc, "t1", StoreOptions{S3: c})
		if err != nil {
			t.Fatal(err)
		}
		g := newRig(w, nil, 3)
		g.r.Store = st
		res, err := g.r.Run(ctx)
		if err != nil || res.Status != StatusStopped {
			t.Fatalf("run %d: %v %+v", run, err, res)
		}
		if err := st.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := ReadCheckpoint(ctx, loc, StoreOptions{S3: c})
	if err != nil || posOf(cp) != 12 || cp.Stats.Status != StatusStopped || cp.Stats.RejectedRows != 1 {
		t.Fatalf("%+v %v", cp, err)
	}
	var buf bytes.Buffer
	if err := ReadExceptions(ctx, loc, StoreOptions{S3: c}, &buf); err != nil {
		t.Fatal(err)
	}
	var e Exception
	if err := json.NewDecoder(&buf).Decode(&e); err != nil || e.Position != "fake:4" {
		t.Fatalf("uploaded exceptions: %+v %v", e, err)
	}
	var _ source.Position = cp.Source
}

// countingS3 records the keys and sizes of every PutObject.
type countingS3 struct {
	S3API
	mu   sync.Mutex
	puts map[string][]int64
}

func (c *countingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.mu.Lock()
	if c.puts == nil {
		c.puts = map[string][]int64{}
	}
	c.puts[*in.Key] = append(c.puts[*in.Key], aws.ToInt64(in.ContentLength))
	c.mu.Unlock()
	return c.S3API.PutObject(ctx, in, o...)
}

// TestS3ExceptionsUploadedInParts: each save uploads only the rejects
// appended since the previous one, as a new part; a later run adds parts
// after the earlier run's, and ReadExceptions returns them all in order.
func TestS3ExceptionsUploadedInParts(t *testing.T) {
	ctx := context.Background()
	c := &countingS3{S3API: newFakeS3(t)}
	loc := "s3://state/t1"
	events := genEvents(40, 2)
	for _, i := range []int{2, 12, 25, 33} {
		events[i] = fakeEvent{table: events[i].table, key: 0, reject: true}
	}
	w := newWorld(t, events, "t1")
	for run, upto := range []int{20, 40} {
		w.mu.Lock()
		w.events = events[:upto]
		w.mu.Unlock()
		st, err := OpenStateStore(ctx, loc, "t1", StoreOptions{S3: c})
		if err != nil {
			t.Fatal(err)
		}
		g := newRig(w, nil, 4)
		g.r.CommitRate = 4
		g.r.Store = st
		if _, err := g.r.Run(ctx); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if err := st.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var parts []string
	for k, sizes := range c.puts {
		if strings.Contains(k, "/exceptions") {
			parts = append(parts, k)
			if len(sizes) != 1 {
				t.Errorf("%s uploaded %d times", k, len(sizes))
			}
		}
	}
	slices.Sort(parts)
	want := []string{"t1/exceptions/00000001.jsonl", "t1/exceptions/00000002.jsonl", "t1/exceptions/00000003.jsonl", "t1/exceptions/00000004.jsonl"}
	if !slices.Equal(parts, want) {
		t.Fatalf("exception objects %v, want %v (one part per save that added rejects)", parts, want)
	}
	var buf bytes.Buffer
	if err := ReadExceptions(ctx, loc, StoreOptions{S3: c}, &buf); err != nil {
		t.Fatal(err)
	}
	var got []string
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var e Exception
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Position)
	}
	if !slices.Equal(got, []string{"fake:2", "fake:12", "fake:25", "fake:33"}) {
		t.Fatalf("exceptions read back %v", got)
	}
}
