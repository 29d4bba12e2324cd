package s3csv

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicedata/sluice/tabledefs"
)

// flakyS3 serves one object whose body fails after failAfter bytes on the
// first `failures` opens, and records the ranges asked for.
type flakyS3 struct {
	data      string
	failAfter int
	failures  int
	ranges    []string
	ifMatch   []string
}

type failingBody struct {
	r io.Reader
}

func (f *failingBody) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset by peer")
	}
	return n, err
}
func (f *failingBody) Close() error { return nil }

func (f *flakyS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return nil, errors.New("not used")
}

func (f *flakyS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.ranges = append(f.ranges, aws.ToString(in.Range))
	f.ifMatch = append(f.ifMatch, aws.ToString(in.IfMatch))
	var off int
	if r := aws.ToString(in.Range); r != "" {
		var err error
		if off, err = parseRange(r); err != nil {
			return nil, err
		}
	}
	rest := f.data[off:]
	if f.failures > 0 {
		f.failures--
		return &s3.GetObjectOutput{Body: &failingBody{strings.NewReader(rest[:min(f.failAfter, len(rest))])}}, nil
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(rest))}, nil
}

func parseRange(r string) (int, error) {
	n := 0
	for _, c := range strings.TrimSuffix(strings.TrimPrefix(r, "bytes="), "-") {
		if c < '0' || c > '9' {
			return 0, errors.New("bad range " + r)
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// A read error in the middle of an object reopens it at the byte reached,
// pinned to its ETag, and the rows come out whole and in order.
func TestObjectReopensAfterReadError(t *testing.T) {
	data := rowsCSV(0, 2000)
	fake := &flakyS3{data: data, failAfter: 7000, failures: 2}
	s := &Source{client: fake, bucketName: "b", log: quietLogger()}
	body, err := s.openObject(context.Background(), "k.csv", `"etag"`, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != data {
		t.Fatalf("read %d bytes, want %d identical", len(got), len(data))
	}
	if want := []string{"", "bytes=7000-", "bytes=14000-"}; strings.Join(fake.ranges, ",") != strings.Join(want, ",") {
		t.Errorf("ranges %q, want %q", fake.ranges, want)
	}
	for _, m := range fake.ifMatch {
		if m != `"etag"` {
			t.Errorf("GetObject without If-Match: %q", fake.ifMatch)
		}
	}

	// More failures than retries: the error surfaces, naming the object.
	fake = &flakyS3{data: data, failAfter: 10, failures: maxReadRetries + 1}
	s.client = fake
	body, err = s.openObject(context.Background(), "k.csv", `"etag"`, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(body); err == nil || !strings.Contains(err.Error(), "s3://b/k.csv") {
		t.Fatalf("got %v", err)
	}
}

// Close stops producers that are blocked handing over chunks.
func TestCloseWithoutDraining(t *testing.T) {
	bk := buckets(t)[1]
	bk.put(t, "hr/department/a.csv", []byte(rowsCSV(0, 5000)))
	src, err := New(context.Background(), bk.options(Options{FullLoad: true, Rfc4180: true,
		Tables: []*tabledefs.Table{departmentTable()}, BatchRows: 10}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}
