package s3csv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// hookS3 records the requests a source makes and can fail them.
type hookS3 struct {
	S3API
	mu     sync.Mutex
	lists  []s3.ListObjectsV2Input
	gets   []s3.GetObjectInput
	onList func(in *s3.ListObjectsV2Input) error
	// onGet returns an error to fail the request, or a byte count after
	// which the body fails with a reset connection (0: never).
	onGet func(in *s3.GetObjectInput) (error, int)
}

func (h *hookS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	h.mu.Lock()
	h.lists = append(h.lists, *in)
	var err error
	if h.onList != nil {
		err = h.onList(in)
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return h.S3API.ListObjectsV2(ctx, in, o...)
}

func (h *hookS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	h.mu.Lock()
	h.gets = append(h.gets, *in)
	var err error
	cut := 0
	if h.onGet != nil {
		err, cut = h.onGet(in)
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out, err := h.S3API.GetObject(ctx, in, o...)
	if err == nil && cut > 0 {
		out.Body = &cutBody{out.Body, cut}
	}
	return out, err
}

func (h *hookS3) listed(prefix string) []s3.ListObjectsV2Input {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []s3.ListObjectsV2Input
	for _, in := range h.lists {
		if aws.ToString(in.Prefix) == prefix {
			out = append(out, in)
		}
	}
	return out
}

// cutBody fails like a connection reset after left bytes.
type cutBody struct {
	io.ReadCloser
	left int
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("read tcp 127.0.0.1:1->127.0.0.1:2: %w", syscall.ECONNRESET)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= n
	return n, err
}

// drainRetrying drains src as the runner does: a retryable error is
// followed by another Next; anything else but ErrDone fails the test.
func drainRetrying(t *testing.T, src *Source) (*run, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := &run{perTable: map[string][]string{}}
	retries := 0
	for {
		b, err := src.Next(ctx)
		if errors.Is(err, source.ErrDone) {
			return r, retries
		}
		if err != nil {
			if !retryable(err) || retries > 20 {
				t.Fatalf("Next after %d retries: %v", retries, err)
			}
			retries++
			continue
		}
		for _, e := range b.Events {
			r.events = append(r.events, render(e, true))
		}
		for _, j := range b.Rejects {
			r.events = append(r.events, "reject "+j.Position)
		}
		r.completed = append(r.completed, b.Completed...)
		r.positions = append(r.positions, append(source.Position{}, b.Pos...))
	}
}

func slowDown() error {
	return &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}
}

// A transient failure (a connection reset that outlasts the object
// reopens, throttling of a listing or a GetObject) is returned as
// retryable, and the next Next carries on from the last batch: the run
// delivers exactly what an undisturbed run delivers, in the same order.
func TestTransientErrorRestarts(t *testing.T) {
	nthGet := func(key string, from, to int, fail func() (error, int)) func(*s3.GetObjectInput) (error, int) {
		n := 0
		return func(in *s3.GetObjectInput) (error, int) {
			if aws.ToString(in.Key) != key {
				return nil, 0
			}
			n++
			if n >= from && n <= to {
				return fail()
			}
			return nil, 0
		}
	}
	reset := func() (error, int) { return nil, 300 }
	cases := []struct {
		name   string
		onList func(*s3.ListObjectsV2Input) error
		onGet  func(*s3.GetObjectInput) (error, int)
	}{
		// maxReadRetries+1 broken opens: the object reader gives up.
		{name: "plain object reset", onGet: nthGet("f/hr/department/a.csv", 1, maxReadRetries+1, reset)},
		{name: "gzip object reset", onGet: nthGet("f/hr/department/b.csv.gz", 1, maxReadRetries+1, reset)},
		{name: "CDC file reset", onGet: nthGet("f/cdc/1.csv", 1, maxReadRetries+1, reset)},
		{name: "GetObject SlowDown", onGet: nthGet("f/hr/department/c.csv", 1, 2, func() (error, int) { return slowDown(), 0 })},
		{name: "CDC listing SlowDown", onList: func() func(*s3.ListObjectsV2Input) error {
			n := 0
			return func(in *s3.ListObjectsV2Input) error {
				if aws.ToString(in.Prefix) == "f/cdc/" {
					if n++; n <= 2 {
						return slowDown()
					}
				}
				return nil
			}
		}()},
	}
	bk := buckets(t)[0]
	bk.put(t, "f/hr/department/a.csv", []byte(rowsCSV(0, 800)))
	bk.put(t, "f/hr/department/b.csv.gz", gz(t, rowsCSV(1000, 800)))
	bk.put(t, "f/hr/department/c.csv", []byte(rowsCSV(2000, 10)))
	bk.put(t, "f/cdc/1.csv", []byte(rowsCSV(3000, 800, "I,department,hr,")))
	opts := func(cl S3API) Options {
		o := bk.options(Options{Folder: "f", CdcPath: "cdc", FullLoad: true, CDC: true, Once: true, Rfc4180: true,
			Tables: []*tabledefs.Table{departmentTable()}, BatchRows: 50})
		o.Client = cl
		return o
	}
	want, _ := drainRetrying(t, newSource(t, opts(bk.client), nil))
	if len(want.events) < 2400 {
		t.Fatalf("undisturbed run: %d events", len(want.events))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &hookS3{S3API: bk.client, onList: c.onList, onGet: c.onGet}
			got, retries := drainRetrying(t, newSource(t, opts(h), nil))
			if retries == 0 {
				t.Fatal("no error was injected")
			}
			diffLines(t, "events", got.events, want.events)
			diffLines(t, "completed", got.completed, want.completed)
		})
	}
}

