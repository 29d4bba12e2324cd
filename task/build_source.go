package task

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/postgres"
	"github.com/sluicedata/sluice/source/postgres/pgrepl"
	"github.com/sluicedata/sluice/source/s3csv"
	"github.com/sluicedata/sluice/tabledefs"
)

// sourcePlan is what Run needs from the source endpoint: the table
// definitions the mappings compile against, where the source is (for the
// checkpoint identity), and how to open it for the selected tables.
type sourcePlan struct {
	def      *tabledefs.Definition
	location string
	open     func(ctx context.Context, resume source.Position, tables []*tabledefs.Table) (source.Source, error)
}

func planSource(ctx context.Context, cfg *Config, opts RunOptions, log *slog.Logger) (*sourcePlan, error) {
	st := cfg.ReplicationTaskSettings
	switch ep := cfg.SourceEndpoint; {
	case ep.EngineName == EngineS3 && ep.S3Settings != nil:
		s3s := ep.S3Settings
		return &sourcePlan{
			def:      s3s.ExternalTableDefinition,
			location: strings.TrimSuffix(s3s.BucketName, "/") + "/" + strings.Trim(s3s.BucketFolder, "/"),
			open: func(ctx context.Context, resume source.Position, tables []*tabledefs.Table) (source.Source, error) {
				return s3csv.New(ctx, s3csv.Options{
					Bucket: s3s.BucketName, EndpointURL: ep.EndpointUrl, Folder: s3s.BucketFolder,
					CdcPath: s3s.CdcPath, Delimiter: s3s.CsvDelimiter, RowDelimiter: s3s.CsvRowDelimiter,
					IgnoreHeaderRows: s3s.IgnoreHeaderRows, Rfc4180: s3s.Rfc4180, NullValue: s3s.CsvNullValue,
					Tables: tables, Definition: s3s.ExternalTableDefinition,
					FullLoad: cfg.MigrationType.FullLoad(), CDC: cfg.MigrationType.CDC(), Once: opts.Once,
					MaxSubTasks:    st.FullLoadSettings.MaxFullLoadSubTasks,
					PollInterval:   time.Duration(s3s.CdcPollInterval) * time.Second,
					StopOnLateFile: s3s.LateCdcFilePolicy == LateCdcFileStop,
					Logger:         log,
				}, resume)
			},
		}, nil
	case ep.EngineName == EnginePostgres && ep.Postgres != nil:
		return planPostgres(ctx, cfg, opts, log)
	}
	return nil, fmt.Errorf("source engine %q is not supported by `sluice run`", cfg.SourceEndpoint.EngineName)
}

// planPostgres reads the database catalog as the table definition and
// opens the PostgreSQL source on the tables the mappings select.
func planPostgres(ctx context.Context, cfg *Config, opts RunOptions, log *slog.Logger) (*sourcePlan, error) {
	pg := cfg.SourceEndpoint.Postgres
	ps := pg.Settings
	connCfg, err := checkPGConfig(pg)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the source database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tops := postgres.TypeOptions{MapBooleanAsBoolean: ps.MapBooleanAsBoolean, MapJsonbAsClob: ps.MapJsonbAsClob,
		MapLongVarcharAs: ps.MapLongVarcharAs, MapUnboundedNumericAsString: ps.MapUnboundedNumericAsString}
	tables, err := postgres.Describe(ctx, conn, nil, tops)
	if err != nil {
		return nil, err
	}
	slot, pub := ps.SlotName, ps.PublicationName
	if slot == "" {
		slot = pgDefaultName(cfg.ReplicationTaskIdentifier)
	}
	if pub == "" {
		pub = pgDefaultName(cfg.ReplicationTaskIdentifier)
	}
	var start pgrepl.LSN
	if p := cfg.CdcStartPosition; p != nil && p.Kind == CdcPositionLSN {
		if start, err = pgrepl.ParseLSN(p.Value); err != nil {
			return nil, fmt.Errorf("CdcStartPosition: %w", err)
		}
	}
	var heartbeat time.Duration
	if ps.HeartbeatEnable {
		heartbeat = time.Duration(max(ps.HeartbeatFrequency, 1)) * time.Minute
	}
	connString := connCfg.ConnString()
	return &sourcePlan{
		def:      &tabledefs.Definition{Tables: tables},
		location: fmt.Sprintf("%s:%d/%s", connCfg.Host, connCfg.Port, connCfg.Database),
		open: func(ctx context.Context, resume source.Position, tables []*tabledefs.Table) (source.Source, error) {
			return postgres.New(ctx, postgres.Options{
				ConnString: connString, SlotName: slot, PublicationName: pub, Tables: tables,
				FullLoad: cfg.MigrationType.FullLoad(), CDC: cfg.MigrationType.CDC(), Once: opts.Once,
				StartLSN: start, HeartbeatFrequency: heartbeat, TrimSpaceInChar: ps.TrimSpaceInChar,
				Logger: log,
			}, resume)
		},
	}, nil
}

var pgNameUnsafe = regexp.MustCompile(`[^a-z0-9_]+`)

// pgDefaultName derives a slot or publication name from the task
// identifier: "sluice_" + the identifier in lowercase with anything but
// letters, digits and underscores replaced, at most 63 characters.
func pgDefaultName(task string) string {
	n := "sluice_" + pgNameUnsafe.ReplaceAllString(strings.ToLower(task), "_")
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}
