package task

import (
	"math"

	"github.com/sluicedata/sluice/tabledefs"
)

const settingsMaxInt = math.MaxInt32

// settingsReader parses one ReplicationTaskSettings document.
type settingsReader struct {
	s *Settings
}

// parseSettings reads the document v (at file/path) over DMS's defaults.
// Cross-checks that need the rest of the task live in checkConflicts.
func parseSettings(v any, file, path string, p *tabledefs.Problems) Settings {
	s := DefaultSettings()
	root, ok := tabledefs.AsObject(v, file, path, p)
	if !ok {
		return s
	}
	r := settingsReader{s: &s}
	if o, ok := root.Object("TargetMetadata", false); ok {
		r.targetMetadata(o)
	}
	if o, ok := root.Object("FullLoadSettings", false); ok {
		r.fullLoad(o)
	}
	if o, ok := root.Object("Logging", false); ok {
		r.logging(o)
	}
	if o, ok := root.Object("ControlTablesSettings", false); ok {
		r.controlTables(o)
	}
	if o, ok := root.Object("StreamBufferSettings", false); ok {
		r.streamBuffer(o)
	}
	if o, ok := root.Object("ChangeProcessingTuning", false); ok {
		r.changeTuning(o)
	}
	if o, ok := root.Object("ChangeProcessingDdlHandlingPolicy", false); ok {
		d := &s.ChangeProcessingDdlHandlingPolicy
		readBool(o, "HandleSourceTableDropped", &d.HandleSourceTableDropped)
		readBool(o, "HandleSourceTableTruncated", &d.HandleSourceTableTruncated)
		readBool(o, "HandleSourceTableAltered", &d.HandleSourceTableAltered)
		o.Unknown()
	}
	if o, ok := root.Object("BeforeImageSettings", false); ok {
		b := &s.BeforeImageSettings
		readBool(o, "EnableBeforeImage", &b.EnableBeforeImage)
		readString(o, "FieldName", &b.FieldName)
		readEnum(o, "ColumnFilter", &b.ColumnFilter, BeforeImagePKOnly, BeforeImageNonLob, BeforeImageAll)
		o.Unknown()
		if b.EnableBeforeImage && b.FieldName == "" {
			p.Add(o.File, o.KeyPath("FieldName"), "must not be empty when EnableBeforeImage is true")
		}
	}
	if o, ok := root.Object("ErrorBehavior", false); ok {
		r.errorBehavior(o)
	}
	if o, ok := root.Object("ValidationSettings", false); ok {
		r.validation(o)
	}
	// Top-level DMS sections that concern relational targets or DMS itself.
	r.ignore(root, "CharacterSetSettings", "LoopbackPreventionSettings", "PostProcessingRules",
		"TTSettings", "FailTaskWhenCleanTaskResourceFailed", "DataResyncSettings")
	root.Unknown()
	return s
}

// ignore accepts DMS keys that have no effect in sluice and remembers them.
func (r settingsReader) ignore(o *tabledefs.Object, keys ...string) {
	for _, k := range keys {
		if o.Has(k) {
			r.s.Ignored = append(r.s.Ignored, o.File+":"+o.KeyPath(k))
		}
	}
}

