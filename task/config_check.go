package task

import (
	"fmt"

	"github.com/sluicedata/sluice/tabledefs"
)

// checkConflicts names settings that are each valid but cannot go together.
// It runs after everything was read, on whatever parsed.
func (l *configLoader) checkConflicts(root *tabledefs.Object, cfg *Config) {
	mt := cfg.MigrationType
	src := cfg.SourceEndpoint
	st := &cfg.ReplicationTaskSettings

	if s := src.S3Settings; s != nil && mt.CDC() && s.CdcPath == "" && root.M["SourceEndpoint"] != nil {
		l.p.Add(l.file, "$.SourceEndpoint.S3Settings.CdcPath", "is required because MigrationType is %q", mt)
	}

	// Settings-document conflicts are reported where the setting is.
	sp := func(path string) string { return l.settingsDoc.Path + path }
	sf := l.settingsDoc.File
	var kinesisLike, s3Targets []int
	for i, t := range cfg.TargetEndpoints {
		switch t.EngineName {
		case EngineKinesis, EngineFile:
			kinesisLike = append(kinesisLike, i)
		case EngineS3:
			s3Targets = append(s3Targets, i)
		}
	}
	if st.BeforeImageSettings.EnableBeforeImage {
		if mt == MigrationFullLoad {
			l.p.Add(sf, sp(".BeforeImageSettings.EnableBeforeImage"), "applies to CDC only, but MigrationType is %q", mt)
		}
		// With a Kinesis or file target next to it, an S3 target just
		// ignores the setting; alone, the setting would do nothing.
		if len(s3Targets) > 0 && len(kinesisLike) == 0 {
			l.p.Add(sf, sp(".BeforeImageSettings.EnableBeforeImage"),
				"has no effect on S3 targets; use the add-before-image-columns transformation")
		}
	}
	tm := st.TargetMetadata
	if tm.BatchApplyEnabled {
		l.p.Add(sf, sp(".TargetMetadata.BatchApplyEnabled"), "is not supported for Kinesis, S3 or file targets (DMS can lose data with it)")
	}
	if tm.SupportLobs && tm.FullLobMode {
		l.p.Add(sf, sp(".TargetMetadata.FullLobMode"), "is not supported for Kinesis, S3 or file targets; use LimitedSizeLobMode")
	}
	v := st.ValidationSettings
	if v.EnableValidation {
		if len(kinesisLike) > 0 {
			l.p.Add(sf, sp(".ValidationSettings.EnableValidation"),
				"data validation is not available for Kinesis or file targets (TargetEndpoints[%d])", kinesisLike[0])
		} else {
			l.p.Add(sf, sp(".ValidationSettings.EnableValidation"), "data validation is not implemented by sluice")
		}
	}
	if v.ValidationOnly {
		if st.FullLoadSettings.TargetTablePrepMode != PrepDoNothing {
			l.p.Add(sf, sp(".ValidationSettings.ValidationOnly"), "requires FullLoadSettings.TargetTablePrepMode \"DO_NOTHING\"")
		}
		if mt == MigrationFullLoadAndCDC {
			l.p.Add(sf, sp(".ValidationSettings.ValidationOnly"), "requires MigrationType \"full-load\" or \"cdc\", not %q", mt)
		}
	}
	fl := st.FullLoadSettings
	if (fl.StopTaskCachedChangesApplied || fl.StopTaskCachedChangesNotApplied) && mt != MigrationFullLoadAndCDC && mt != "" {
		key := "StopTaskCachedChangesApplied"
		if !fl.StopTaskCachedChangesApplied {
			key = "StopTaskCachedChangesNotApplied"
		}
		l.p.Add(sf, sp(".FullLoadSettings."+key), "applies to full-load-and-cdc tasks only, but MigrationType is %q", mt)
	}
	if fl.StopTaskCachedChangesApplied && fl.StopTaskCachedChangesNotApplied {
		l.p.Add(sf, sp(".FullLoadSettings.StopTaskCachedChangesNotApplied"), "conflicts with StopTaskCachedChangesApplied: set at most one of them")
	} else if (fl.StopTaskCachedChangesApplied || fl.StopTaskCachedChangesNotApplied) && (mt == MigrationFullLoadAndCDC || mt == "") {
		key := "StopTaskCachedChangesApplied"
		if !fl.StopTaskCachedChangesApplied {
			key = "StopTaskCachedChangesNotApplied"
		}
		l.p.Add(sf, sp(".FullLoadSettings."+key), "is not supported by sluice run; use `sluice run --once` (full load, then the changes present, then stop) or MigrationType \"full-load\"")
	}

	if p := cfg.CdcStartPosition; p != nil {
		if mt != MigrationCDC && mt != "" {
			l.p.Add(l.file, "$.CdcStartPosition", "applies to MigrationType \"cdc\" only, not %q", mt)
		}
		if p.Kind == CdcPositionLSN && src.EngineName != EnginePostgres && src.EngineName != "" {
			l.p.Add(l.file, "$.CdcStartPosition", "an LSN start position needs a postgres source, not %q", src.EngineName)
		}
		if (p.Kind == CdcPositionServerTime || p.Kind == CdcPositionTime) && src.EngineName == EngineS3 {
			l.p.Add(l.file, "$.CdcStartPosition", "a time start position is not supported for an s3 source (CDC files carry no commit time): remove it to apply every CDC file under CdcPath")
		}
		if p.Kind == CdcPositionLSN && src.Postgres != nil && src.Postgres.Settings.SlotName == "" {
			l.p.Add(l.file, "$.CdcStartPosition", "an LSN start position needs an existing slot: set PostgreSQLSettings.SlotName")
		}
	}
	if cfg.CdcStopPosition != nil && mt == MigrationFullLoad {
		l.p.Add(l.file, "$.CdcStopPosition", "applies to CDC tasks only, but MigrationType is %q", mt)
	}
	if p := cfg.CdcStopPosition; p != nil && p.Kind == CdcPositionCommitTime && src.EngineName == EngineS3 {
		l.p.Add(l.file, "$.CdcStopPosition", "commit_time is not supported for an s3 source (CDC files carry no commit time): use server_time:YYYY-MM-DDThh:mm:ss")
	}
	l.duplicateTargets(cfg.TargetEndpoints)
}

// duplicateTargets refuses two targets that would write the same place.
func (l *configLoader) duplicateTargets(ts []TargetEndpoint) {
	seen := map[string]int{}
	for i, t := range ts {
		var key, path string
		switch {
		case t.EngineName == EngineKinesis && t.KinesisSettings != nil &&
			t.KinesisSettings.StreamArn+t.KinesisSettings.StreamName != "":
			key = "kinesis:" + t.KinesisSettings.StreamArn + t.KinesisSettings.StreamName
			path = "KinesisSettings"
		case t.EngineName == EngineS3 && t.S3Settings != nil:
			key = "s3:" + t.S3Settings.BucketName + "/" + t.S3Settings.BucketFolder
			path = "S3Settings.BucketFolder"
		case t.EngineName == EngineFile && t.FileSettings != nil:
			key = "file:" + t.FileSettings.Path
			path = "FileSettings.Path"
		default:
			continue
		}
		if j, dup := seen[key]; dup {
			l.p.Add(l.file, fmt.Sprintf("$.TargetEndpoints[%d].%s", i, path),
				"writes to the same place as TargetEndpoints[%d]", j)
			continue
		}
		seen[key] = i
	}
}
