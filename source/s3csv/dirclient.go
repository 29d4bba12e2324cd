package s3csv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// dirClient serves a local directory through the S3 calls the source makes,
// so that `BucketName: file:///abs/dir` takes exactly the code path of a
// real bucket. Keys are slash-separated paths relative to the directory.
// The ETag is derived from size and modification time: a rewritten file
// gets a new one, as it would on S3.
type dirClient struct {
	root string
}

var _ S3API = (*dirClient)(nil)

// newDirClient opens a local directory bucket given as file:///abs/dir (or
// file://rel/dir, relative to the working directory).
func newDirClient(bucket string) (*dirClient, error) {
	dir := strings.TrimPrefix(bucket, "file://")
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", bucket, err)
	}
	return &dirClient{root: abs}, nil
}

func (c *dirClient) noBucket(err error) error {
	msg := fmt.Sprintf("local bucket directory %s: %v", c.root, err)
	return &types.NoSuchBucket{Message: &msg}
}

func (c *dirClient) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if st, err := os.Stat(c.root); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return nil, c.noBucket(err)
	}
	prefix := aws.ToString(in.Prefix)
	after := aws.ToString(in.StartAfter)
	if tok := aws.ToString(in.ContinuationToken); tok > after {
		after = tok
	}
	limit := int(aws.ToInt32(in.MaxKeys))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	// Walk only the directory that holds the prefix; keys are then sorted
	// as S3 sorts them (byte order of the whole key, which a directory walk
	// does not give: "a/b" sorts after "a-c").
	walkDir := path.Dir(prefix + "x")
	if walkDir == "." {
		walkDir = ""
	}
	type obj struct {
		key string
		d   fs.DirEntry
	}
	var objs []obj
	base := filepath.Join(c.root, filepath.FromSlash(walkDir))
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == base {
				return filepath.SkipAll
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(c.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || key <= after {
			return nil
		}
		objs = append(objs, obj{key, d})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", base, err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
	out := &s3.ListObjectsV2Output{Prefix: in.Prefix}
	if len(objs) > limit {
		objs = objs[:limit]
		out.IsTruncated = aws.Bool(true)
		out.NextContinuationToken = aws.String(objs[limit-1].key)
	}
	for _, o := range objs { // stat only the keys of this page
		info, err := o.d.Info()
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", o.key, err)
		}
		out.Contents = append(out.Contents, types.Object{
			Key:          aws.String(o.key),
			ETag:         aws.String(fileETag(info)),
			Size:         aws.Int64(info.Size()),
			LastModified: aws.Time(fileTime(info)),
		})
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	return out, nil
}

// fileETag changes whenever the file is rewritten: its size and change time
// (ctime, which, unlike the modification time, cp -p or rsync -t cannot set
// back to an old value).
func fileETag(info fs.FileInfo) string {
	return `"` + strconv.FormatInt(info.Size(), 16) + "-" + strconv.FormatInt(changeTime(info).UnixNano(), 16) + `"`
}

// fileTime is changeTime; tests that backdate files replace it.
var fileTime = changeTime

// changeTime is the later of the file's modification and status-change
// times. It stands for S3's LastModified: the moment the object appeared,
// which late-file detection relies on (a copied file keeping an old mtime
// still shows when it arrived).
func changeTime(info fs.FileInfo) time.Time {
	t := info.ModTime()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if c := time.Unix(st.Ctim.Sec, st.Ctim.Nsec); c.After(t) {
			return c
		}
	}
	return t
}

func (c *dirClient) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	if !fs.ValidPath(key) {
		return nil, fmt.Errorf("invalid key %q", key)
	}
	f, err := os.Open(filepath.Join(c.root, filepath.FromSlash(key)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			msg := err.Error()
			return nil, &types.NoSuchKey{Message: &msg}
		}
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	etag := fileETag(info)
	if m := aws.ToString(in.IfMatch); m != "" && m != etag {
		f.Close()
		return nil, fmt.Errorf("getting %s: precondition failed: ETag is %s, not %s", key, etag, m)
	}
	var off int64
	if r := aws.ToString(in.Range); r != "" {
		// Only the open-ended "bytes=N-" form is used by this package.
		n, ok := strings.CutPrefix(r, "bytes=")
		n, ok2 := strings.CutSuffix(n, "-")
		if off, err = strconv.ParseInt(n, 10, 64); !ok || !ok2 || err != nil {
			f.Close()
			return nil, fmt.Errorf("getting %s: unsupported range %q", key, r)
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &s3.GetObjectOutput{
		Body:          f,
		ETag:          aws.String(etag),
		ContentLength: aws.Int64(info.Size() - off),
	}, nil
}
