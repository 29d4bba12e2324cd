package s3csv

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of the S3 client the source uses. *s3.Client satisfies
// it, and so does the local-directory bucket (dirClient).
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// NewS3Client builds an S3 client from the SDK's default credential and
// region chain. With endpointURL set (an S3-compatible store, a local
// stand-in) requests go there, path-style; without it the SDK's own
// resolution applies, including AWS_ENDPOINT_URL_S3 (also path-style). Checksums are only
// computed and validated where S3 requires them, which stand-ins need.
func NewS3Client(ctx context.Context, endpointURL string) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	// Custom endpoints (S3-compatible stores, stand-ins) rarely serve
	// virtual-hosted bucket names: use path style for them, whether the
	// endpoint comes from the task file or from the environment.
	custom := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpointURL != "" {
			o.BaseEndpoint = aws.String(endpointURL)
			custom = true
		}
		o.UsePathStyle = custom
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}
