package s3parquet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/s3csv"
	td "github.com/sluicedata/sluice/tabledefs"
)

func testCredentials(t *testing.T) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"} {
		if os.Getenv(k) == "" {
			t.Setenv(k, v)
		}
	}
}

func TestS3InProcess(t *testing.T) {
	testCredentials(t)
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	s3Scenario(t, srv.URL)
}

// TestS3Standalone runs the same scenario against the gofakes3 process
// started by scripts/with-infra.sh.
func TestS3Standalone(t *testing.T) {
	ep := os.Getenv("S3_ENDPOINT")
	if ep == "" {
		t.Skip("S3_ENDPOINT not set (run under scripts/with-infra.sh)")
	}
	s3Scenario(t, ep)
}

func blobTable() *mapping.TargetTable {
	return &mapping.TargetTable{Schema: "media", Name: "blobs", Columns: []td.Column{
		{Name: "id", Type: td.TypeInt4, IsPK: true}, {Name: "data", Type: td.TypeBlob}}}
}

// s3Scenario writes a ~13 MB file (multipart, 5 MiB parts) and a small
// one (PutObject), checks that nothing is visible before Flush, reads both
// back, then restarts and checks the numbering continues.
func s3Scenario(t *testing.T, endpoint string) {
	ctx := context.Background()
	api, err := s3csv.NewS3Client(ctx, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("pq-%d", time.Now().UnixNano())
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	open := func() *Target {
		tg, err := New(ctx, Options{Bucket: bucket, EndpointURL: endpoint, BucketFolder: "lake", Logger: quietLog(),
			EnableStatistics: true, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		st := tg.store.(*s3Store)
		st.partSize = 5 << 20
		st.api = &countingAPI{S3API: st.api, n: calls}
		return tg
	}
	tg := open()
	blobs := blobTable()
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	sum := sha256.New()
	var recs []mapping.Record
	for i := range 200 {
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		sum.Write(b)
		recs = append(recs, rec(blobs, event(source.OpLoad, time.Time{}, int64(i)), td.IntValue(int64(i)), td.BytesValue(string(b))))
	}
	small := smallTable()
	recs = append(recs, opEvents(small, t0)[0])
	if err := tg.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, api, bucket); len(keys) != 0 {
		t.Fatalf("objects visible before Flush: %v", keys)
	}
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = tg.Close(ctx)
	if calls["put"] != 1 || calls["part"] != 3 || calls["complete"] != 1 {
		t.Fatalf("S3 calls %v: want 1 PutObject and one 3-part multipart upload", calls)
	}
	want := []string{"lake/media/blobs/LOAD00000001.parquet", "lake/s/t/LOAD00000001.parquet"}
	if keys := listKeys(t, api, bucket); !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	data := getObject(t, api, bucket, want[0])
	if len(data) < 12<<20 {
		t.Fatalf("blob file is %d bytes; want a multipart-sized one", len(data))
	}
	_, rows := readParquet(t, data)
	got := sha256.New()
	for i, r := range rows {
		if r[0] != fmt.Sprint(i) {
			t.Fatalf("row %d id %s", i, r[0])
		}
		b, _ := hex.DecodeString(r[1])
		got.Write(b)
	}
	if len(rows) != 200 || !bytes.Equal(got.Sum(nil), sum.Sum(nil)) {
		t.Fatalf("%d rows, blob checksum mismatch", len(rows))
	}
	if _, rows := readParquet(t, getObject(t, api, bucket, want[1])); fmt.Sprint(rows) != "[[1 a]]" {
		t.Fatalf("small table rows %v", rows)
	}

	// A restarted run adds LOAD00000002 beside the first file.
	tg = open()
	if err := tg.Write(ctx, opEvents(small, t0)[:1]); err != nil {
		t.Fatal(err)
	}
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_ = tg.Close(ctx)
	if keys := listKeys(t, api, bucket); !slices.Contains(keys, "lake/s/t/LOAD00000002.parquet") || len(keys) != 3 {
		t.Fatalf("keys after restart %v", keys)
	}
}

func listKeys(t *testing.T, api *s3.Client, bucket string) []string {
	t.Helper()
	out, err := api.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	slices.Sort(keys)
	return keys
}

func getObject(t *testing.T, api *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingAPI counts upload calls (the upload goroutines share it).
type countingAPI struct {
	S3API
	mu sync.Mutex
	n  map[string]int
}

func (c *countingAPI) count(k string) {
	c.mu.Lock()
	c.n[k]++
	c.mu.Unlock()
}

func (c *countingAPI) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.count("put")
	return c.S3API.PutObject(ctx, in, o...)
}

func (c *countingAPI) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.count("part")
	return c.S3API.UploadPart(ctx, in, o...)
}

func (c *countingAPI) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	c.count("complete")
	return c.S3API.CompleteMultipartUpload(ctx, in, o...)
}

// captureAPI records PutObject inputs; listing finds nothing.
type captureAPI struct {
	S3API
	puts []*s3.PutObjectInput
}

func (c *captureAPI) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.puts = append(c.puts, in)
	return &s3.PutObjectOutput{}, nil
}

func (c *captureAPI) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{}, nil
}

// Encryption, canned ACL and expected owner settings reach the request.
func TestS3ObjectSettings(t *testing.T) {
	api := &captureAPI{}
	tg, err := New(context.Background(), Options{Bucket: "lake", Client: api, Logger: quietLog(), TempDir: t.TempDir(),
		EncryptionMode: "SSE_KMS", ServerSideEncryptionKmsKeyId: "key-1", CannedAclForObjects: "BUCKET_OWNER_FULL_CONTROL",
		ExpectedBucketOwner: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Write(context.Background(), opEvents(smallTable(), t0)[:1]); err != nil {
		t.Fatal(err)
	}
	if err := tg.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(api.puts) != 1 {
		t.Fatalf("%d puts", len(api.puts))
	}
	in := api.puts[0]
	if aws.ToString(in.Key) != "s/t/LOAD00000001.parquet" || in.ServerSideEncryption != "aws:kms" || aws.ToString(in.SSEKMSKeyId) != "key-1" ||
		in.ACL != "bucket-owner-full-control" || aws.ToString(in.ExpectedBucketOwner) != "123456789012" {
		t.Fatalf("PutObject input %+v", in)
	}
}
