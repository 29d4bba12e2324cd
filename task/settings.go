package task

// Settings is the ReplicationTaskSettings document, with DMS's names and
// DMS's defaults (dms-behaviour.md §6.2). Settings that DMS defines but that
// have no effect on sluice's targets are accepted and listed in Ignored, so a
// settings file exported from DMS validates unchanged.
type Settings struct {
	TargetMetadata                    TargetMetadataSettings
	FullLoadSettings                  FullLoadSettings
	Logging                           LoggingSettings
	ControlTablesSettings             ControlTablesSettings
	StreamBufferSettings              StreamBufferSettings
	ChangeProcessingTuning            ChangeProcessingTuningSettings
	ChangeProcessingDdlHandlingPolicy DdlHandlingPolicySettings
	BeforeImageSettings               BeforeImageSettings
	ErrorBehavior                     ErrorBehaviorSettings
	ValidationSettings                ValidationSettings

	// Ignored lists the JSON paths of DMS settings that were given but have
	// no effect in sluice (control tables, CloudWatch logging, …).
	Ignored []string
}

// TargetMetadataSettings is ReplicationTaskSettings.TargetMetadata. LOB sizes
// are in KB as in DMS.
type TargetMetadataSettings struct {
	TargetSchema                 string
	SupportLobs                  bool
	FullLobMode                  bool
	LobChunkSize                 int
	LimitedSizeLobMode           bool
	LobMaxSize                   int
	InlineLobMaxSize             int
	LoadMaxFileSize              int
	ParallelLoadThreads          int // 0..32 (Kinesis limit)
	ParallelLoadBufferSize       int // 0..1000
	ParallelLoadQueuesPerThread  int // 0..512
	ParallelApplyThreads         int // 0..32; > 0 makes the primary key the default partition key
	ParallelApplyBufferSize      int // 0..1000
	ParallelApplyQueuesPerThread int // 0..512
	BatchApplyEnabled            bool
	TaskRecoveryTableEnabled     bool
}

// TargetTablePrepMode is FullLoadSettings.TargetTablePrepMode.
type TargetTablePrepMode string

// TargetTablePrepMode values.
const (
	PrepDoNothing          TargetTablePrepMode = "DO_NOTHING"
	PrepDropAndCreate      TargetTablePrepMode = "DROP_AND_CREATE"
	PrepTruncateBeforeLoad TargetTablePrepMode = "TRUNCATE_BEFORE_LOAD"
)

// FullLoadSettings is ReplicationTaskSettings.FullLoadSettings.
type FullLoadSettings struct {
	TargetTablePrepMode             TargetTablePrepMode
	CreatePkAfterFullLoad           bool
	StopTaskCachedChangesApplied    bool
	StopTaskCachedChangesNotApplied bool
	MaxFullLoadSubTasks             int // tables loaded concurrently, 1..49
	TransactionConsistencyTimeout   int // seconds
	CommitRate                      int // records per full-load commit, 1..50000
}

// LoggingSettings is ReplicationTaskSettings.Logging. sluice logs through
// log/slog; LogComponents severities are validated and kept for the runner.
type LoggingSettings struct {
	EnableLogging bool
	LogComponents []LogComponentSettings
}

// LogComponentSettings is one entry of Logging.LogComponents.
type LogComponentSettings struct {
	Id       string // TRANSFORMATION, SOURCE_UNLOAD, …
	Severity string // LOGGER_SEVERITY_DEFAULT, …
}

// ControlTablesSettings is ReplicationTaskSettings.ControlTablesSettings.
// sluice keeps its state in StateLocation, so these only get validated.
type ControlTablesSettings struct {
	ControlSchema               string
	HistoryTimeslotInMinutes    int
	HistoryTableEnabled         bool
	SuspendedTablesTableEnabled bool
	StatusTableEnabled          bool
}

// StreamBufferSettings is ReplicationTaskSettings.StreamBufferSettings: how
// many buffers of what size sit between source and targets, which bounds
// memory.
type StreamBufferSettings struct {
	StreamBufferCount        int
	StreamBufferSizeInMB     int
	CtrlStreamBufferSizeInMB int
}

// ChangeProcessingTuningSettings is ReplicationTaskSettings.ChangeProcessingTuning.
// Times in seconds, memory in MB, as in DMS.
type ChangeProcessingTuningSettings struct {
	BatchApplyPreserveTransaction bool
	BatchApplyTimeoutMin          int
	BatchApplyTimeoutMax          int
	BatchApplyMemoryLimit         int
	BatchSplitSize                int
	MinTransactionSize            int // flush targets after this many changes…
	CommitTimeout                 int // …or after this many seconds
	MemoryLimitTotal              int
	MemoryKeepTime                int
	StatementCacheSize            int
}

// DdlHandlingPolicySettings is ReplicationTaskSettings.ChangeProcessingDdlHandlingPolicy.
type DdlHandlingPolicySettings struct {
	HandleSourceTableDropped   bool
	HandleSourceTableTruncated bool
	HandleSourceTableAltered   bool
}

// BeforeImageColumnFilter is BeforeImageSettings.ColumnFilter.
type BeforeImageColumnFilter string

// BeforeImageColumnFilter values.
const (
	BeforeImagePKOnly BeforeImageColumnFilter = "pk-only"
	BeforeImageNonLob BeforeImageColumnFilter = "non-lob"
	BeforeImageAll    BeforeImageColumnFilter = "all"
)

// BeforeImageSettings is ReplicationTaskSettings.BeforeImageSettings
// (Kinesis/file targets, CDC tasks only).
type BeforeImageSettings struct {
	EnableBeforeImage bool
	FieldName         string // JSON member added to update records
	ColumnFilter      BeforeImageColumnFilter
}

