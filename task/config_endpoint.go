package task

import "github.com/sluicedata/sluice/tabledefs"

// Engine names accepted in SourceEndpoint/TargetEndpoints.
const (
	EngineS3       = "s3"
	EnginePostgres = "postgres"
	EngineKinesis  = "kinesis"
	EngineFile     = "file" // ✚ JSON-lines file target
)

// SourceEndpoint is the task's source: an S3 bucket (or local directory) of
// CSV files, or a PostgreSQL database. Exactly one of S3Settings and Postgres
// is set, according to EngineName.
type SourceEndpoint struct {
	EngineName string // EngineS3 or EnginePostgres
	// EndpointUrl (✚) overrides the AWS endpoint (S3-compatible stores,
	// stand-ins); empty means the SDK's normal resolution.
	EndpointUrl string
	S3Settings  *S3SourceSettings
	Postgres    *PostgresEndpoint
}

// S3SourceSettings is SourceEndpoint.S3Settings (dms-behaviour.md §1.1).
type S3SourceSettings struct {
	// BucketName is a bucket name, or ✚ "file:///abs/dir" for a local
	// directory acting as the bucket (relative file:// paths are resolved
	// against the task file's directory, so it is always absolute here).
	BucketName       string
	BucketFolder     string
	CdcPath          string // required for cdc and full-load-and-cdc tasks
	CsvDelimiter     string // default ","
	CsvRowDelimiter  string // default "\n"
	IgnoreHeaderRows int    // 0 or 1
	Rfc4180          bool   // default true
	// CsvNullValue is nil when unset (an empty field is NULL); when set, only
	// that text is NULL and an empty field is an empty string.
	CsvNullValue         *string
	DataFormat           string // "csv" (parquet sources are not supported yet)
	ExpectedBucketOwner  string
	ServiceAccessRoleArn string

	// ExternalTableDefinition is the parsed table definition document, and
	// ExternalTableDefinitionFile the file name its problems are reported
	// against (the task file when given inline).
	ExternalTableDefinition     *tabledefs.Definition
	ExternalTableDefinitionFile string

	// CdcPollInterval (✚, seconds, default 5) is how long the source waits
	// before listing CdcPath again when no new CDC file is there.
	CdcPollInterval int
	// LateCdcFilePolicy (✚) says what happens when a CDC file appears that
	// sorts before one already processed: DMS skips it silently; sluice
	// reports it and either skips it ("skip", default) or stops the task
	// ("stop").
	LateCdcFilePolicy LateCdcFilePolicy
}

// LateCdcFilePolicy is the ✚ S3Settings.LateCdcFilePolicy of an S3 source.
type LateCdcFilePolicy string

// LateCdcFilePolicy values.
const (
	LateCdcFileSkip LateCdcFilePolicy = "skip"
	LateCdcFileStop LateCdcFilePolicy = "stop"
)

// PostgresEndpoint is a PostgreSQL source: DMS's endpoint keys ServerName,
// Port, DatabaseName, Username (at the endpoint or inside
// PostgreSQLSettings), or ✚ ConnectionString. The password never comes from
// the task file: PGPASSWORD or the connection string carries it.
type PostgresEndpoint struct {
	ServerName       string
	Port             int // default 5432
	DatabaseName     string
	Username         string
	ConnectionString string // ✚ libpq URL or key=value string; excludes the four above
	Settings         PostgreSQLSettings
}

// PostgreSQLSettings is SourceEndpoint.PostgreSQLSettings (§4.2).
type PostgreSQLSettings struct {
	SlotName string
	// PluginName is always "pgoutput": sluice decodes pgoutput only.
	PluginName         string
	HeartbeatEnable    bool
	HeartbeatFrequency int    // minutes, default 5
	HeartbeatSchema    string // default "public"
	CaptureDdls        bool   // default true
	DdlArtifactsSchema string // default "public"
	ExecuteTimeout     int    // seconds, default 60
	// PublicationName (✚) is the publication pgoutput streams; empty means
	// the source derives one from the task identifier.
	PublicationName             string
	FailTasksOnLobTruncation    bool
	MapBooleanAsBoolean         bool
	MapJsonbAsClob              bool
	MapLongVarcharAs            string // "wstring" (default), "clob", "nclob"
	MapUnboundedNumericAsString bool
	ConsumeMonotonicEvents      bool
	TrimSpaceInChar             bool // default true
	AfterConnectScript          string
}

