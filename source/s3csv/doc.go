// Package s3csv is the DMS S3 source: the full load of each table's CSV
// objects under BucketFolder/TablePath, then the CDC files under
// BucketFolder/CdcPath, from S3 or from a local directory acting as the
// bucket (BucketName "file:///abs/dir"). It produces typed change events
// and resumable positions.
//
// Full load: every object under the table prefix, in key order, any name;
// keys ending in .gz are decompressed. Before a table's first row come its
// drop-table and create-table control events (as DMS sends them); a table
// with no objects loads 0 rows with a warning. Tables load in parallel up to
// MaxSubTasks; one table's rows keep object and line order. A row may carry
// the leading "I" operation column DMS writes with IncludeOpForFullLoad.
//
// CSV: RFC 4180 quoting when Rfc4180 is set (delimiters, row delimiters and
// doubled quotes inside quotes; a quote inside an unquoted field is kept
// literally), none otherwise; any non-empty field and row delimiters; CRLF
// is accepted with the default "\n"; empty lines are skipped;
// IgnoreHeaderRows skips the first rows of every object. NULL: with
// CsvNullValue unset an unquoted empty field is NULL, with it set only that
// unquoted text is; a quoted field is never NULL. Event.Seq is the line
// where the row starts (the row number when the row delimiter holds no
// newline).
//
// CDC: objects under CdcPath in key order, lines op,table,schema,columns…
// with I/U/D/INSERT/UPDATE/DELETE in any case; the table is looked up
// case-insensitively among the selected tables; a table defined but not
// selected is skipped quietly; suspended tables are skipped. A CDC-only task
// starts with a create-table event per table. A new key sorting before the
// file last started is late, and a known key with a new ETag was rewritten:
// both are reported (a Reject and a warning) and skipped, or, with
// StopOnLateFile, reported and then the source stops with an error saying
// what to do. With Once the files present at CDC start are applied and
// Next then returns source.ErrDone; otherwise the folder is polled every
// PollInterval, listing only the keys after the latest file, with a full
// listing every few polls to find late and rewritten files (see
// cdcFollower for how the position stays small).
//
// Bad rows (wrong field count, a value ParseValue refuses, NULL or empty in
// a non-nullable column, a malformed quoted field, an unknown operation or
// table) become source.Reject values in the batch; nothing is dropped.
//
// Memory does not depend on object size: objects are streamed, a read error
// reopens the object at the byte reached (pinned to its ETag), and a
// quoted field still open after 64 MiB (an unbalanced quote) rejects the
// line it started on, reading resuming at the next line; a line of more
// than 64 MiB without any row delimiter fails the object.
//
// Errors: a table whose input cannot be read (a corrupt gzip object, a
// line too long, access denied) ends with a *source.TableError and the
// other tables go on. A transient error (throttling, a reset connection
// that outlasts the reopens, an object rewritten while read) stops the
// producers; Next returns it with Retryable() true and the next Next
// restarts them from the last batch's position. Other errors are final
// (Retryable() false). Field strings
// are views of read buffers that are never rewritten; event values are
// valid until the next Next call, as source.Batch documents.
//
// Positions: see position.go. A resumed source skips completed tables,
// reopens an interrupted plain object at the byte offset after the last
// delivered row (a compressed one is re-read and the delivered rows
// skipped), and resumes CDC after the last delivered line.
package s3csv
