package s3csv

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sluicedata/sluice/tabledefs"
)

// Options configures the S3 CSV source. Names follow the DMS S3Settings.
type Options struct {
	Bucket      string // bucket name, or a local directory given as "file:///abs/dir"
	EndpointURL string // optional custom S3 endpoint (path-style)
	// ExpectedBucketOwner, when set, is sent with every S3 request: S3
	// refuses them (403) when another account owns the bucket.
	ExpectedBucketOwner string
	Folder              string // BucketFolder
	CdcPath             string
	Delimiter           string // CsvDelimiter, default ","
	RowDelimiter        string // CsvRowDelimiter, default "\n" ("\r\n" input is accepted with "\n")
	IgnoreHeaderRows    int
	Rfc4180             bool    // the caller passes the DMS default, true
	NullValue           *string // CsvNullValue; nil = unset (an unquoted empty field is NULL)
	Tables              []*tabledefs.Table
	// Definition, when set, is the whole external table definition: CDC
	// lines for defined but unselected tables are then skipped quietly
	// instead of being rejected as unknown.
	Definition     *tabledefs.Definition
	FullLoad, CDC  bool
	Once           bool          // CDC: apply the files present when CDC starts, then ErrDone
	MaxSubTasks    int           // MaxFullLoadSubTasks, default 8
	PollInterval   time.Duration // CDC listing interval, default 5s
	StopOnLateFile bool          // false: report and skip late/rewritten CDC files (DMS compatible)
	BatchRows      int           // events per Batch, default 1024
	Client         S3API         // optional; built with the SDK default chain otherwise
	Logger         *slog.Logger
}

const (
	defaultMaxSubTasks  = 8
	defaultPollInterval = 5 * time.Second
	defaultBatchRows    = 1024
)

// withDefaults fills defaults and checks what can be checked offline,
// reporting every problem at once.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Bucket == "" {
		errs = append(errs, errors.New("BucketName is required"))
	}
	if !o.FullLoad && !o.CDC {
		errs = append(errs, errors.New("neither full load nor CDC is requested"))
	}
	if o.CDC && strings.Trim(o.CdcPath, "/") == "" {
		errs = append(errs, errors.New("CdcPath is required for a task that captures changes"))
	}
	if len(o.Tables) == 0 {
		errs = append(errs, errors.New("no table of the external table definition matches the table mappings"))
	}
	if o.Delimiter == "" {
		o.Delimiter = ","
	}
	if o.RowDelimiter == "" {
		o.RowDelimiter = "\n"
	}
	if strings.Contains(o.RowDelimiter, o.Delimiter) || strings.Contains(o.Delimiter, o.RowDelimiter) {
		errs = append(errs, fmt.Errorf("CsvDelimiter %q and CsvRowDelimiter %q overlap", o.Delimiter, o.RowDelimiter))
	}
	if o.Rfc4180 && (strings.Contains(o.Delimiter, `"`) || strings.Contains(o.RowDelimiter, `"`)) {
		errs = append(errs, errors.New(`a delimiter cannot contain the quote character " when Rfc4180 is on`))
	}
	if o.IgnoreHeaderRows < 0 {
		errs = append(errs, fmt.Errorf("IgnoreHeaderRows %d is negative", o.IgnoreHeaderRows))
	}
	if o.MaxSubTasks <= 0 {
		o.MaxSubTasks = defaultMaxSubTasks
	}
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.BatchRows <= 0 {
		o.BatchRows = defaultBatchRows
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Folder = strings.Trim(o.Folder, "/")
	o.CdcPath = strings.Trim(o.CdcPath, "/")
	return o, errors.Join(errs...)
}

func (o *Options) dialect() dialect {
	return dialect{delim: o.Delimiter, rowDelim: o.RowDelimiter, rfc4180: o.Rfc4180}
}

// joinKey joins key prefix parts with single slashes and ends with one, so
// that the prefix of table "hr/emp" does not also match "hr/employee/".
func joinKey(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		p = strings.Trim(p, "/")
		if p == "" {
			continue
		}
		b.WriteString(p)
		b.WriteByte('/')
	}
	return b.String()
}

func tableName(t *tabledefs.Table) string { return t.Owner + "." + t.Name }