// ErrorPolicy is the value of an ErrorBehavior policy.
type ErrorPolicy string

// ErrorPolicy values. Which ones a given setting accepts is checked by LoadConfig.
const (
	ErrorIgnoreRecord ErrorPolicy = "IGNORE_RECORD"
	ErrorLogError     ErrorPolicy = "LOG_ERROR"
	ErrorSuspendTable ErrorPolicy = "SUSPEND_TABLE"
	ErrorStopTask     ErrorPolicy = "STOP_TASK"
	ErrorInsertRecord ErrorPolicy = "INSERT_RECORD" // ApplyErrorInsertPolicy only
	ErrorUpdateRecord ErrorPolicy = "UPDATE_RECORD" // ApplyErrorUpdatePolicy and ApplyErrorInsertPolicy
	ErrorIgnore       ErrorPolicy = "IGNORE"        // EventErrorPolicy only
)

// ErrorBehaviorSettings is ReplicationTaskSettings.ErrorBehavior. Counts of 0
// mean "no escalation"; RecoverableErrorCount -1 retries forever.
type ErrorBehaviorSettings struct {
	DataErrorPolicy                             ErrorPolicy
	DataTruncationErrorPolicy                   ErrorPolicy
	DataErrorEscalationPolicy                   ErrorPolicy
	DataErrorEscalationCount                    int
	TableErrorPolicy                            ErrorPolicy
	TableErrorEscalationPolicy                  ErrorPolicy
	TableErrorEscalationCount                   int
	RecoverableErrorCount                       int
	RecoverableErrorInterval                    int // seconds
	RecoverableErrorThrottling                  bool
	RecoverableErrorThrottlingMax               int // seconds
	RecoverableErrorStopRetryAfterThrottlingMax bool
	ApplyErrorDeletePolicy                      ErrorPolicy
	ApplyErrorInsertPolicy                      ErrorPolicy
	ApplyErrorUpdatePolicy                      ErrorPolicy
	ApplyErrorEscalationPolicy                  ErrorPolicy
	ApplyErrorEscalationCount                   int
	ApplyErrorFailOnTruncationDdl               bool
	FailOnNoTablesCaptured                      bool
	FailOnTransactionConsistencyBreached        bool
	FullLoadIgnoreConflicts                     bool
	EventErrorPolicy                            ErrorPolicy
}

// ValidationSettings is ReplicationTaskSettings.ValidationSettings. sluice
// does not validate data yet: EnableValidation must stay false.
type ValidationSettings struct {
	EnableValidation     bool
	ValidationOnly       bool
	ValidationMode       string
	ThreadCount          int
	PartitionSize        int
	FailureMaxCount      int
	TableFailureMaxCount int
}

// DefaultSettings returns the settings DMS uses when a key is omitted.
func DefaultSettings() Settings {
	return Settings{
		TargetMetadata: TargetMetadataSettings{
			SupportLobs: true, LobChunkSize: 64, LimitedSizeLobMode: true, LobMaxSize: 32,
			ParallelLoadQueuesPerThread: 1, ParallelApplyBufferSize: 100, ParallelApplyQueuesPerThread: 1,
		},
		FullLoadSettings: FullLoadSettings{
			TargetTablePrepMode: PrepDoNothing, MaxFullLoadSubTasks: 8,
			TransactionConsistencyTimeout: 600, CommitRate: 10000,
		},
		ControlTablesSettings: ControlTablesSettings{HistoryTimeslotInMinutes: 5},
		StreamBufferSettings:  StreamBufferSettings{StreamBufferCount: 3, StreamBufferSizeInMB: 8, CtrlStreamBufferSizeInMB: 5},
		ChangeProcessingTuning: ChangeProcessingTuningSettings{
			BatchApplyPreserveTransaction: true, BatchApplyTimeoutMin: 1, BatchApplyTimeoutMax: 30,
			BatchApplyMemoryLimit: 500, MinTransactionSize: 1000, CommitTimeout: 1,
			MemoryLimitTotal: 1024, MemoryKeepTime: 60, StatementCacheSize: 50,
		},
		ChangeProcessingDdlHandlingPolicy: DdlHandlingPolicySettings{
			HandleSourceTableDropped: true, HandleSourceTableTruncated: true, HandleSourceTableAltered: true,
		},
		BeforeImageSettings: BeforeImageSettings{ColumnFilter: BeforeImagePKOnly},
		ErrorBehavior: ErrorBehaviorSettings{
			DataErrorPolicy: ErrorLogError, DataTruncationErrorPolicy: ErrorLogError,
			DataErrorEscalationPolicy: ErrorSuspendTable,
			TableErrorPolicy:          ErrorSuspendTable, TableErrorEscalationPolicy: ErrorStopTask,
			RecoverableErrorCount: -1, RecoverableErrorInterval: 5, RecoverableErrorThrottling: true,
			RecoverableErrorThrottlingMax: 1800,
			ApplyErrorDeletePolicy:        ErrorIgnoreRecord, ApplyErrorInsertPolicy: ErrorLogError,
			ApplyErrorUpdatePolicy: ErrorLogError, ApplyErrorEscalationPolicy: ErrorLogError,
			FullLoadIgnoreConflicts: true, EventErrorPolicy: ErrorIgnore,
		},
		ValidationSettings: ValidationSettings{
			ValidationMode: "ROW_LEVEL", ThreadCount: 5, PartitionSize: 10000,
			FailureMaxCount: 10000, TableFailureMaxCount: 1000,
		},
	}
}
