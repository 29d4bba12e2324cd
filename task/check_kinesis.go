package task

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/sluicedata/sluice/target/kinesis"
)

// checkKinesisAPI is the part of the Kinesis client the checks use.
type checkKinesisAPI interface {
	DescribeStreamSummary(ctx context.Context, in *awskinesis.DescribeStreamSummaryInput, optFns ...func(*awskinesis.Options)) (*awskinesis.DescribeStreamSummaryOutput, error)
}

// checkNewKinesis builds the Kinesis client of the checks exactly as the
// Kinesis target does; tests replace it.
var checkNewKinesis = func(ctx context.Context, endpointURL, region string) (checkKinesisAPI, error) {
	return kinesis.NewClient(ctx, endpointURL, region)
}

// checkStreamName returns the stream name (taken from the ARN when only the
// ARN is given: kinesalite needs the name) and the ARN's region.
func checkStreamName(ks *KinesisSettings) (name, region string, err error) {
	name = ks.StreamName
	if ks.StreamArn != "" {
		n, r, perr := kinesis.ParseStreamARN(ks.StreamArn)
		if perr != nil {
			return "", "", perr
		}
		if name == "" {
			name = n
		}
		region = r
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
		sd, _, err := kinesis.DescribeStream(ctx, api, ks.StreamArn, ks.StreamName)
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			return "", fmt.Errorf("stream %s does not exist", name)
		case err != nil:
			return "", err
		}
		return checkStreamDetail(name, sd)
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