// TargetEndpoint is one of the task's targets. The settings object matching
// EngineName is set; the others are nil.
type TargetEndpoint struct {
	EngineName  string // EngineKinesis, EngineS3 or EngineFile
	EndpointUrl string // ✚ see SourceEndpoint.EndpointUrl
	// KinesisSettings holds the stream and the message options. For the file
	// target it holds the message options only (no stream).
	KinesisSettings *KinesisSettings
	S3Settings      *S3TargetSettings
	FileSettings    *FileSettings
}

// MessageFormat is KinesisSettings.MessageFormat.
type MessageFormat string

// MessageFormat values.
const (
	MessageJSON            MessageFormat = "json"
	MessageJSONUnformatted MessageFormat = "json-unformatted"
)

// KinesisSettings is TargetEndpoint.KinesisSettings (§2.1).
type KinesisSettings struct {
	StreamArn string
	// StreamName (✚) names the stream in the client's account and region
	// instead of StreamArn; exactly one of the two is set on a Kinesis target.
	StreamName                  string
	MessageFormat               MessageFormat // default "json"
	IncludeTransactionDetails   bool
	IncludePartitionValue       bool
	PartitionIncludeSchemaTable bool
	IncludeTableAlterOperations bool
	IncludeControlDetails       bool
	IncludeNullAndEmpty         bool
	NoHexPrefix                 bool
	UseLargeIntegerValue        bool
	ServiceAccessRoleArn        string

	// Producer limits (✚, Kinesis targets only; the file target refuses them).
	//
	// MaxInFlightRequests bounds concurrent PutRecords requests (1..64,
	// default 8).
	MaxInFlightRequests int
	// MaxRecordsPerKeyPerRequest is how many records of one partition key a
	// PutRecords request may carry (1..500, default 1). 1 keeps strict
	// per-key order: a later record of a key is never accepted by Kinesis
	// before an earlier one, at the price of one record per round trip for a
	// hot key (the CDC default key is schema.table). More trades that
	// guarantee for hot-key throughput: a partial failure can then reorder
	// records of one key (counted and logged).
	MaxRecordsPerKeyPerRequest int
	// MaxBufferedMB bounds the encoded records waiting for Kinesis (1..4096,
	// default 64); the task blocks above it.
	MaxBufferedMB int
}

// Defaults of the KinesisSettings producer limits.
const (
	DefaultMaxInFlightRequests        = 8
	DefaultMaxRecordsPerKeyPerRequest = 1
	DefaultMaxBufferedMB              = 64
)

// FileSettings is ✚ TargetEndpoint.FileSettings of the "file" engine.
type FileSettings struct {
	Path string // absolute (relative paths are resolved against the task file)
}

// S3TargetSettings is TargetEndpoint.S3Settings (§5.3). Sizes are in the
// units DMS uses (KB for MaxFileSize/CdcMinFileSize, bytes for pages).
type S3TargetSettings struct {
	BucketName   string // bucket, or ✚ absolute "file:///dir" like the source
	BucketFolder string
	DataFormat   string // "csv" (default) or "parquet"

	ParquetVersion                       string // "parquet-1-0" (default) or "parquet-2-0"
	EncodingType                         string // "rle-dictionary" (default), "plain", "plain-dictionary"
	DictPageSizeLimit                    int
	DataPageSize                         int
	RowGroupLength                       int
	EnableStatistics                     bool
	ParquetTimestampInMillisecond        bool
	CompressionType                      string // "none" (default) or "gzip"
	MaxFileSize                          int    // KB, 1..1048576
	CdcMaxBatchInterval                  int    // seconds
	CdcMinFileSize                       int    // KB
	CdcPath                              string
	PreserveTransactions                 bool
	CdcInsertsOnly                       bool
	CdcInsertsAndUpdates                 bool
	IncludeOpForFullLoad                 bool
	TimestampColumnName                  string
	UseTaskStartTimeForFullLoadTimestamp bool
	AddColumnName                        bool
	DatePartitionEnabled                 bool
	DatePartitionSequence                string // YYYYMMDD (default) …
	DatePartitionDelimiter               string // SLASH (default) …
	DatePartitionTimezone                string // IANA zone, default UTC
	CsvDelimiter                         string
	CsvRowDelimiter                      string
	CsvNullValue                         *string // nil: unset
	Rfc4180                              bool
	UseCsvNoSupValue                     bool
	CsvNoSupValue                        string
	AddTrailingPaddingCharacter          bool
	EncryptionMode                       string // SSE_S3 (default) or SSE_KMS
	ServerSideEncryptionKmsKeyId         string
	CannedAclForObjects                  string // NONE (default) …
	GlueCatalogGeneration                bool
	ExpectedBucketOwner                  string
	ServiceAccessRoleArn                 string
}