func (r settingsReader) targetMetadata(o *tabledefs.Object) {
	t := &r.s.TargetMetadata
	readString(o, "TargetSchema", &t.TargetSchema)
	readBool(o, "SupportLobs", &t.SupportLobs)
	readBool(o, "FullLobMode", &t.FullLobMode)
	readInt(o, "LobChunkSize", &t.LobChunkSize, 0, settingsMaxInt)
	readBool(o, "LimitedSizeLobMode", &t.LimitedSizeLobMode)
	readInt(o, "LobMaxSize", &t.LobMaxSize, 0, 102400)
	readInt(o, "InlineLobMaxSize", &t.InlineLobMaxSize, 0, 102400)
	readInt(o, "LoadMaxFileSize", &t.LoadMaxFileSize, 0, settingsMaxInt)
	readInt(o, "ParallelLoadThreads", &t.ParallelLoadThreads, 0, 32)
	readInt(o, "ParallelLoadBufferSize", &t.ParallelLoadBufferSize, 0, 1000)
	readInt(o, "ParallelLoadQueuesPerThread", &t.ParallelLoadQueuesPerThread, 0, 512)
	readInt(o, "ParallelApplyThreads", &t.ParallelApplyThreads, 0, 32)
	readInt(o, "ParallelApplyBufferSize", &t.ParallelApplyBufferSize, 0, 1000)
	readInt(o, "ParallelApplyQueuesPerThread", &t.ParallelApplyQueuesPerThread, 0, 512)
	readBool(o, "BatchApplyEnabled", &t.BatchApplyEnabled)
	readBool(o, "TaskRecoveryTableEnabled", &t.TaskRecoveryTableEnabled)
	r.ignore(o, "ValidationPartialLobSize")
	o.Unknown()
	if t.SupportLobs && t.FullLobMode && t.LimitedSizeLobMode {
		o.P.Add(o.File, o.KeyPath("FullLobMode"), "conflicts with LimitedSizeLobMode: set only one of them to true")
	}
	if t.SupportLobs && !t.FullLobMode && !t.LimitedSizeLobMode && t.InlineLobMaxSize == 0 {
		o.P.Add(o.File, o.KeyPath("SupportLobs"), "is true but none of FullLobMode, LimitedSizeLobMode, InlineLobMaxSize is set")
	}
}

func (r settingsReader) fullLoad(o *tabledefs.Object) {
	f := &r.s.FullLoadSettings
	readEnum(o, "TargetTablePrepMode", &f.TargetTablePrepMode, PrepDoNothing, PrepDropAndCreate, PrepTruncateBeforeLoad)
	readBool(o, "CreatePkAfterFullLoad", &f.CreatePkAfterFullLoad)
	readBool(o, "StopTaskCachedChangesApplied", &f.StopTaskCachedChangesApplied)
	readBool(o, "StopTaskCachedChangesNotApplied", &f.StopTaskCachedChangesNotApplied)
	readInt(o, "MaxFullLoadSubTasks", &f.MaxFullLoadSubTasks, 1, 49)
	readInt(o, "TransactionConsistencyTimeout", &f.TransactionConsistencyTimeout, 0, settingsMaxInt)
	readInt(o, "CommitRate", &f.CommitRate, 1, 50000)
	o.Unknown()
}

var (
	logComponentIDs = []string{
		"FILE_FACTORY", "METADATA_MANAGER", "SORTER", "SOURCE_CAPTURE", "SOURCE_UNLOAD",
		"TABLES_MANAGER", "TARGET_APPLY", "TARGET_LOAD", "TASK_MANAGER", "TRANSFORMATION",
		"VALIDATOR", "VALIDATOR_EXT", "COMMON", "ADDONS", "DATA_STRUCTURE", "COMMUNICATION",
		"FILE_TRANSFER", "IO", "PERFORMANCE", "REST_SERVER", "SERVER", "UTILITIES", "DATA_RESYNC",
	}
	logSeverities = []string{
		"LOGGER_SEVERITY_ERROR", "LOGGER_SEVERITY_WARNING", "LOGGER_SEVERITY_INFO",
		"LOGGER_SEVERITY_DEFAULT", "LOGGER_SEVERITY_DEBUG", "LOGGER_SEVERITY_DETAILED_DEBUG",
	}
)

func (r settingsReader) logging(o *tabledefs.Object) {
	l := &r.s.Logging
	readBool(o, "EnableLogging", &l.EnableLogging)
	if arr, ok := o.Array("LogComponents", false); ok {
		for i, v := range arr {
			c, ok := tabledefs.AsObject(v, o.File, configIndexPath(o.KeyPath("LogComponents"), i), o.P)
			if !ok {
				continue
			}
			var lc LogComponentSettings
			if id, ok := c.String("Id", true); ok {
				if v, ok := checkEnum(c.P, c.File, c.KeyPath("Id"), id, logComponentIDs); ok {
					lc.Id = v
				}
			}
			lc.Severity = "LOGGER_SEVERITY_DEFAULT"
			readEnum(c, "Severity", &lc.Severity, logSeverities...)
			c.Unknown()
			l.LogComponents = append(l.LogComponents, lc)
		}
	}
	r.ignore(o, "EnableLogContext", "CloudWatchLogGroup", "CloudWatchLogStream", "DeleteTaskLogs")
	o.Unknown()
}

