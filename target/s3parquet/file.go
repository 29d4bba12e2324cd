package s3parquet

import (
	"bufio"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// fileKey identifies the file rows go to: one open file per table, kind
// (full load or CDC) and date-partition folder.
type fileKey struct {
	schema, table string
	cdc           bool
	part          string
}

// openFile is a Parquet file being written to a local spool file. Rows
// collect in record builders up to one row group, which is then encoded
// into the spool by a goroutine of the file while the next row group
// fills: memory per open file is two row groups at most, and encoding
// overlaps with the source's parsing.
type openFile struct {
	key     fileKey
	folder  string // key prefix ending in "/"
	lay     *layout
	rb      *array.RecordBuilder
	rows    int   // rows in rb
	bufSize int64 // estimated bytes in rb
	spool   *os.File
	bw      *bufio.Writer
	cw      countWriter
	fw      *pqarrow.FileWriter
	written int64 // rows already encoded into the spool
	opened  time.Time
	sizeCap int64
	// encoding receives the result of the row group being encoded (nil
	// channel: none in flight). Only wait reads it.
	encoding chan error
	encRows  int
}

// finished is a complete Parquet file in the spool, waiting for upload.
type finished struct {
	key  string
	f    *os.File
	size int64
	rows int64
}

// countWriter counts bytes written; the encoding goroutine writes while
// Write reads the count for the size cap.
type countWriter struct {
	w interface{ Write([]byte) (int, error) }
	n atomic.Int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func newOpenFile(key fileKey, folder string, lay *layout, dir string, props *parquet.WriterProperties,
	mem memory.Allocator, now time.Time, sizeCap int64) (*openFile, error) {
	sp, err := os.CreateTemp(dir, "part-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("creating spool file: %w", err)
	}
	f := &openFile{key: key, folder: folder, lay: lay, spool: sp, opened: now, sizeCap: sizeCap,
		bw: bufio.NewWriterSize(sp, 256<<10)}
	f.cw.w = f.bw
	f.fw, err = pqarrow.NewFileWriter(lay.schema, &f.cw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		f.discard()
		return nil, fmt.Errorf("starting Parquet file for %s.%s: %w", key.schema, key.table, err)
	}
	f.rb = array.NewRecordBuilder(mem, lay.schema)
	return f, nil
}

// size is the file's estimated size if it were finished now.
func (f *openFile) size() int64 { return f.cw.n.Load() + f.bufSize }

// empty reports whether no row was ever added (only a refused first row).
func (f *openFile) empty() bool { return f.written == 0 && f.encoding == nil && f.rows == 0 }

// wait waits for the row group being encoded, if any.
func (f *openFile) wait() error {
	if f.encoding == nil {
		return nil
	}
	err := <-f.encoding
	f.encoding = nil
	if err != nil {
		return fmt.Errorf("encoding row group of %s: %w", f.folder, err)
	}
	f.written += int64(f.encRows)
	return nil
}

// writeRowGroup starts encoding the buffered rows as one row group, after
// the previous one (row groups keep their order).
func (f *openFile) writeRowGroup() error {
	if f.rows == 0 {
		return nil
	}
	if err := f.wait(); err != nil {
		return err
	}
	// The next row group is likely the size of this one: reserve it so
	// that builders grow once, not by doubling.
	dataLens := make([]int, len(f.rb.Fields()))
	for i, b := range f.rb.Fields() {
		if bb, ok := b.(interface{ DataLen() int }); ok {
			dataLens[i] = bb.DataLen()
		}
	}
	rows := f.rows
	rec := f.rb.NewRecord()
	f.rb.Reserve(rows)
	for i, b := range f.rb.Fields() {
		if bb, ok := b.(interface{ ReserveData(int) }); ok && dataLens[i] > 0 {
			bb.ReserveData(dataLens[i])
		}
	}
	f.encoding, f.encRows = make(chan error, 1), rows
	go func() {
		defer rec.Release()
		f.encoding <- f.fw.Write(rec)
	}()
	f.rows, f.bufSize = 0, 0
	return nil
}

// finish writes the footer and makes the spool complete; the returned
// file is positioned nowhere in particular and is read by offset.
func (f *openFile) finish(key string) (*finished, error) {
	if err := f.writeRowGroup(); err != nil {
		return nil, err
	}
	if err := f.wait(); err != nil {
		return nil, err
	}
	if err := f.fw.Close(); err != nil {
		return nil, fmt.Errorf("finishing %s: %w", key, err)
	}
	if err := f.bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing spool of %s: %w", key, err)
	}
	f.rb.Release()
	return &finished{key: key, f: f.spool, size: f.cw.n.Load(), rows: f.written}, nil
}

// discard drops the file and its spool.
func (f *openFile) discard() {
	_ = f.wait() // the encoder must not outlive the file; its error no longer matters
	if f.rb != nil {
		f.rb.Release()
	}
	removeSpool(f.spool)
}

func removeSpool(sp *os.File) {
	_ = sp.Close()
	// The spool is gone already when a local-directory store renamed it;
	// otherwise a leftover temp file is harmless.
	_ = os.Remove(sp.Name())
}
