package s3csv

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxReadRetries bounds how often one object's stream is reopened after a
// read error (a reset connection in the middle of a 10 GB object).
const maxReadRetries = 3

// objectBody streams one object. A read error reopens the object from the
// byte reached with a ranged GetObject pinned to the same ETag, so a long
// read survives a dropped connection and never mixes two versions.
type objectBody struct {
	ctx     context.Context
	client  S3API
	bucket  string
	owner   string // ExpectedBucketOwner
	key     string
	etag    string
	off     int64 // object offset of the next byte
	body    io.ReadCloser
	retries int
	failed  bool          // a read error was returned: later errors are not the data's
	pos     *atomic.Int64 // optional: object offset reached, for Progress
	log     *slog.Logger
}

func (b *objectBody) open() error {
	in := &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(b.key)}
	if b.owner != "" {
		in.ExpectedBucketOwner = aws.String(b.owner)
	}
	if b.etag != "" {
		in.IfMatch = aws.String(b.etag)
	}
	if b.off > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(b.off, 10) + "-")
	}
	out, err := b.client.GetObject(b.ctx, in)
	if err != nil {
		return fmt.Errorf("getting s3://%s/%s: %w", b.bucket, b.key, err)
	}
	b.body = out.Body
	return nil
}

func (b *objectBody) Read(p []byte) (int, error) {
	for {
		n, err := b.body.Read(p)
		b.off += int64(n)
		if b.pos != nil {
			b.pos.Store(b.off)
		}
		if err == nil || err == io.EOF || n > 0 {
			if err != nil && err != io.EOF {
				err = nil // report it on the next call, after n bytes are used
			}
			return n, err
		}
		if b.ctx.Err() != nil || b.retries >= maxReadRetries {
			b.failed = true
			return 0, fmt.Errorf("reading s3://%s/%s at byte %d: %w", b.bucket, b.key, b.off, err)
		}
		b.retries++
		b.log.Warn("reopening object after a read error", "key", b.key, "offset", b.off, "err", err)
		b.body.Close()
		if oerr := b.open(); oerr != nil {
			b.failed = true
			return 0, errors.Join(err, oerr)
		}
	}
}

func (b *objectBody) Close() error { return b.body.Close() }

// openObject streams key from offset (0: the whole object). Objects whose
// key ends in .gz are decompressed; those are never opened mid-way. pos,
// when set, follows the object offset reached. A gzip stream that is bad
// although the object's bytes arrived whole is a corruptError: reading it
// again cannot help.
func (s *Source) openObject(ctx context.Context, key, etag string, offset int64, pos *atomic.Int64) (io.ReadCloser, error) {
	gz := isGzip(key)
	if gz && offset > 0 {
		return nil, fmt.Errorf("internal: ranged read of compressed object %s", key)
	}
	b := &objectBody{ctx: ctx, client: s.client, bucket: s.bucketName, owner: s.o.ExpectedBucketOwner,
		key: key, etag: etag, off: offset, pos: pos, log: s.log}
	if pos != nil {
		pos.Store(offset)
	}
	if err := b.open(); err != nil {
		return nil, err
	}
	if !gz {
		return b, nil
	}
	zr, err := gzip.NewReader(b)
	if err != nil {
		b.Close()
		err = fmt.Errorf("reading gzip object %s: %w", s.origin(key), err)
		if !b.failed {
			err = &corruptError{err}
		}
		return nil, err
	}
	return &gzBody{zr, b, s.origin(key)}, nil
}

func isGzip(key string) bool { return strings.HasSuffix(strings.ToLower(key), ".gz") }

type gzBody struct {
	*gzip.Reader
	b      *objectBody
	origin string
}

func (g *gzBody) Read(p []byte) (int, error) {
	n, err := g.Reader.Read(p)
	if err != nil && err != io.EOF && !g.b.failed {
		err = &corruptError{fmt.Errorf("gzip data of %s is corrupt: %w", g.origin, err)}
	}
	return n, err
}

func (g *gzBody) Close() error { return errors.Join(g.Reader.Close(), g.b.Close()) }