// A gzip object truncated at its end is corrupt, not transient: the
// table's load ends with a *source.TableError that is not retryable, the
// rows before it are delivered, and the other tables load to the end.
func TestCorruptGzipIsTableError(t *testing.T) {
	for _, bk := range buckets(t) {
		t.Run(bk.kind, func(t *testing.T) {
			bk.put(t, "hr/employee/a.csv", []byte("1,a,,\n2,b,,\n"))
			bad := gz(t, "3,c,,\n4,d,,\n")
			bk.put(t, "hr/employee/b.csv.gz", bad[:len(bad)-6])
			bk.put(t, "hr/employee/c.csv", []byte("5,e,,\n"))
			bk.put(t, "hr/department/a.csv", []byte(rowsCSV(0, 300)))
			bk.put(t, "hr/department/b.csv", []byte(rowsCSV(300, 300)))
			o := bk.options(Options{FullLoad: true, Rfc4180: true, BatchRows: 7, MaxSubTasks: 2,
				Tables: []*tabledefs.Table{employeeTable(), departmentTable()}})
			src := newSource(t, o, nil)
			ctx := context.Background()
			var tableErrs []error
			var completed []string
			perTable := map[string]int{}
			for i := 0; ; i++ {
				if i > 1000 {
					t.Fatal("no end")
				}
				b, err := src.Next(ctx)
				if errors.Is(err, source.ErrDone) {
					break
				}
				if err != nil {
					tableErrs = append(tableErrs, err)
					var te *source.TableError
					if !errors.As(err, &te) || te.Schema != "hr" || te.Table != "employee" || retryable(err) ||
						!errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "b.csv.gz") {
						t.Fatalf("Next: %v (%T)", err, err)
					}
					src.SuspendTable(te.Schema, te.Table) // as the runner does (TableErrorPolicy)
					continue
				}
				for _, e := range b.Events {
					if e.Op == source.OpLoad {
						perTable[tableName(e.Table)]++
					}
				}
				completed = append(completed, b.Completed...)
			}
			if len(tableErrs) != 1 {
				t.Fatalf("table errors: %v", tableErrs)
			}
			if perTable["hr.department"] != 600 || perTable["hr.employee"] != 2 {
				t.Errorf("rows per table: %v", perTable)
			}
			if strings.Join(completed, ",") != "hr.department" {
				t.Errorf("completed %v", completed)
			}
		})
	}
}

// A corrupt CDC file stops the source for good: not retryable, and the
// same error again at the next Next.
func TestCorruptCDCFileIsFinal(t *testing.T) {
	bk := buckets(t)[1]
	bad := gz(t, "I,employee,hr,1,a,,\n")
	bk.put(t, "f/cdc/1.csv.gz", bad[:len(bad)-5])
	src := newSource(t, cdcOptions(bk, employeeTable()), nil)
	var err error
	for i := 0; err == nil && i < 10; i++ {
		_, err = src.Next(context.Background())
	}
	if err == nil || errors.Is(err, source.ErrDone) || retryable(err) || !strings.Contains(err.Error(), "1.csv.gz") {
		t.Fatalf("Next: %v", err)
	}
	if _, err2 := src.Next(context.Background()); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second Next: %v", err2)
	}
}

// transient sorts errors as the retry decision needs.
func TestTransient(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("reading: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{&corruptError{io.ErrUnexpectedEOF}, false},
		{fmt.Errorf("x: %w", slowDown()), true},
		{&smithy.GenericAPIError{Code: "PreconditionFailed"}, true},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{fmt.Errorf("x: %w", context.Canceled), false},
		{errors.New("row too long"), false},
	} {
		if got := transient(c.err); got != c.want {
			t.Errorf("transient(%v) = %v", c.err, got)
		}
	}
}
