package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source/s3csv"
	"github.com/sluicedata/sluice/tabledefs"
)

// checkS3API is the part of the S3 client the checks use: they only read.
type checkS3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// checkNewS3 builds the S3 client of the checks; tests replace it.
var checkNewS3 = func(ctx context.Context, endpointURL string) (checkS3API, error) {
	return s3csv.NewS3Client(ctx, endpointURL)
}

// checkBucket lists one bucket, either on S3 or a local directory, and
// finds the first object under a prefix.
type checkBucket struct {
	name  string // bucket name, or "" for a local directory
	owner string // ExpectedBucketOwner
	api   checkS3API
	root  string // local directory acting as the bucket
}

func newCheckBucket(ctx context.Context, bucket, owner, endpointURL string) (*checkBucket, error) {
	if dir, ok := strings.CutPrefix(bucket, "file://"); ok {
		return &checkBucket{root: dir}, nil
	}
	api, err := checkNewS3(ctx, endpointURL)
	if err != nil {
		return nil, err
	}
	return &checkBucket{name: bucket, owner: owner, api: api}, nil
}

// origin names a prefix the way an operator would look for it.
func (b *checkBucket) origin(prefix string) string {
	if b.api == nil {
		return filepath.Join(b.root, filepath.FromSlash(prefix))
	}
	return "s3://" + b.name + "/" + prefix
}

// listable checks that the bucket exists and may be listed.
func (b *checkBucket) listable(ctx context.Context) (string, error) {
	if b.api == nil {
		f, err := os.Open(b.root)
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("directory %s does not exist", b.root)
		}
		if err != nil {
			return "", fmt.Errorf("local bucket directory: %w", err)
		}
		defer f.Close()
		if _, err := f.Readdirnames(1); err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading local bucket directory %s: %w", b.root, err)
		}
		return "directory " + b.root + " is readable", nil
	}
	key, err := b.first(ctx, "")
	if err != nil {
		return "", err
	}
	if key == "" {
		return "bucket " + b.name + " is listable (and empty)", nil
	}
	return "bucket " + b.name + " is listable", nil
}

// first returns the first key under prefix, "" when there is none.
func (b *checkBucket) first(ctx context.Context, prefix string) (string, error) {
	if b.api == nil {
		return checkFirstLocal(ctx, b.root, prefix)
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.name), MaxKeys: aws.Int32(1)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if b.owner != "" {
		in.ExpectedBucketOwner = aws.String(b.owner)
	}
	out, err := b.api.ListObjectsV2(ctx, in)
	if err != nil {
		return "", b.explain("listing "+b.origin(prefix), err)
	}
	if len(out.Contents) == 0 {
		return "", nil
	}
	return aws.ToString(out.Contents[0].Key), nil
}

// exists checks the bucket with HeadBucket (which needs no list permission).
func (b *checkBucket) exists(ctx context.Context) (string, error) {
	in := &s3.HeadBucketInput{Bucket: aws.String(b.name)}
	if b.owner != "" {
		in.ExpectedBucketOwner = aws.String(b.owner)
	}
	out, err := b.api.HeadBucket(ctx, in)
	if err != nil {
		return "", b.explain("HeadBucket "+b.name, err)
	}
	if r := aws.ToString(out.BucketRegion); r != "" {
		return "bucket " + b.name + " exists in " + r, nil
	}
	return "bucket " + b.name + " exists", nil
}

// explain turns the S3 errors an operator meets into sentences.
func (b *checkBucket) explain(action string, err error) error {
	var nsb *types.NoSuchBucket
	var ae smithy.APIError
	switch {
	case errors.As(err, &nsb):
		return fmt.Errorf("bucket %s does not exist", b.name)
	case errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchBucket"):
		return fmt.Errorf("bucket %s does not exist", b.name)
	case errors.As(err, &ae) && (ae.ErrorCode() == "Forbidden" || ae.ErrorCode() == "AccessDenied"):
		msg := fmt.Sprintf("%s: access denied", action)
		if b.owner != "" {
			msg += " (or the bucket is not owned by ExpectedBucketOwner " + b.owner + ")"
		}
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %w", action, err)
}

// checkFirstLocal finds a regular file under root/prefix. Prefixes from
// joinKey end with "/" and so name a directory; a bare prefix matches file
// names in its directory as S3 key prefixes would.
func checkFirstLocal(ctx context.Context, root, prefix string) (string, error) {
	dir, namePrefix := filepath.Join(root, filepath.FromSlash(prefix)), ""
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		dir, namePrefix = filepath.Split(dir)
	}
	found := ""
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return filepath.SkipAll
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(dir, p)
		if namePrefix != "" && rel != "." && !strings.HasPrefix(rel, namePrefix) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			found, _ = filepath.Rel(root, p)
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", dir, err)
	}
	return filepath.ToSlash(found), nil
}

// checkJoinKey joins prefix parts as the S3 source does: single slashes,
// ending with one.
func checkJoinKey(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			b.WriteString(p)
			b.WriteByte('/')
		}
	}
	return b.String()
}

