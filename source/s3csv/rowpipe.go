package s3csv

import (
	"context"
	"io"
)

// Splitting rows and typing their values run in two goroutines per object
// being loaded: typing (ParseValue) costs more than splitting, and with the
// two overlapped a table's load is bounded by the slower stage instead of
// their sum. Blocks keep row order; field strings are views of the
// reader's buffers, which are never rewritten, so handing them to another
// goroutine copies nothing.

const blockRows = 256

type blockRow struct {
	nf       int   // fields of this row in the block's fields
	line     int64 // line where the row starts
	offset   int64 // byte offset just past the row
	nextLine int64 // line of the next row
	err      error // malformed row
	raw      string
}

type rowBlock struct {
	fields []string
	quoted []bool
	rows   []blockRow
}

// rowPipe reads rows from rd in a goroutine and hands them, in order, to
// fn in the caller's goroutine. It returns fn's first error, the reader's
// error, or nil at the end of input, and has stopped the reader goroutine
// before returning.
func rowPipe(ctx context.Context, rd *csvReader, fn func(b *rowBlock) error) error {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan *rowBlock, 4)
	free := make(chan *rowBlock, 6)
	readErr := make(chan error, 1)
	go func() {
		defer close(out)
		readErr <- readBlocks(ctx, rd, out, free)
	}()
	var err error
	for b := range out {
		if err == nil {
			err = fn(b)
			if err != nil {
				cancel() // stop the reader; drain what it already sent
			}
		}
		clear(b.quoted) // readBlocks relies on false beyond len(b.quoted)
		b.fields, b.quoted, b.rows = b.fields[:0], b.quoted[:0], b.rows[:0]
		select {
		case free <- b:
		default:
		}
	}
	cancel()
	if rerr := <-readErr; err == nil && rerr != context.Canceled {
		err = rerr
	}
	return err
}

func readBlocks(ctx context.Context, rd *csvReader, out chan<- *rowBlock, free chan *rowBlock) error {
	for {
		var b *rowBlock
		select {
		case b = <-free:
		default:
			b = &rowBlock{fields: make([]string, 0, blockRows*8), quoted: make([]bool, 0, blockRows*8)}
		}
		for len(b.rows) < blockRows {
			// Let the reader split straight into the block's spare
			// capacity, which saves copying the fields below; it never
			// writes into the part of b.fields already filled.
			nf := len(b.fields)
			rd.rec.Fields = b.fields[nf:nf]
			rec, err := rd.Read()
			if err == io.EOF {
				if len(b.rows) > 0 {
					select {
					case out <- b:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			}
			if err != nil {
				return err
			}
			if n := len(rec.Fields); n > 0 && n <= cap(b.fields)-nf && &b.fields[nf : nf+1][0] == &rec.Fields[0] {
				b.fields = b.fields[:nf+n] // split in place
			} else {
				b.fields = append(b.fields, rec.Fields...)
			}
			// b.quoted's spare capacity is all false (fresh, or cleared
			// when recycled), so a row without quotes only extends it.
			if nq, n := len(b.quoted), len(rec.Quoted); n > 0 && n <= cap(b.quoted)-nq && len(rd.noQuotes) > 0 && &rec.Quoted[0] == &rd.noQuotes[0] {
				b.quoted = b.quoted[:nq+n]
			} else {
				b.quoted = append(b.quoted, rec.Quoted...)
			}
			row := blockRow{nf: len(rec.Fields), line: rec.Line, offset: rec.Offset, nextLine: rd.line, err: rec.Err}
			if rec.Err != nil {
				row.raw = rd.Raw()
			} else {
				row.raw = view(rd.raw)
			}
			b.rows = append(b.rows, row)
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// rawText bounds the raw text kept with a reject.
func rawText(s string) string {
	if len(s) > maxRawKeep {
		return s[:maxRawKeep] + "…(truncated)"
	}
	return s
}
