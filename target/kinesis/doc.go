// Package kinesis writes mapped records to a Kinesis data stream as DMS JSON
// messages (dms-behaviour.md §2), with a PutRecords producer that keeps the
// order of every partition key across retries.
//
// # Messages
//
// The Encoder renders exactly the DMS message (dms-behaviour.md §2.2):
// top-level members "data" (or "control"), the before-image member when
// enabled, then "metadata" with keys in DMS order: timestamp, record-type,
// operation, partition-key-type, partition-key-value, schema-name,
// table-name, transaction-id, transaction-record-id, prev-transaction-id,
// prev-transaction-record-id, commit-timestamp, stream-position.
// Choices where DMS is undocumented or weak:
//
//   - MessageFormat "json" is indented by two spaces with `"key": value` and no
//     trailing newline; "json-unformatted" is one line ending in "\n" inside
//     each record's Data.
//   - Integers (INT*, UINT* up to 2^64-1) are exact JSON numbers, never
//     scientific notation, whatever UseLargeIntegerValue says. NUMERIC is the
//     exact decimal text with its scale ("12.50"); text that is not a JSON
//     number is written as a string rather than producing invalid JSON.
//   - REAL4/REAL8: shortest text that round-trips at the column's precision
//     (encoding/json notation); NaN and ±Inf become the strings "NaN",
//     "Infinity", "-Infinity".
//   - BYTE/BLOB: upper-case hex with "0x" unless NoHexPrefix.
//   - DATE "2015-10-17"; TIME "06:18:32" plus Scale fraction digits;
//     DATETIME "2023-01-16T06:18:32Z", with exactly Scale fraction digits
//     when Scale > 0 ("…32.123456Z"). The metadata timestamp and
//     commit-timestamp always carry microseconds, as DMS shows.
//   - Strings: UTF-8 kept, control characters and U+2028/2029 escaped,
//     invalid UTF-8 replaced by U+FFFD.
//   - NULL columns are omitted unless IncludeNullAndEmpty; empty strings are
//     kept (omitting them would lose data).
//   - transaction-id is written for CDC data records when the source has one
//     (a JSON number when it is all digits, like PostgreSQL xids); S3-source
//     changes have none, so it is omitted. transaction-record-id counts the
//     records of the current transaction from 1; prev-transaction-id/-record-id
//     name the previous transaction seen by this Encoder (one per stream).
//     stream-position is Event.Origin + ":" + Event.Seq. With
//     IncludeTransactionDetails, full-load records carry stream-position too
//     (DMS documents it for CDC only): with the table and the data it lets a
//     consumer de-duplicate rows of tables without a primary key.
//   - The metadata timestamp is mapping.Record.Time (one instant per batch,
//     the same in every target) when set, else Options.Now at Write.
//   - Before-images: update records only, when the source supplied one;
//     pk-only keeps primary-key columns; non-lob and all keep every non-LOB
//     column (DMS never includes LOBs, so the two are the same here).
//   - Control records: drop-table and create-table always; truncate only with
//     IncludeTableAlterOperations. "control" is {} unless IncludeControlDetails
//     on create-table, which adds table-def (columns with DMS's INT32/TIMESTAMP
//     type vocabulary, length, precision/scale, nullable; primary-key).
//
// # Producer and ordering
//
// Write encodes records and appends them to a per-partition-key FIFO. Up to
// MaxInFlight senders take requests from a ready list of keys. A request
// carries at most one record per key (the head of its queue), and a key is
// either in the ready list or owned by exactly one in-flight request, never
// both. Only when Kinesis accepts a key's head is the next record of that key
// eligible. So a later record of a key can never be accepted before an
// earlier one, whatever entries of a request fail. Failed keys are parked out
// of the ready list for an exponential backoff with jitter (25 ms doubling to
// 500 ms, reset per record) while the sender carries on with other keys, so
// one hot or throttled key does not stall the rest. The cost is that one key
// moves at most one record per PutRecords round trip; spread load with
// primary-key partition keys or PartitionIncludeSchemaTable, or raise
// MaxRecordsPerKey (task file MaxRecordsPerKeyPerRequest) and accept that a
// partial failure may then reorder a key. To keep that round trip the only
// cost, a key whose record was just accepted goes into the very next request
// (ahead of other ready keys, for at most half of it), and the sender that
// got the answer sends it without waking the idle senders.
//
// Requests with a StreamARN and no name carry the ARN alone (a stream of
// another account); an endpoint that insists on a name (kinesalite) gets the
// one in the ARN.
//
// Requests hold at most 500 records and 5 MiB including partition keys.
// Records above MaxRecordSize (partition key + data) or with an empty or
// over-long key go to the Rejecter and are never sent. Throttling and
// internal failures are retried without limit; other per-entry codes and
// non-throttling API errors (missing stream, access denied, KMS disabled,
// validation) stop the target, and Write/Flush/Close return the error.
//
// Requests that get no answer at all (connection refused or reset,
// timeouts) are retried with the same backoff for MaxTransportRetryTime
// (default 5 minutes). After that the senders pause and the next Write or
// Flush returns a *TransportError, whose Retryable method says true: the
// task runner's RecoverableErrorCount/Interval then decide. Nothing is lost
// or reordered: the unacknowledged records stay queued in order, a Write
// that returns the error has queued nothing (call it again with the same
// records), and the senders resume once the error has been returned, so a
// retried Flush waits for them again. If the runner gives up, the task stops
// and the records after the last checkpoint are re-delivered on restart.
package kinesis
