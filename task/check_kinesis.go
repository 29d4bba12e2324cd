package task

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// checkKinesisAPI is the part of the Kinesis client the checks use.
type checkKinesisAPI interface {
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// checkNewKinesis builds the Kinesis client of the checks like the Kinesis
// target does: default chain, the ARN's region when none is configured,
// BaseEndpoint from EndpointUrl.
var checkNewKinesis = func(ctx context.Context, endpointURL, region string) (checkKinesisAPI, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = region
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if endpointURL != "" {
			o.BaseEndpoint = aws.String(endpointURL)
		}
	}), nil
}

// checkStreamName returns the stream name (taken from the ARN when only the
// ARN is given: kinesalite needs the name) and the ARN's region.
func checkStreamName(ks *KinesisSettings) (name, region string, err error) {
	name = ks.StreamName
	if ks.StreamArn != "" {
		a, perr := arn.Parse(ks.StreamArn)
		if perr != nil || !strings.HasPrefix(a.Resource, "stream/") {
			return "", "", fmt.Errorf("StreamArn %q is not a stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)", ks.StreamArn)
		}
		if name == "" {
			name = strings.TrimPrefix(a.Resource, "stream/")
		}
		region = a.Region
	}
	if name == "" {
		return "", "", errors.New("neither StreamArn nor StreamName is set")
	}
	return name, region, nil
}

// checkKinesisTarget checks that the stream exists and accepts writes.
func checkKinesisTarget(ctx context.Context, r *checkRecorder, te *TargetEndpoint) {
	ks := te.KinesisSettings
	name, region, err := checkStreamName(ks)
	if err != nil {
		r.endpoint = "target kinesis"
		r.fail("stream ACTIVE", err.Error())
		return
	}
	r.endpoint = "target kinesis:" + name
	r.run(ctx, "stream ACTIVE", func(ctx context.Context) (string, error) {
		api, err := checkNewKinesis(ctx, te.EndpointUrl, region)
		if err != nil {
			return "", err
		}
		in := &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)}
		if ks.StreamArn != "" {
			in.StreamARN = aws.String(ks.StreamArn)
		}
		out, err := api.DescribeStreamSummary(ctx, in)
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			return "", fmt.Errorf("stream %s does not exist", name)
		case err != nil:
			return "", fmt.Errorf("describing stream %s: %w", name, err)
		case out.StreamDescriptionSummary == nil:
			return "", fmt.Errorf("describing stream %s: empty response", name)
		}
		return checkStreamDetail(name, out.StreamDescriptionSummary)
	})
}

// checkStreamDetail judges a stream's status: ACTIVE and UPDATING
// (resharding) streams accept writes.
func checkStreamDetail(name string, sd *types.StreamDescriptionSummary) (string, error) {
	mode := "PROVISIONED"
	if sd.StreamModeDetails != nil && sd.StreamModeDetails.StreamMode != "" {
		mode = string(sd.StreamModeDetails.StreamMode)
	}
	detail := fmt.Sprintf("%s, %d open shards, %s", sd.StreamStatus, aws.ToInt32(sd.OpenShardCount), mode)
	if sd.EncryptionType != "" && sd.EncryptionType != types.EncryptionTypeNone {
		detail += ", encrypted (" + string(sd.EncryptionType) + ")"
	}
	switch sd.StreamStatus {
	case types.StreamStatusActive:
		return detail, nil
	case types.StreamStatusUpdating:
		return "", checkWarnf("%s: resharding, writes are accepted", detail)
	}
	return "", fmt.Errorf("stream %s is %s, not ACTIVE", name, sd.StreamStatus)
}
