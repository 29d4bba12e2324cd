package s3parquet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/s3csv"
	"github.com/sluicedata/sluice/target"
)

// Target writes records as Parquet files in DMS's S3-target layout.
// It is safe for use by one goroutine at a time (the runner's loop); a
// mutex guards against misuse.
type Target struct {
	opt   Options
	set   *settings
	store objectStore
	log   *slog.Logger
	mem   memory.Allocator
	start time.Time

	mu      sync.Mutex
	files   map[fileKey]*openFile
	pending []*finished
	folders map[string]*folderNames
	layouts map[layoutKey]*layout
	dec     []decimal128.Num
	// broken is set when a spool write failed: rows accepted by an
	// earlier Write are lost, so no later Flush may report success.
	broken error
	closed bool
}

type layoutKey struct {
	t   *mapping.TargetTable
	cdc bool
}

var _ target.Target = (*Target)(nil)

// New opens the target. For an S3 bucket it builds a client from the
// default AWS chain (or uses o.Client); for "file://" it uses the directory.
func New(ctx context.Context, o Options) (*Target, error) {
	o.defaults()
	set, err := o.resolve()
	if err != nil {
		return nil, err
	}
	t := &Target{opt: o, set: set, log: o.Logger.With("target", "s3parquet"), mem: memory.NewGoAllocator(),
		start: o.Now(), files: map[fileKey]*openFile{}, folders: map[string]*folderNames{},
		layouts: map[layoutKey]*layout{}}
	if strings.HasPrefix(o.Bucket, "file://") {
		if t.store, err = newDirStore(o.Bucket); err != nil {
			return nil, err
		}
		return t, nil
	}
	api := o.Client
	if api == nil {
		c, err := s3csv.NewS3Client(ctx, o.EndpointURL)
		if err != nil {
			return nil, err
		}
		api = c
	}
	st := &s3Store{api: api, bucket: o.Bucket, acl: cannedACLs[o.CannedAclForObjects], owner: o.ExpectedBucketOwner,
		tmp: o.TempDir, partSize: multipartPart}
	if o.EncryptionMode == "SSE_KMS" {
		st.sse, st.kmsKeyID = types.ServerSideEncryptionAwsKms, o.ServerSideEncryptionKmsKeyId
	}
	t.store = st
	return t, nil
}

// Write appends records to the open file of their table. Files that reach
// their size cap (MaxFileSize; CdcMinFileSize for CDC) or age
// (CdcMaxBatchInterval, CDC) are finished and uploaded; an upload failure
// here is kept for Flush to retry, so Write never accepts a row twice.
func (t *Target) Write(ctx context.Context, recs []mapping.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.usable(); err != nil {
		return err
	}
	now := t.opt.Now()
	for i := range recs {
		if err := t.writeOne(ctx, &recs[i], now); err != nil {
			return err
		}
	}
	for _, k := range t.sortedKeys() {
		if f := t.files[k]; k.cdc && now.Sub(f.opened) >= t.set.cdcInterval {
			if err := t.cut(ctx, f, now); err != nil {
				return err
			}
		}
	}
	if err := t.upload(ctx); err != nil {
		t.log.Warn("upload failed; retrying at the next flush", "err", err)
	}
	return nil
}

func (t *Target) writeOne(ctx context.Context, r *mapping.Record, now time.Time) error {
	ev := r.Event
	var op string
	cdc := true
	switch ev.Op {
	case source.OpLoad:
		op, cdc = "I", false
	case source.OpInsert:
		op = "I"
	case source.OpUpdate:
		if t.opt.CdcInsertsOnly {
			return nil
		}
		op = "U"
	case source.OpDelete:
		if t.opt.CdcInsertsOnly || t.opt.CdcInsertsAndUpdates {
			return nil
		}
		op = "D"
	default:
		return nil // control records (create/drop/truncate table) carry no row
	}
	stamp := ev.CommitTime
	if !cdc || stamp.IsZero() {
		stamp = now
		if !cdc && t.opt.UseTaskStartTimeForFullLoadTimestamp {
			stamp = t.start
		}
	}
	part := ""
	if cdc && t.opt.DatePartitionEnabled {
		part = t.set.datePart(stamp)
	}
	f, err := t.fileFor(ctx, r.Table, cdc, part, now)
	if err != nil {
		return err
	}
	if len(t.dec) < len(r.Values) {
		t.dec = make([]decimal128.Num, len(r.Values))
	}
	if err := f.lay.check(r.Values, t.dec); err != nil {
		return t.reject(r, err)
	}
	var ts string
	if t.opt.TimestampColumnName != "" {
		ts = stamp.UTC().Format("2006-01-02 15:04:05.000000")
	}
	f.bufSize += int64(f.lay.appendRow(f.rb, op, r.Values, t.dec, ts))
	f.rows++
	if f.rows >= t.set.rowGroupLen || f.bufSize >= maxRowGroupBytes {
		if err := f.writeRowGroup(); err != nil {
			return t.breakWith(err)
		}
	}
	if f.size() >= f.sizeCap {
		return t.cut(ctx, f, now)
	}
	return nil
}

