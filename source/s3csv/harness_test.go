package s3csv

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// bucket is one place the source can read from in a test: gofakes3 in
// process, the standalone stand-in (S3_ENDPOINT), or a local directory.
type bucket struct {
	kind   string
	name   string // Options.Bucket
	client S3API  // nil for the local directory (New builds it)
	put    func(t testing.TB, key string, body []byte)
	del    func(t testing.TB, key string)
}

func (b *bucket) options(o Options) Options {
	o.Bucket, o.Client = b.name, b.client
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	return o
}

var bucketSeq int

// buckets returns a fresh, empty bucket of each kind available.
func buckets(t *testing.T) []*bucket {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	out := []*bucket{s3Bucket(t, "gofakes3", staticClient(srv.URL)), dirBucket(t)}
	if ep := os.Getenv("S3_ENDPOINT"); ep != "" {
		cl, err := NewS3Client(context.Background(), ep)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s3Bucket(t, "standalone", cl))
	}
	return out
}

func staticClient(url string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(url),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func s3Bucket(t *testing.T, kind string, cl *s3.Client) *bucket {
	bucketSeq++
	name := fmt.Sprintf("s3csv-%d-%d", time.Now().UnixNano()%1e9, bucketSeq)
	ctx := context.Background()
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	return &bucket{
		kind: kind, name: name, client: cl,
		put: func(t testing.TB, key string, body []byte) {
			t.Helper()
			if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
				t.Fatalf("putting %s: %v", key, err)
			}
		},
		del: func(t testing.TB, key string) {
			if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(key)}); err != nil {
				t.Fatalf("deleting %s: %v", key, err)
			}
		},
	}
}

func dirBucket(t *testing.T) *bucket {
	dir := t.TempDir()
	return &bucket{
		kind: "localdir", name: "file://" + dir,
		put: func(t testing.TB, key string, body []byte) {
			t.Helper()
			p := filepath.Join(dir, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, body, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		del: func(t testing.TB, key string) { os.Remove(filepath.Join(dir, filepath.FromSlash(key))) },
	}
}

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// run collects everything a source delivers until ErrDone.
type run struct {
	events    []string // rendered, in delivery order
	perTable  map[string][]string
	rejects   []source.Reject
	completed []string
	positions []source.Position
	sizes     []int // events+rejects per batch
	evEnd     []int // len(events) after each batch
	rjEnd     []int // len(rejects) after each batch
}

func (r *run) batchEnds(i int) (int, int) { return r.evEnd[i], r.rjEnd[i] }

func render(e source.Event, origins bool) string {
	var b strings.Builder
	b.WriteString(e.Op.String())
	b.WriteByte(' ')
	b.WriteString(tableName(e.Table))
	if e.Values != nil {
		b.WriteString(" [")
		for i, v := range e.Values {
			if i > 0 {
				b.WriteByte('|')
			}
			if v.IsNull() {
				b.WriteString("NULL")
			} else {
				b.Write(tabledefs.AppendText(nil, v, &e.Table.Columns[i]))
			}
		}
		b.WriteString("]")
	}
	if origins && e.Origin != "" {
		b.WriteString(" @" + e.Origin[strings.LastIndexByte(e.Origin, '/')+1:] + ":" + strconv.FormatInt(e.Seq, 10))
	}
	return b.String()
}

func drain(t testing.TB, src *Source, limit int) *run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := &run{perTable: map[string][]string{}}
	for i := 0; limit <= 0 || i < limit; i++ {
		b, err := src.Next(ctx)
		if errors.Is(err, source.ErrDone) {
			return r
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		for _, e := range b.Events {
			s := render(e, true)
			r.events = append(r.events, s)
			r.perTable[tableName(e.Table)] = append(r.perTable[tableName(e.Table)], s)
		}
		r.rejects = append(r.rejects, b.Rejects...)
		r.completed = append(r.completed, b.Completed...)
		r.positions = append(r.positions, append(source.Position{}, b.Pos...))
		r.sizes = append(r.sizes, len(b.Events)+len(b.Rejects))
		r.evEnd = append(r.evEnd, len(r.events))
		r.rjEnd = append(r.rjEnd, len(r.rejects))
		if err := src.Commit(ctx, b.Pos); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func newSource(t testing.TB, o Options, pos source.Position) *Source {
	t.Helper()
	src, err := New(context.Background(), o, pos)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func sorted(s []string) []string {
	s = append([]string{}, s...)
	sort.Strings(s)
	return s
}

func diffLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
