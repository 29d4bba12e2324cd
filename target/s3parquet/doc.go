// Package s3parquet is the S3 target with DataFormat parquet: records
// become Parquet files (apache/arrow/go/v15 pqarrow) in DMS's S3-target
// layout, on a bucket or in a local directory (BucketName "file:///dir").
//
// Layout (dms-behaviour.md §5.1):
//
//	[BucketFolder/]schema/table/LOAD00000001.parquet …  full load, 8 uppercase hex digits
//	[BucketFolder/]schema/table/20230405-094615814.parquet CDC, yyyyMMdd-HHmmss + ms, the time the file is cut
//	[BucketFolder/]schema/table/2023/04/05/<cdc file>       with DatePartitionEnabled (CDC only), by commit
//	                                                         time in DatePartitionTimezone
//
// CompressionType gzip compresses the column pages inside the file; the
// name stays .parquet. EncodingType rle-dictionary and plain-dictionary both
// enable dictionaries (the file says PLAIN_DICTIONARY or RLE_DICTIONARY per
// ParquetVersion); plain disables them. EnableStatistics, RowGroupLength,
// DataPageSize and DictPageSizeLimit go to the Parquet writer as they are.
//
// Rows (§5.2): CDC files start with a string column Op (I/U/D), except with
// CdcInsertsOnly and no IncludeOpForFullLoad; full-load files have it (always
// "I") only with IncludeOpForFullLoad. CdcInsertsOnly drops updates and
// deletes, CdcInsertsAndUpdates drops deletes. TimestampColumnName adds a
// last string column "yyyy-MM-dd HH:mm:ss.SSSSSS" (UTC): the commit time for
// CDC, the write time (or the task start) for full load. Control records
// (create/drop/truncate table) write nothing; a truncate does not delete
// earlier files.
//
// Types (§5.4): INTn/UINTn keep their width and sign, NUMERIC is
// DECIMAL(p,s) built exactly from the decimal text, REAL4/REAL8 FLOAT/DOUBLE,
// STRING/CLOB STRING, BYTE/BLOB BINARY, DATE DATE32, DATETIME TIMESTAMP in
// microseconds (milliseconds with ParquetTimestampInMillisecond), TIME
// TIME64 microseconds (TIME32 milliseconds with
// ParquetTimestampInMillisecond, DMS's TIME32). pqarrow marks timestamps and
// times isAdjustedToUTC: values are UTC, and DuckDB reads them as
// TIMESTAMP/TIME WITH TIME ZONE. Every data column is optional (nullable).
//
// Durability: rows go into arrow builders, one row group (RowGroupLength
// rows, or 64 MB) per open file, which a goroutine of the file then
// encodes into a spool file on disk while the next one fills; memory is
// at most two row groups per open file (one open file per table and kind)
// and does not grow with input. A file is finished
// when it reaches MaxFileSize (full load) or CdcMinFileSize (CDC), when a
// CDC file is older than CdcMaxBatchInterval, and at every Flush. A
// finished file becomes visible only complete: S3 PutObject (multipart
// above 16 MiB, aborted on failure) or, for a directory, fsync + rename
// + directory fsync. Flush returns once every row written before it is in
// a complete object, so each Flush with pending rows writes at least one
// file per table and kind: the runner's commit interval, not
// CdcMinFileSize/CdcMaxBatchInterval, sets the smallest file size; raise
// the checkpoint interval for bigger files.
//
// Restarts (at-least-once): on first use of a folder the target lists it;
// LOAD numbers continue after the highest one present and CDC names are
// kept strictly later than the latest one (1 ms steps), so a rerun never
// overwrites an earlier file. Rows re-delivered after a crash appear again
// in new files.
//
// Not supported: DataFormat csv, PreserveTransactions/CdcPath
// (transaction-ordered CSV), GlueCatalogGeneration, DDL handling beyond a
// new file per schema change.
package s3parquet
