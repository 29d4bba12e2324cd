package task

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sluicedata/sluice/source/s3csv"
)

// S3API is the part of the S3 client the state store uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// s3Store keeps the checkpoint at s3://bucket/prefix/checkpoint.json.
//
// Ownership: every write of the checkpoint is conditional — If-None-Match:*
// when none exists, If-Match:<etag of what we last read or wrote> after — so
// of two runners racing on one task only one write succeeds and the other
// fails with ErrInUse. Opening claims the task at once with such a write
// (before any data moves); a checkpoint saved by another running runner
// less than Lease ago is refused, so the second runner fails rather than
// the first. A crashed runner's lease expires and its task can be resumed.
//
// The exceptions file is kept in a local temporary directory holding this
// run's rejects. Before each checkpoint save in which it grew, only the new
// bytes are uploaded, streamed from the file, as the next part
// s3://bucket/prefix/exceptions/NNNNNNNN.jsonl, and the checkpoint records
// how many parts there are (Checkpoint.ExceptionParts): the parts it names,
// concatenated, cover every reject its position covers. A part uploaded
// by a runner that died before saving the checkpoint naming it is
// overwritten by the next runner. ReadExceptions concatenates them.
type s3Store struct {
	location, bucket, prefix string
	api                      S3API
	owner                    string
	lease                    time.Duration
	tmpDir                   string

	mu       sync.Mutex
	etag     string // of the checkpoint object as last read or written
	loaded   *Checkpoint
	saveMu   sync.Mutex // one Save at a time (uploaded, parts)
	uploaded int64      // bytes of the local exceptions file uploaded
	parts    int        // exception parts uploaded, all runs
}

func s3Location(ctx context.Context, location string, opts StoreOptions) (S3API, string, string, error) {
	rest := strings.TrimPrefix(location, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, "", "", fmt.Errorf("state location %q: missing bucket", location)
	}
	api := opts.S3
	if api == nil {
		cl, err := s3csv.NewS3Client(ctx, "")
		if err != nil {
			return nil, "", "", err
		}
		api = cl
	}
	return api, bucket, strings.Trim(prefix, "/"), nil
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

func openS3Store(ctx context.Context, location, task string, opts StoreOptions) (*s3Store, error) {
	api, bucket, prefix, err := s3Location(ctx, location, opts)
	if err != nil {
		return nil, err
	}
	s := &s3Store{location: location, bucket: bucket, prefix: prefix, api: api, owner: opts.Owner, lease: opts.Lease}
	cp, etag, err := getS3Checkpoint(ctx, api, bucket, s.key(CheckpointFileName))
	if err != nil {
		return nil, err
	}
	if cp != nil && cp.Stats.Status == StatusRunning && cp.Owner != s.owner {
		if age := time.Since(cp.SavedAt); age < s.lease {
			return nil, fmt.Errorf("%w: %s is owned by runner %s (last saved %s ago); if it is dead, retry after %s",
				ErrInUse, location, cp.Owner, age.Round(time.Second), (s.lease - age).Round(time.Second))
		}
	}
	s.etag = etag
	// Claim before any data moves. A claim of a new task carries no
	// fingerprint and reads back as "no checkpoint".
	claim := &Checkpoint{Version: CheckpointVersion, Task: task}
	if cp != nil {
		c := *cp
		claim = &c
		s.loaded = cp
		s.parts = cp.ExceptionParts
	}
	claim.Owner = s.owner
	claim.Stats.Status = StatusRunning
	claim.SavedAt = time.Now().UTC()
	if err := s.putCheckpoint(ctx, claim); err != nil {
		return nil, err
	}
	if s.tmpDir, err = os.MkdirTemp("", "sluice-state-*"); err != nil {
		return nil, fmt.Errorf("creating local exceptions directory: %w", err)
	}
	return s, nil
}

func (s *s3Store) key(name string) string { return joinKey(s.prefix, name) }

func getS3Checkpoint(ctx context.Context, api S3API, bucket, key string) (*Checkpoint, string, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if isNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading checkpoint s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading checkpoint s3://%s/%s: %w", bucket, key, err)
	}
	cp, err := decodeCheckpoint(b, "s3://"+bucket+"/"+key)
	if err != nil {
		return nil, "", err
	}
	etag := aws.ToString(out.ETag)
	if cp.Fingerprint == "" {
		cp = nil // only a claim: the task never saved a position
	}
	return cp, etag, nil
}

