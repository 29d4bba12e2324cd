package s3parquet

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// objectStore is where finished files go: an S3 bucket or a local
// directory. put makes an object visible only once it is complete.
type objectStore interface {
	// put uploads size bytes of f (read from offset 0) as key.
	put(ctx context.Context, key string, f *os.File, size int64) error
	// names lists the names directly under the folder prefix (ending in
	// "/"): files only, without the prefix.
	names(ctx context.Context, prefix string) ([]string, error)
	// spoolDir is where files are written before put.
	spoolDir() string
}

// S3API is the part of the S3 client the target uses; *s3.Client has it.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3API = (*s3.Client)(nil)

var cannedACLs = map[string]types.ObjectCannedACL{
	"NONE":                      "",
	"PRIVATE":                   types.ObjectCannedACLPrivate,
	"PUBLIC_READ":               types.ObjectCannedACLPublicRead,
	"PUBLIC_READ_WRITE":         types.ObjectCannedACLPublicReadWrite,
	"AUTHENTICATED_READ":        types.ObjectCannedACLAuthenticatedRead,
	"AWS_EXEC_READ":             types.ObjectCannedACLAwsExecRead,
	"BUCKET_OWNER_READ":         types.ObjectCannedACLBucketOwnerRead,
	"BUCKET_OWNER_FULL_CONTROL": types.ObjectCannedACLBucketOwnerFullControl,
}

// s3Store uploads to a bucket: one PutObject up to multipartPart bytes,
// a multipart upload above (aborted on failure, so no part is left behind).
type s3Store struct {
	api      S3API
	bucket   string
	acl      types.ObjectCannedACL
	sse      types.ServerSideEncryption // "" leaves the bucket's default encryption
	kmsKeyID string
	owner    string
	tmp      string
	partSize int64
}

func (s *s3Store) spoolDir() string { return s.tmp }

func (s *s3Store) put(ctx context.Context, key string, f *os.File, size int64) error {
	if size <= s.partSize {
		in := &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: io.NewSectionReader(f, 0, size),
			ContentLength: aws.Int64(size), ACL: s.acl, ServerSideEncryption: s.sse}
		s.ownerKMS(&in.SSEKMSKeyId, &in.ExpectedBucketOwner)
		if _, err := s.api.PutObject(ctx, in); err != nil {
			return fmt.Errorf("uploading s3://%s/%s: %w", s.bucket, key, err)
		}
		return nil
	}
	cin := &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key, ACL: s.acl, ServerSideEncryption: s.sse}
	s.ownerKMS(&cin.SSEKMSKeyId, &cin.ExpectedBucketOwner)
	cu, err := s.api.CreateMultipartUpload(ctx, cin)
	if err != nil {
		return fmt.Errorf("starting multipart upload of s3://%s/%s: %w", s.bucket, key, err)
	}
	if err := s.uploadParts(ctx, key, cu.UploadId, f, size); err != nil {
		ain := &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: cu.UploadId}
		s.ownerKMS(nil, &ain.ExpectedBucketOwner)
		if _, aerr := s.api.AbortMultipartUpload(context.WithoutCancel(ctx), ain); aerr != nil {
			return fmt.Errorf("%w (and aborting the upload: %v)", err, aerr)
		}
		return err
	}
	return nil
}

func (s *s3Store) uploadParts(ctx context.Context, key string, id *string, f *os.File, size int64) error {
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+s.partSize, n+1 {
		l := min(s.partSize, size-off)
		in := &s3.UploadPartInput{Bucket: &s.bucket, Key: &key, UploadId: id, PartNumber: aws.Int32(n),
			Body: io.NewSectionReader(f, off, l), ContentLength: aws.Int64(l)}
		s.ownerKMS(nil, &in.ExpectedBucketOwner)
		out, err := s.api.UploadPart(ctx, in)
		if err != nil {
			return fmt.Errorf("uploading part %d of s3://%s/%s: %w", n, s.bucket, key, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	in := &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
	s.ownerKMS(nil, &in.ExpectedBucketOwner)
	if _, err := s.api.CompleteMultipartUpload(ctx, in); err != nil {
		return fmt.Errorf("completing multipart upload of s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}

func (s *s3Store) ownerKMS(kms, owner **string) {
	if kms != nil && s.kmsKeyID != "" {
		*kms = aws.String(s.kmsKeyID)
	}
	if s.owner != "" {
		*owner = aws.String(s.owner)
	}
}

func (s *s3Store) names(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix, Delimiter: aws.String("/")}
	s.ownerKMS(nil, &in.ExpectedBucketOwner)
	for {
		page, err := s.api.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key)[len(prefix):])
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			return out, nil
		}
		in.ContinuationToken = page.NextContinuationToken
	}
}
