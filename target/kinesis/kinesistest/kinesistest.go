// Package kinesistest creates streams on a Kinesis stand-in and reads them
// back, for tests and the demo. Nothing in sluice's run path imports it.
package kinesistest

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Client returns a Kinesis client for endpoint with the default credential
// chain (the stand-in scripts export test credentials).
func Client(ctx context.Context, endpoint string) (*kinesis.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

// CreateStream creates a provisioned stream and waits until it is ACTIVE.
func CreateStream(ctx context.Context, cl *kinesis.Client, name string, shards int32) error {
	if _, err := cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		return fmt.Errorf("creating stream %s: %w", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(cl, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("waiting for stream %s: %w", name, err)
	}
	return nil
}

// Record is one record read back from a stream.
type Record struct {
	Shard        string
	PartitionKey string
	Sequence     string
	Data         []byte
}

// ReadAll reads every shard from TRIM_HORIZON, shard after shard. Records of
// one partition key live on one shard, so per-key order is the order of the
// result. It fails if sequence numbers within a shard do not increase.
func ReadAll(ctx context.Context, cl *kinesis.Client, stream string) ([]Record, error) {
	ls, err := cl.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		return nil, fmt.Errorf("listing shards of %s: %w", stream, err)
	}
	var out []Record
	for _, sh := range ls.Shards {
		shard := aws.ToString(sh.ShardId)
		it, err := cl.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return nil, fmt.Errorf("getting iterator of %s: %w", shard, err)
		}
		iter, prev := it.ShardIterator, ""
		for iter != nil {
			res, err := cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", shard, err)
			}
			for _, r := range res.Records {
				seq := aws.ToString(r.SequenceNumber)
				if len(seq) < len(prev) || len(seq) == len(prev) && seq <= prev {
					return nil, fmt.Errorf("shard %s: sequence number %s after %s", shard, seq, prev)
				}
				prev = seq
				out = append(out, Record{Shard: shard, PartitionKey: aws.ToString(r.PartitionKey), Sequence: seq, Data: r.Data})
			}
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out, nil
}