func (s *s3Store) Location() string       { return s.location }
func (s *s3Store) ExceptionsPath() string { return filepath.Join(s.tmpDir, ExceptionsFileName) }

// LeaseRefresh tells the runner how often to re-save while idle.
func (s *s3Store) LeaseRefresh() time.Duration { return s.lease / 3 }

func (s *s3Store) Load(context.Context) (*Checkpoint, error) { return s.loaded, nil }

func (s *s3Store) Save(ctx context.Context, cp *Checkpoint) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if err := s.uploadExceptions(ctx); err != nil {
		return err
	}
	c := *cp
	c.Owner = s.owner
	c.ExceptionParts = s.parts
	return s.putCheckpoint(ctx, &c)
}

// exceptionPartKey is the key of part n (1-based) of the exceptions.
func exceptionPartKey(prefix string, n int) string {
	return joinKey(prefix, fmt.Sprintf("exceptions/%08d.jsonl", n))
}

// uploadExceptions uploads the bytes appended to the local exceptions
// file since the last upload as the next part. Caller holds saveMu.
func (s *s3Store) uploadExceptions(ctx context.Context) error {
	f, err := os.Open(s.ExceptionsPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("uploading exceptions: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("uploading exceptions: %w", err)
	}
	n := st.Size() - s.uploaded
	if n <= 0 {
		return nil
	}
	key := exceptionPartKey(s.prefix, s.parts+1)
	if _, err := s.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key,
		Body: io.NewSectionReader(f, s.uploaded, n), ContentLength: aws.Int64(n),
		ContentType: aws.String("application/x-ndjson")}); err != nil {
		return fmt.Errorf("uploading s3://%s/%s: %w", s.bucket, key, err)
	}
	s.uploaded += n
	s.parts++
	return nil
}

// copyS3Exceptions writes the exceptions of a task to w: the whole-file
// object of older versions if present, then the parts cp names, streamed.
func copyS3Exceptions(ctx context.Context, api S3API, bucket, prefix string, cp *Checkpoint, w io.Writer) error {
	keys := []string{joinKey(prefix, ExceptionsFileName)}
	if cp != nil {
		for i := 1; i <= cp.ExceptionParts; i++ {
			keys = append(keys, exceptionPartKey(prefix, i))
		}
	}
	for i, key := range keys {
		out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if i == 0 && isNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading s3://%s/%s: %w", bucket, key, err)
		}
		_, err = io.Copy(w, out.Body)
		out.Body.Close()
		if err != nil {
			return fmt.Errorf("reading s3://%s/%s: %w", bucket, key, err)
		}
	}
	return nil
}

func (s *s3Store) putCheckpoint(ctx context.Context, cp *Checkpoint) error {
	b, err := encodeCheckpoint(cp)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.key(CheckpointFileName)
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))), ContentType: aws.String("application/json")}
	if s.etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(s.etag)
	}
	out, err := s.api.PutObject(ctx, in)
	if isPreconditionFailed(err) {
		return fmt.Errorf("%w: the checkpoint s3://%s/%s was written by another runner of this task since this one read it; stopping so that only one runner owns the task",
			ErrInUse, s.bucket, key)
	}
	if err != nil {
		return fmt.Errorf("saving checkpoint s3://%s/%s: %w", s.bucket, key, err)
	}
	s.etag = aws.ToString(out.ETag)
	if s.etag == "" {
		return fmt.Errorf("saving checkpoint s3://%s/%s: the store returned no ETag, so conditional writes cannot protect the task", s.bucket, key)
	}
	return nil
}

// Close removes the local exceptions file: every reject in it was uploaded
// by the save of the checkpoint that covers it (the runner saves last).
func (s *s3Store) Close(context.Context) error {
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
	return nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	return httpStatus(err) == http.StatusNotFound
}

func isPreconditionFailed(err error) bool {
	if err == nil {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "PreconditionFailed" || api.ErrorCode() == "ConditionalRequestConflict") {
		return true
	}
	s := httpStatus(err)
	return s == http.StatusPreconditionFailed || s == http.StatusConflict
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
