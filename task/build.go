package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/target/file"
	"github.com/sluicedata/sluice/target/kinesis"
	"github.com/sluicedata/sluice/target/s3parquet"
)

// RunOptions are the command-line choices of `sluice run`.
type RunOptions struct {
	Once          bool          // full load if not done, then the changes present when CDC starts, then stop
	Log           *slog.Logger  // default slog.Default()
	MetricsListen string        // --metrics-listen ADDR; "" serves no metrics
	Progress      io.Writer     // live display (terminal) or nothing; nil: none
	GraceTimeout  time.Duration // final flush bound after SIGINT/SIGTERM; default 30 s
	StateS3       S3API         // client for an s3:// StateLocation (tests); default AWS chain
}

// Run runs the task of cfg: it takes ownership of the state location,
// compiles the table mappings, opens the source and every target, and
// drives them with a Runner until the task ends. The error is nil when the
// task stopped normally (Result may still carry rejected rows: exit 3).
func Run(ctx context.Context, cfg *Config, opts RunOptions) (Result, error) {
	fail := func(err error) (Result, error) {
		return Result{Status: StatusFailed, StopReason: StopFatalError, Err: err}, err
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("task", cfg.ReplicationTaskIdentifier)
	st := cfg.ReplicationTaskSettings
	plan, err := planSource(ctx, cfg, opts, log)
	if err != nil {
		return fail(err)
	}

	mopts := mapping.Options{TaskID: cfg.ReplicationTaskIdentifier, ParallelApply: st.TargetMetadata.ParallelApplyThreads > 0}
	for _, t := range cfg.TargetEndpoints {
		if t.KinesisSettings != nil && t.KinesisSettings.PartitionIncludeSchemaTable {
			mopts.PartitionIncludeSchemaTable = true
		}
	}
	mapper, err := mapping.Compile(cfg.TableMappings.File, cfg.TableMappings.Data, plan.def, mopts)
	if err != nil {
		return fail(cfg.TableMappings.Relocate(err))
	}
	var tables []string
	for _, t := range mapper.Tables() {
		tables = append(tables, tableKey(t.Owner, t.Name))
	}
	if len(tables) == 0 && st.ErrorBehavior.FailOnNoTablesCaptured {
		return fail(errors.New("no table of the table definition is selected by the table mappings (FailOnNoTablesCaptured)"))
	}

	store, err := OpenStateStore(ctx, cfg.StateLocation, cfg.ReplicationTaskIdentifier, StoreOptions{S3: opts.StateS3})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := store.Close(context.WithoutCancel(ctx)); err != nil {
			log.Error("closing state location", "err", err)
		}
	}()

	var stop StopPosition
	if p := cfg.CdcStopPosition; p != nil {
		stop = StopPosition{Kind: string(p.Kind), Time: p.Time}
	}
	r := &Runner{
		Task: cfg.ReplicationTaskIdentifier,
		Identity: Identity{SourceEngine: cfg.SourceEndpoint.EngineName,
			SourceLocation: plan.location,
			Tables:         tables, MigrationType: string(cfg.MigrationType)},
		MigrationType: string(cfg.MigrationType),
		Tables:        tables,
		Mapper:        mapper.NewSession(),
		Store:         store,
		CommitRate:    st.FullLoadSettings.CommitRate,
		CommitTimeout: time.Duration(st.ChangeProcessingTuning.CommitTimeout) * time.Second,
		Errors:        st.ErrorBehavior,
		StopAt:        stop,
		GraceTimeout:  opts.GraceTimeout,
		Log:           log,
	}
	r.OpenSource = func(ctx context.Context, resume source.Position) (source.Source, error) {
		return plan.open(ctx, resume, mapper.Tables())
	}
	if opts.MetricsListen != "" {
		r.Metrics = NewMetrics(cfg.ReplicationTaskIdentifier)
	}

	outs, closeTargets, err := openTargets(ctx, cfg, r, log)
	if err != nil {
		return fail(err)
	}
	defer closeTargets()
	r.Targets = outs

	// Metrics and progress run beside the runner and end with it.
	sctx, stopSide := context.WithCancel(context.WithoutCancel(ctx))
	var side sync.WaitGroup
	defer func() {
		stopSide()
		side.Wait()
	}()
	if r.Metrics != nil {
		addr, errc, err := ServeMetrics(sctx, opts.MetricsListen, r.Metrics)
		if err != nil {
			return fail(err)
		}
		log.Info("serving metrics", "addr", "http://"+addr+"/metrics")
		side.Add(1)
		go func() {
			defer side.Done()
			if err := <-errc; err != nil {
				log.Error("metrics server", "err", err)
			}
		}()
	}
	if opts.Progress != nil {
		p := &Progress{W: opts.Progress, Terminal: IsTerminal(opts.Progress), Log: log}
		side.Add(1)
		go func() {
			defer side.Done()
			p.Run(sctx, r)
		}()
	}
	return r.Run(ctx)
}