func (r settingsReader) controlTables(o *tabledefs.Object) {
	c := &r.s.ControlTablesSettings
	readString(o, "ControlSchema", &c.ControlSchema)
	readInt(o, "HistoryTimeslotInMinutes", &c.HistoryTimeslotInMinutes, 0, settingsMaxInt)
	// DMS exports this one in camelCase.
	readInt(o, "historyTimeslotInMinutes", &c.HistoryTimeslotInMinutes, 0, settingsMaxInt)
	readBool(o, "HistoryTableEnabled", &c.HistoryTableEnabled)
	readBool(o, "SuspendedTablesTableEnabled", &c.SuspendedTablesTableEnabled)
	readBool(o, "StatusTableEnabled", &c.StatusTableEnabled)
	r.ignore(o, "CommitPositionTableEnabled", "FullLoadExceptionTableEnabled")
	o.Unknown()
}

func (r settingsReader) streamBuffer(o *tabledefs.Object) {
	b := &r.s.StreamBufferSettings
	readInt(o, "StreamBufferCount", &b.StreamBufferCount, 1, settingsMaxInt)
	readInt(o, "StreamBufferSizeInMB", &b.StreamBufferSizeInMB, 1, settingsMaxInt)
	readInt(o, "CtrlStreamBufferSizeInMB", &b.CtrlStreamBufferSizeInMB, 1, settingsMaxInt)
	o.Unknown()
}

func (r settingsReader) changeTuning(o *tabledefs.Object) {
	c := &r.s.ChangeProcessingTuning
	readBool(o, "BatchApplyPreserveTransaction", &c.BatchApplyPreserveTransaction)
	readInt(o, "BatchApplyTimeoutMin", &c.BatchApplyTimeoutMin, 0, settingsMaxInt)
	readInt(o, "BatchApplyTimeoutMax", &c.BatchApplyTimeoutMax, 0, settingsMaxInt)
	readInt(o, "BatchApplyMemoryLimit", &c.BatchApplyMemoryLimit, 0, settingsMaxInt)
	readInt(o, "BatchSplitSize", &c.BatchSplitSize, 0, settingsMaxInt)
	readInt(o, "MinTransactionSize", &c.MinTransactionSize, 1, settingsMaxInt)
	readInt(o, "CommitTimeout", &c.CommitTimeout, 1, settingsMaxInt)
	readInt(o, "MemoryLimitTotal", &c.MemoryLimitTotal, 1, settingsMaxInt)
	readInt(o, "MemoryKeepTime", &c.MemoryKeepTime, 0, settingsMaxInt)
	readInt(o, "StatementCacheSize", &c.StatementCacheSize, 0, 200)
	r.ignore(o, "RecoveryTimeout")
	o.Unknown()
	if c.BatchApplyTimeoutMin > c.BatchApplyTimeoutMax {
		o.P.Add(o.File, o.KeyPath("BatchApplyTimeoutMin"), "must not exceed BatchApplyTimeoutMax (%d)", c.BatchApplyTimeoutMax)
	}
}

