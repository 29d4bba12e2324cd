package s3parquet

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"

	"github.com/sluicedata/sluice/target"
)

// Options configure a Target. The DMS-named fields take DMS's S3Settings
// values (§5.3 of the behaviour spec); the task layer fills in DMS's
// defaults, and New applies them again to any field left zero except the
// booleans, whose zero value is the DMS default apart from EnableStatistics.
type Options struct {
	Bucket       string // bucket name, or a local directory as "file:///abs/dir"
	EndpointURL  string // custom S3 endpoint (path-style); "" = SDK resolution
	BucketFolder string

	ParquetVersion                string // "parquet-1-0" (default) | "parquet-2-0"
	EncodingType                  string // "rle-dictionary" (default) | "plain-dictionary" | "plain"
	DictPageSizeLimit             int    // bytes, default 1 MiB
	DataPageSize                  int    // bytes, default 1 MiB
	RowGroupLength                int    // rows, default 10,000
	EnableStatistics              bool
	ParquetTimestampInMillisecond bool
	CompressionType               string // "none" (default) | "gzip"
	MaxFileSize                   int    // KB, default 1,048,576 (1 GB): size cap of every file
	CdcMaxBatchInterval           int    // seconds, default 60: age cap of an open CDC file
	CdcMinFileSize                int    // KB, default 32,000: size at which a CDC file is written

	CdcInsertsOnly                       bool
	CdcInsertsAndUpdates                 bool
	IncludeOpForFullLoad                 bool
	TimestampColumnName                  string
	UseTaskStartTimeForFullLoadTimestamp bool

	DatePartitionEnabled   bool
	DatePartitionSequence  string // YYYYMMDD (default) | YYYYMMDDHH | YYYYMM | MMYYYYDD | DDMMYYYY
	DatePartitionDelimiter string // SLASH (default) | UNDERSCORE | DASH | NONE
	DatePartitionTimezone  string // IANA zone for partition folders and CDC file names; default UTC

	EncryptionMode               string // SSE_S3 (default: the bucket's own encryption) | SSE_KMS
	ServerSideEncryptionKmsKeyId string
	CannedAclForObjects          string // NONE (default) | PRIVATE | PUBLIC_READ | …
	ExpectedBucketOwner          string

	// Client overrides the S3 client built from EndpointURL (tests).
	Client S3API
	// TempDir holds the Parquet files being written before upload;
	// default os.TempDir() (a file:// bucket spools inside its own root).
	TempDir string
	// Rejecter receives rows whose values cannot be written (a decimal
	// that does not fit its precision, a value of the wrong kind). Without
	// one, such a row fails Write.
	Rejecter target.Rejecter
	Logger   *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Hard caps, independent of settings, that bound memory per open file.
const (
	maxRowGroupBytes = 64 << 20 // buffered row group flushed at this estimated size
	multipartPart    = 16 << 20 // S3 part size; smaller files go in one PutObject
)

// settings is Options resolved into what the writer uses.
type settings struct {
	props        *parquet.WriterProperties
	rowGroupLen  int
	maxFileBytes int64
	cdcBytes     int64
	cdcInterval  time.Duration
	tsMillis     bool
	loc          *time.Location
	partLayout   []string // date fields in folder order: "YYYY", "MM", "DD", "HH"
	partDelim    string
}

func (o *Options) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defInt := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	def(&o.ParquetVersion, "parquet-1-0")
	def(&o.EncodingType, "rle-dictionary")
	def(&o.CompressionType, "none")
	def(&o.DatePartitionSequence, "YYYYMMDD")
	def(&o.DatePartitionDelimiter, "SLASH")
	def(&o.DatePartitionTimezone, "UTC")
	def(&o.EncryptionMode, "SSE_S3")
	def(&o.CannedAclForObjects, "NONE")
	defInt(&o.DictPageSizeLimit, 1024*1024)
	defInt(&o.DataPageSize, 1024*1024)
	defInt(&o.RowGroupLength, 10000)
	defInt(&o.MaxFileSize, 1048576)
	defInt(&o.CdcMaxBatchInterval, 60)
	defInt(&o.CdcMinFileSize, 32000)
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// resolve checks the options and builds the writer settings.
func (o *Options) resolve() (*settings, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := &settings{
		rowGroupLen:  min(o.RowGroupLength, 64*1024*1024),
		maxFileBytes: int64(o.MaxFileSize) * 1024,
		cdcBytes:     int64(min(o.CdcMinFileSize, o.MaxFileSize)) * 1024,
		cdcInterval:  time.Duration(o.CdcMaxBatchInterval) * time.Second,
		tsMillis:     o.ParquetTimestampInMillisecond,
	}
	if o.Bucket == "" {
		bad("no BucketName")
	}
	if o.CdcInsertsOnly && o.CdcInsertsAndUpdates {
		bad("CdcInsertsOnly and CdcInsertsAndUpdates conflict: set at most one of them")
	}
	props := []parquet.WriterProperty{
		parquet.WithDictionaryPageSizeLimit(int64(o.DictPageSizeLimit)),
		parquet.WithDataPageSize(int64(o.DataPageSize)),
		parquet.WithMaxRowGroupLength(int64(s.rowGroupLen)),
		parquet.WithStats(o.EnableStatistics),
		parquet.WithCreatedBy("sluice"),
		// A required root, as parquet-mr and parquet-cpp write it.
		parquet.WithRootRepetition(parquet.Repetitions.Required),
	}
	switch o.ParquetVersion {
	case "parquet-1-0", "PARQUET_1_0":
		props = append(props, parquet.WithVersion(parquet.V1_0))
	case "parquet-2-0", "PARQUET_2_0":
		props = append(props, parquet.WithVersion(parquet.V2_LATEST))
	default:
		bad("ParquetVersion %q: want parquet-1-0 or parquet-2-0", o.ParquetVersion)
	}
	// The dictionary encoding's name in the file (PLAIN_DICTIONARY or
	// RLE_DICTIONARY) follows the format version, as in parquet-mr.
	switch o.EncodingType {
	case "rle-dictionary", "plain-dictionary":
		props = append(props, parquet.WithDictionaryDefault(true))
	case "plain":
		props = append(props, parquet.WithDictionaryDefault(false), parquet.WithEncoding(parquet.Encodings.Plain))
	default:
		bad("EncodingType %q: want rle-dictionary, plain-dictionary or plain", o.EncodingType)
	}
	switch o.CompressionType {
	case "none", "NONE":
		props = append(props, parquet.WithCompression(compress.Codecs.Uncompressed))
	case "gzip", "GZIP":
		props = append(props, parquet.WithCompression(compress.Codecs.Gzip))
	default:
		bad("CompressionType %q: want none or gzip", o.CompressionType)
	}
	s.props = parquet.NewWriterProperties(props...)

	loc, err := time.LoadLocation(o.DatePartitionTimezone)
	if err != nil {
		bad("DatePartitionTimezone %q: %v", o.DatePartitionTimezone, err)
	}
	s.loc = loc
	switch o.DatePartitionSequence {
	case "YYYYMMDD":
		s.partLayout = []string{"YYYY", "MM", "DD"}
	case "YYYYMMDDHH":
		s.partLayout = []string{"YYYY", "MM", "DD", "HH"}
	case "YYYYMM":
		s.partLayout = []string{"YYYY", "MM"}
	case "MMYYYYDD":
		s.partLayout = []string{"MM", "YYYY", "DD"}
	case "DDMMYYYY":
		s.partLayout = []string{"DD", "MM", "YYYY"}
	default:
		bad("DatePartitionSequence %q: want YYYYMMDD, YYYYMMDDHH, YYYYMM, MMYYYYDD or DDMMYYYY", o.DatePartitionSequence)
	}
	switch o.DatePartitionDelimiter {
	case "SLASH":
		s.partDelim = "/"
	case "UNDERSCORE":
		s.partDelim = "_"
	case "DASH":
		s.partDelim = "-"
	case "NONE":
		s.partDelim = ""
	default:
		bad("DatePartitionDelimiter %q: want SLASH, UNDERSCORE, DASH or NONE", o.DatePartitionDelimiter)
	}
	switch o.EncryptionMode {
	case "SSE_S3":
	case "SSE_KMS":
		if o.ServerSideEncryptionKmsKeyId == "" {
			bad("EncryptionMode SSE_KMS needs ServerSideEncryptionKmsKeyId")
		}
	default:
		bad("EncryptionMode %q: want SSE_S3 or SSE_KMS", o.EncryptionMode)
	}
	if _, ok := cannedACLs[o.CannedAclForObjects]; !ok {
		bad("CannedAclForObjects %q is not a DMS value", o.CannedAclForObjects)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("S3 Parquet target: %w", errors.Join(errs...))
	}
	return s, nil
}