// openTargets builds every target endpoint; the returned func closes them.
func openTargets(ctx context.Context, cfg *Config, r *Runner, log *slog.Logger) ([]Output, func(), error) {
	var outs []Output
	var closers []func(context.Context) error
	closeAll := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, c := range closers {
			if err := c(cctx); err != nil {
				log.Error("closing target", "err", err)
			}
		}
	}
	bi := cfg.ReplicationTaskSettings.BeforeImageSettings
	for i, te := range cfg.TargetEndpoints {
		switch te.EngineName {
		case EngineKinesis:
			ks := te.KinesisSettings
			if ks == nil {
				closeAll()
				return nil, nil, fmt.Errorf("TargetEndpoints[%d]: kinesis target without KinesisSettings", i)
			}
			t, err := kinesis.New(ctx, kinesis.Options{
				StreamARN: ks.StreamArn, StreamName: ks.StreamName, EndpointURL: te.EndpointUrl,
				Message: kinesisMessage(cfg, ks, bi), Rejecter: r.Rejecter(), Logger: log,
				MaxInFlight: ks.MaxInFlightRequests, MaxRecordsPerKey: ks.MaxRecordsPerKeyPerRequest,
				MaxBufferedBytes: ks.MaxBufferedMB << 20,
			})
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("TargetEndpoints[%d]: %w", i, err)
			}
			name := "kinesis:" + t.StreamName()
			outs = append(outs, Output{Name: name, Target: t})
			closers = append(closers, t.Close)
		case EngineFile:
			if te.FileSettings == nil {
				closeAll()
				return nil, nil, fmt.Errorf("TargetEndpoints[%d]: file target without FileSettings", i)
			}
			ks := te.KinesisSettings
			if ks == nil {
				ks = &KinesisSettings{}
			}
			t, err := file.New(te.FileSettings.Path, kinesisMessage(cfg, ks, bi))
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("TargetEndpoints[%d]: %w", i, err)
			}
			outs = append(outs, Output{Name: "file:" + te.FileSettings.Path, Target: t})
			closers = append(closers, t.Close)
		case EngineS3:
			t, err := openS3Parquet(ctx, te, r, log)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("TargetEndpoints[%d]: %w", i, err)
			}
			name := "s3:" + strings.TrimSuffix(te.S3Settings.BucketName, "/") + "/" + strings.Trim(te.S3Settings.BucketFolder, "/")
			outs = append(outs, Output{Name: name, Target: t})
			closers = append(closers, t.Close)
		default:
			closeAll()
			return nil, nil, fmt.Errorf("TargetEndpoints[%d]: target engine %q is not wired into `sluice run` yet", i, te.EngineName)
		}
	}
	return outs, closeAll, nil
}

func kinesisMessage(cfg *Config, ks *KinesisSettings, bi BeforeImageSettings) kinesis.MessageOptions {
	return kinesis.MessageOptions{
		MessageFormat:               string(ks.MessageFormat),
		IncludeTransactionDetails:   ks.IncludeTransactionDetails,
		IncludePartitionValue:       ks.IncludePartitionValue,
		PartitionIncludeSchemaTable: ks.PartitionIncludeSchemaTable,
		IncludeTableAlterOperations: ks.IncludeTableAlterOperations,
		IncludeControlDetails:       ks.IncludeControlDetails,
		IncludeNullAndEmpty:         ks.IncludeNullAndEmpty,
		NoHexPrefix:                 ks.NoHexPrefix,
		UseLargeIntegerValue:        ks.UseLargeIntegerValue,
		BeforeImage: kinesis.BeforeImageOptions{Enabled: bi.EnableBeforeImage, FieldName: bi.FieldName,
			ColumnFilter: string(bi.ColumnFilter)},
		TaskID: cfg.ReplicationTaskIdentifier,
	}
}

// openS3Parquet opens an S3 target endpoint; only DataFormat parquet is
// written (CSV objects and transaction-ordered CdcPath files are not).
func openS3Parquet(ctx context.Context, te TargetEndpoint, r *Runner, log *slog.Logger) (*s3parquet.Target, error) {
	s := te.S3Settings
	switch {
	case s == nil:
		return nil, errors.New("s3 target without S3Settings")
	case s.DataFormat != "parquet":
		return nil, fmt.Errorf("S3Settings.DataFormat %q is not supported by the S3 target: set \"DataFormat\": \"parquet\"", s.DataFormat)
	case s.PreserveTransactions:
		return nil, errors.New("S3Settings.PreserveTransactions (transaction-ordered CSV under CdcPath) is not supported")
	}
	return s3parquet.New(ctx, s3parquet.Options{
		Bucket:                               s.BucketName,
		EndpointURL:                          te.EndpointUrl,
		BucketFolder:                         s.BucketFolder,
		ParquetVersion:                       s.ParquetVersion,
		EncodingType:                         s.EncodingType,
		DictPageSizeLimit:                    s.DictPageSizeLimit,
		DataPageSize:                         s.DataPageSize,
		RowGroupLength:                       s.RowGroupLength,
		EnableStatistics:                     s.EnableStatistics,
		ParquetTimestampInMillisecond:        s.ParquetTimestampInMillisecond,
		CompressionType:                      s.CompressionType,
		MaxFileSize:                          s.MaxFileSize,
		CdcMaxBatchInterval:                  s.CdcMaxBatchInterval,
		CdcMinFileSize:                       s.CdcMinFileSize,
		CdcInsertsOnly:                       s.CdcInsertsOnly,
		CdcInsertsAndUpdates:                 s.CdcInsertsAndUpdates,
		IncludeOpForFullLoad:                 s.IncludeOpForFullLoad,
		TimestampColumnName:                  s.TimestampColumnName,
		UseTaskStartTimeForFullLoadTimestamp: s.UseTaskStartTimeForFullLoadTimestamp,
		DatePartitionEnabled:                 s.DatePartitionEnabled,
		DatePartitionSequence:                s.DatePartitionSequence,
		DatePartitionDelimiter:               s.DatePartitionDelimiter,
		DatePartitionTimezone:                s.DatePartitionTimezone,
		EncryptionMode:                       s.EncryptionMode,
		ServerSideEncryptionKmsKeyId:         s.ServerSideEncryptionKmsKeyId,
		CannedAclForObjects:                  s.CannedAclForObjects,
		ExpectedBucketOwner:                  s.ExpectedBucketOwner,
		Rejecter:                             r.Rejecter(),
		Logger:                               log,
	})
}