func (r settingsReader) errorBehavior(o *tabledefs.Object) {
	e := &r.s.ErrorBehavior
	basic := []ErrorPolicy{ErrorIgnoreRecord, ErrorLogError, ErrorSuspendTable, ErrorStopTask}
	readEnum(o, "DataErrorPolicy", &e.DataErrorPolicy, basic...)
	readEnum(o, "DataTruncationErrorPolicy", &e.DataTruncationErrorPolicy, basic...)
	readEnum(o, "DataErrorEscalationPolicy", &e.DataErrorEscalationPolicy, ErrorSuspendTable, ErrorStopTask)
	readInt(o, "DataErrorEscalationCount", &e.DataErrorEscalationCount, 0, settingsMaxInt)
	readEnum(o, "TableErrorPolicy", &e.TableErrorPolicy, ErrorSuspendTable, ErrorStopTask)
	readEnum(o, "TableErrorEscalationPolicy", &e.TableErrorEscalationPolicy, ErrorStopTask)
	readInt(o, "TableErrorEscalationCount", &e.TableErrorEscalationCount, 0, settingsMaxInt)
	readInt(o, "RecoverableErrorCount", &e.RecoverableErrorCount, -1, settingsMaxInt)
	readInt(o, "RecoverableErrorInterval", &e.RecoverableErrorInterval, 1, settingsMaxInt)
	readBool(o, "RecoverableErrorThrottling", &e.RecoverableErrorThrottling)
	readInt(o, "RecoverableErrorThrottlingMax", &e.RecoverableErrorThrottlingMax, 1, settingsMaxInt)
	readBool(o, "RecoverableErrorStopRetryAfterThrottlingMax", &e.RecoverableErrorStopRetryAfterThrottlingMax)
	readEnum(o, "ApplyErrorDeletePolicy", &e.ApplyErrorDeletePolicy, basic...)
	// Older DMS guides list UPDATE_RECORD for inserts, newer ones INSERT_RECORD.
	readEnum(o, "ApplyErrorInsertPolicy", &e.ApplyErrorInsertPolicy, append(basic, ErrorInsertRecord, ErrorUpdateRecord)...)
	readEnum(o, "ApplyErrorUpdatePolicy", &e.ApplyErrorUpdatePolicy, append(basic, ErrorUpdateRecord)...)
	readEnum(o, "ApplyErrorEscalationPolicy", &e.ApplyErrorEscalationPolicy, ErrorLogError, ErrorSuspendTable, ErrorStopTask)
	readInt(o, "ApplyErrorEscalationCount", &e.ApplyErrorEscalationCount, 0, settingsMaxInt)
	readBool(o, "ApplyErrorFailOnTruncationDdl", &e.ApplyErrorFailOnTruncationDdl)
	readBool(o, "FailOnNoTablesCaptured", &e.FailOnNoTablesCaptured)
	readBool(o, "FailOnTransactionConsistencyBreached", &e.FailOnTransactionConsistencyBreached)
	readBool(o, "FullLoadIgnoreConflicts", &e.FullLoadIgnoreConflicts)
	readBool(o, "FulloadIgnoreConflicts", &e.FullLoadIgnoreConflicts) // spelling of older DMS guides
	readEnum(o, "EventErrorPolicy", &e.EventErrorPolicy, ErrorIgnore, ErrorStopTask)
	var masking ErrorPolicy
	if readEnum(o, "DataMaskingErrorPolicy", &masking, basic...) {
		r.s.Ignored = append(r.s.Ignored, o.File+":"+o.KeyPath("DataMaskingErrorPolicy"))
	}
	o.Unknown()
	if e.RecoverableErrorThrottlingMax < e.RecoverableErrorInterval {
		o.P.Add(o.File, o.KeyPath("RecoverableErrorThrottlingMax"),
			"must not be less than RecoverableErrorInterval (%d)", e.RecoverableErrorInterval)
	}
}

func (r settingsReader) validation(o *tabledefs.Object) {
	v := &r.s.ValidationSettings
	readBool(o, "EnableValidation", &v.EnableValidation)
	readBool(o, "ValidationOnly", &v.ValidationOnly)
	readEnum(o, "ValidationMode", &v.ValidationMode, "ROW_LEVEL", "GROUP_LEVEL")
	readInt(o, "ThreadCount", &v.ThreadCount, 1, settingsMaxInt)
	readInt(o, "PartitionSize", &v.PartitionSize, 1, settingsMaxInt)
	readInt(o, "FailureMaxCount", &v.FailureMaxCount, 0, settingsMaxInt)
	readInt(o, "TableFailureMaxCount", &v.TableFailureMaxCount, 0, settingsMaxInt)
	// The remaining DMS validation knobs only matter once validation runs.
	r.ignore(o, "ValidationPartialLobSize", "RecordFailureDelayLimitInMinutes", "SkipLobColumns",
		"HandleCollationDiff", "ValidationQueryCdcDelaySeconds", "RecordFailureDelayInMinutes",
		"RecordSuspendDelayInMinutes", "MaxKeyColumnSize", "MaxRecordFailureCount")
	o.Unknown()
	if v.ValidationOnly && !v.EnableValidation {
		o.P.Add(o.File, o.KeyPath("ValidationOnly"), "requires EnableValidation to be true")
	}
}