// checkS3Source checks the S3 (or local directory) CSV source: the bucket,
// BucketFolder, the full-load prefix of every selected table and CdcPath.
func checkS3Source(ctx context.Context, r *checkRecorder, cfg *Config) {
	s := cfg.SourceEndpoint.S3Settings
	folder := checkJoinKey(s.BucketFolder)
	r.endpoint = "source " + checkBucketLabel(s.BucketName, folder)

	name := "bucket listable"
	if strings.HasPrefix(s.BucketName, "file://") {
		name = "directory readable"
	}
	b, err := newCheckBucket(ctx, s.BucketName, s.ExpectedBucketOwner, cfg.SourceEndpoint.EndpointUrl)
	bucketOK := err == nil
	if err != nil {
		r.fail(name, err.Error())
	} else {
		bucketOK = r.run(ctx, name, b.listable)
	}
	var tables []*tabledefs.Table
	tablesOK := r.run(ctx, "table mappings", func(context.Context) (string, error) {
		var err error
		tables, err = checkSelectedS3Tables(cfg)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d of %d tables of the external table definition selected",
			len(tables), len(s.ExternalTableDefinition.Tables)), nil
	})
	if !bucketOK {
		return
	}
	full := cfg.MigrationType.FullLoad()
	if folder != "" || full {
		// sluice run refuses to start on an empty BucketFolder: most likely
		// a misspelt bucket or folder.
		r.run(ctx, "BucketFolder has objects", func(ctx context.Context) (string, error) {
			key, err := b.first(ctx, folder)
			if err != nil {
				return "", err
			}
			if key == "" {
				return "", fmt.Errorf("nothing under %s: check BucketName and BucketFolder", b.origin(folder))
			}
			return "first object " + key, nil
		})
	}
	if full && tablesOK {
		for _, t := range tables {
			prefix := checkJoinKey(s.BucketFolder, t.Path)
			r.run(ctx, "table "+t.Owner+"."+t.Name+" has files", func(ctx context.Context) (string, error) {
				key, err := b.first(ctx, prefix)
				switch {
				case err != nil:
					return "", err
				case key == "":
					return "", fmt.Errorf("no objects under %s: the full load of this table would load 0 rows", b.origin(prefix))
				}
				return "first object " + key, nil
			})
		}
	}
	if cfg.MigrationType.CDC() {
		prefix := checkJoinKey(s.BucketFolder, s.CdcPath)
		r.run(ctx, "CdcPath listable", func(ctx context.Context) (string, error) {
			key, err := b.first(ctx, prefix)
			switch {
			case err != nil:
				return "", err
			case key == "":
				return "no CDC files under " + b.origin(prefix) + " yet; they are read as they arrive", nil
			}
			return "first CDC file " + key, nil
		})
	}
}

// checkSelectedS3Tables compiles the table mappings against the external
// table definition, as sluice run does, and returns the selected tables.
func checkSelectedS3Tables(cfg *Config) ([]*tabledefs.Table, error) {
	s := cfg.SourceEndpoint.S3Settings
	if s.ExternalTableDefinition == nil {
		return nil, errors.New("no ExternalTableDefinition")
	}
	tm := cfg.TableMappings
	m, err := mapping.Compile(tm.File, tm.Data, s.ExternalTableDefinition, mapping.Options{TaskID: cfg.ReplicationTaskIdentifier})
	if err != nil {
		return nil, checkProblemsText(tm.Relocate(err))
	}
	if len(m.Tables()) == 0 {
		return nil, errors.New("no table of the external table definition matches the selection rules")
	}
	return m.Tables(), nil
}

// checkProblemsText folds a list of problems into one error line.
func checkProblemsText(err error) error {
	var ps tabledefs.Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		return err
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.String()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// checkBucketLabel names a bucket and folder: s3://bucket/folder or the
// local directory as file:///dir/folder.
func checkBucketLabel(bucket, folder string) string {
	folder = strings.TrimSuffix(folder, "/")
	if strings.HasPrefix(bucket, "file://") {
		if folder == "" {
			return bucket
		}
		return strings.TrimSuffix(bucket, "/") + "/" + folder
	}
	if folder == "" {
		return "s3://" + bucket
	}
	return "s3://" + bucket + "/" + folder
}

// checkS3Target checks an S3 target bucket without writing to it, or the
// local directory standing in for it.
func checkS3Target(ctx context.Context, r *checkRecorder, te *TargetEndpoint) {
	s := te.S3Settings
	folder := checkJoinKey(s.BucketFolder)
	r.endpoint = "target " + checkBucketLabel(s.BucketName, folder)
	if dir, ok := strings.CutPrefix(s.BucketName, "file://"); ok {
		r.run(ctx, "directory writable", func(context.Context) (string, error) {
			return checkDirWritable(filepath.Join(dir, filepath.FromSlash(folder)), true)
		})
		return
	}
	b, err := newCheckBucket(ctx, s.BucketName, s.ExpectedBucketOwner, te.EndpointUrl)
	if err != nil {
		r.fail("bucket exists", err.Error())
		return
	}
	if !r.run(ctx, "bucket exists", b.exists) {
		return
	}
	r.run(ctx, "bucket listable", func(ctx context.Context) (string, error) {
		if _, err := b.first(ctx, folder); err != nil {
			return "", err
		}
		return "write access is not tested: check writes nothing", nil
	})
}