// fileFor returns the open file for a record, starting one if needed. A
// table whose columns changed gets a new file (Parquet has one schema).
func (t *Target) fileFor(ctx context.Context, tbl *mapping.TargetTable, cdc bool, part string, now time.Time) (*openFile, error) {
	key := fileKey{schema: tbl.Schema, table: tbl.Name, cdc: cdc, part: part}
	if f, ok := t.files[key]; ok {
		if f.lay.table == tbl || sameColumns(f.lay.table, tbl) {
			return f, nil
		}
		if err := t.finish(ctx, f, now); err != nil {
			return nil, err
		}
	}
	if part != "" {
		// CDC arrives in commit order: a new date folder ends the table's
		// files in earlier ones, so a backlog spanning many days keeps one
		// file open per table, not one per day.
		for _, k := range t.sortedKeys() {
			if k.cdc && k.part != "" && k.schema == key.schema && k.table == key.table {
				if err := t.cut(ctx, t.files[k], now); err != nil {
					return nil, err
				}
			}
		}
	}
	lk := layoutKey{tbl, cdc}
	lay, ok := t.layouts[lk]
	if !ok {
		op := t.opt.IncludeOpForFullLoad || (cdc && !t.opt.CdcInsertsOnly)
		lay = newLayout(tbl, op, t.opt.TimestampColumnName, t.set.tsMillis)
		t.layouts[lk] = lay
	}
	folder := tablePrefix(t.opt.BucketFolder, tbl.Schema, tbl.Name)
	if part != "" {
		folder += part + "/"
	}
	sizeCap := t.set.maxFileBytes
	if cdc {
		sizeCap = t.set.cdcBytes
	}
	f, err := newOpenFile(key, folder, lay, t.store.spoolDir(), t.set.props, t.mem, now, sizeCap)
	if err != nil {
		return nil, t.breakWith(err)
	}
	t.files[key] = f
	return f, nil
}

// tablePrefix is [BucketFolder/]schema/table/.
func tablePrefix(folder, schema, table string) string {
	p := schema + "/" + table + "/"
	if f := strings.Trim(folder, "/"); f != "" {
		p = f + "/" + p
	}
	return p
}

// cut finishes a file during Write. Rows already accepted must not be
// refused (a retried Write would add them twice), so a failure that loses
// nothing (listing the folder) leaves the file open for a later cut or
// Flush; only a lost spool is returned.
func (t *Target) cut(ctx context.Context, f *openFile, now time.Time) error {
	if err := t.finish(ctx, f, now); err != nil {
		if t.broken != nil {
			return t.broken
		}
		t.log.Warn("cannot finish a file yet; retrying later", "folder", f.folder, "err", err)
	}
	return nil
}

// finish completes an open file, names it and queues it for upload.
func (t *Target) finish(ctx context.Context, f *openFile, now time.Time) error {
	delete(t.files, f.key)
	if f.empty() {
		f.discard()
		return nil
	}
	names, err := t.namesFor(ctx, f.folder)
	if err != nil {
		// Listing failed before anything is lost: keep the file open.
		t.files[f.key] = f
		return err
	}
	var name string
	if f.key.cdc {
		name = names.cdc(now, t.set.loc)
	} else {
		name = names.load()
	}
	fin, err := f.finish(f.folder + name)
	if err != nil {
		f.discard()
		return t.breakWith(err)
	}
	t.pending = append(t.pending, fin)
	return nil
}

// Flush finishes every open file and uploads every finished one; it
// returns nil only when all rows written so far are in complete objects.
// Each Flush with buffered rows therefore writes at least one file per
// table: the runner's checkpoint interval, not CdcMinFileSize or
// CdcMaxBatchInterval, is what makes files large.
func (t *Target) Flush(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.usable(); err != nil {
		return err
	}
	now := t.opt.Now()
	for _, k := range t.sortedKeys() {
		if err := t.finish(ctx, t.files[k], now); err != nil {
			return err
		}
	}
	return t.upload(ctx)
}

// Close drops what was never flushed (it was not acknowledged, so the
// source re-delivers it) and releases the spool files.
func (t *Target) Close(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	for k, f := range t.files {
		f.discard()
		delete(t.files, k)
	}
	if n := len(t.pending); n > 0 {
		t.log.Warn("closing with files not uploaded; their rows will be re-delivered", "files", n)
	}
	for _, p := range t.pending {
		removeSpool(p.f)
	}
	t.pending = nil
	return nil
}

func (t *Target) usable() error {
	if t.closed {
		return errors.New("s3parquet: target is closed")
	}
	return t.broken
}

func (t *Target) breakWith(err error) error {
	t.broken = fmt.Errorf("s3parquet: rows since the last flush are lost, the task must resume from its checkpoint: %w", err)
	return t.broken
}

// reject hands a row whose values cannot be written to the Rejecter.
func (t *Target) reject(r *mapping.Record, cause error) error {
	if t.opt.Rejecter == nil {
		return fmt.Errorf("s3parquet: %s.%s: %w", r.Table.Schema, r.Table.Name, cause)
	}
	return t.opt.Rejecter.Reject(source.Reject{Schema: r.Table.Schema, Table: r.Table.Name,
		Position: r.Event.Origin + ":" + strconv.FormatInt(r.Event.Seq, 10),
		Reason:   "s3parquet: " + cause.Error()})
}

func (t *Target) sortedKeys() []fileKey {
	keys := make([]fileKey, 0, len(t.files))
	for k := range t.files {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b fileKey) int {
		return cmp.Or(cmp.Compare(a.schema, b.schema), cmp.Compare(a.table, b.table),
			cmp.Compare(a.part, b.part), compareBool(a.cdc, b.cdc))
	})
	return keys
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
