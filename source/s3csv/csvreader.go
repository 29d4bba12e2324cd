package s3csv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"unsafe"
)

// dialect is the CSV flavour of the endpoint settings.
type dialect struct {
	delim    string // CsvDelimiter, non-empty
	rowDelim string // CsvRowDelimiter, non-empty
	rfc4180  bool   // quote processing on
}

// record is one CSV row as the reader returns it. Fields are substrings of
// one string per row carved out of an append-only arena, so a row costs no
// allocation of its own; they stay valid for as long as they are referenced.
type record struct {
	Fields []string
	Quoted []bool // Quoted[i]: field i was written between quotes
	Line   int64  // line (1-based) where the row starts
	Offset int64  // stream offset just past the row and its delimiter
	Err    error  // malformed row: Fields is nil and Raw holds its text
}

var (
	errBadQuote     = errors.New(`malformed quoted field: a closing quote must be followed by the delimiter or the end of the row`)
	errUnterminated = errors.New("unterminated quoted field at end of object")
)

const (
	readBufSize = 256 << 10
	arenaSize   = 64 << 10
	maxRawKeep  = 64 << 10 // raw text kept for a reject
	// maxRowBytes bounds one row, so that a stray quote in a 10 GB object
	// does not buffer the rest of it: a quoted field still open after this
	// many bytes rejects the line it started on and reading resumes at the
	// next line; a line without any row delimiter fails the object.
	maxRowBytes = 64 << 20
)

// csvReader is a streaming CSV parser. The common row (no quote character)
// is found with two vectorised byte searches per row instead of a
// byte-by-byte state machine, which is what makes it faster than
// encoding/csv; rows with quotes take the careful path.
type csvReader struct {
	r         io.Reader
	d         dialect
	nlDelim   int  // '\n' bytes inside rowDelim
	crlf      bool // rowDelim is "\n": a '\r' before it is dropped
	buf       []byte
	start     int // unread data is buf[start:end]
	end       int
	eof       bool
	rerr      error
	base      int64 // stream offset of buf[0]
	line      int64 // line of the next row
	arena     []byte
	noQuotes  []bool // all false: Quoted of a row without quotes
	quotedBuf []bool
	scratch   []byte // unescaped text of a field with doubled quotes
	rec       record
	raw       []byte // text of the last row (valid until the next read)
	skipHead  int
	rowLimit  int // maxRowBytes; smaller in tests
}

// errRowTooLong reports a row over the limit.
func (r *csvReader) errRowTooLong() error {
	return fmt.Errorf("the row starting at line %d is longer than %d KiB (an unbalanced quote?)", r.line, r.rowLimit>>10)
}

func newCSVReader(r io.Reader, d dialect) *csvReader {
	return &csvReader{
		r: r, d: d,
		nlDelim:  strings.Count(d.rowDelim, "\n"),
		crlf:     d.rowDelim == "\n",
		buf:      make([]byte, readBufSize),
		line:     1,
		rowLimit: maxRowBytes,
	}
}

// setStart tells the reader that its stream begins at the given offset of
// the object and line (a ranged read resuming inside an object).
func (r *csvReader) setStart(offset, line int64) {
	r.base = offset
	r.line = line
}

// Raw returns the text of the last row read (a copy, at most 64 KiB).
func (r *csvReader) Raw() string {
	if len(r.raw) > maxRawKeep {
		return string(r.raw[:maxRawKeep]) + "…(truncated)"
	}
	return string(r.raw)
}

// fill reads more input. Bytes of the buffer handed out as field strings
// are never written again: when the buffer has no room left, the unread
// tail moves to a new buffer (at least twice as large when the tail fills
// the old one) and the old one is left to the strings that reference it.
// want is the least amount of unread data wanted after the call (0: any
// progress). It returns false when nothing more could be read.
func (r *csvReader) fill(want int) bool {
	if r.eof {
		return false
	}
	tail := r.end - r.start
	want = max(want, tail+1)
	if r.end == len(r.buf) || r.start+want > len(r.buf) {
		size := readBufSize
		if want > size/2 {
			size = 2 * want
		}
		nb := make([]byte, size)
		copy(nb, r.buf[r.start:r.end])
		r.base += int64(r.start)
		r.buf, r.start, r.end = nb, 0, tail
	}
	got := false
	for r.end-r.start < want && r.end < len(r.buf) {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if n > 0 {
			got = true
		}
		if err != nil {
			r.eof = true
			if err != io.EOF {
				r.rerr = err
			}
			return got
		}
	}
	return true
}

// view returns b, a part of the read buffer, as a string without copying.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// str copies b (unescaped field text) into the arena and returns it as a
// string. Arena bytes are never written again once handed out, which is
// what makes unsafe.String sound.
func (r *csvReader) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaSize/4 {
		return string(b)
	}
	if cap(r.arena)-len(r.arena) < len(b) {
		r.arena = make([]byte, 0, arenaSize)
	}
	off := len(r.arena)
	r.arena = append(r.arena, b...)
	return unsafe.String(&r.arena[off], len(b))
}

// Read returns the next row, or io.EOF. The returned record is reused by
// the next call; the strings in it are not.
func (r *csvReader) Read() (*record, error) {
	for {
		rec, err := r.readOne()
		if err != nil {
			return nil, err
		}
		if rec == nil { // empty line
			continue
		}
		if r.skipHead > 0 {
			r.skipHead--
			continue
		}
		return rec, nil
	}
}

// readOne returns the next row, nil for an empty line, or an error.
func (r *csvReader) readOne() (*record, error) {
	rd := r.d.rowDelim
	searched := 0 // bytes after start known to hold no row delimiter
	for {
		data := r.buf[r.start:r.end]
		from := max(searched-len(rd)+1, 0)
		var i int
		if len(rd) == 1 {
			i = bytes.IndexByte(data[from:], rd[0])
		} else {
			i = bytes.Index(data[from:], []byte(rd))
		}
		if i >= 0 {
			i += from
			return r.plainOrQuoted(data[:i], i+len(rd))
		}
		searched = len(data)
		if len(data) > r.rowLimit {
			return nil, r.errRowTooLong()
		}
		if !r.fill(0) {
			if r.rerr != nil {
				return nil, r.rerr
			}
			data = r.buf[r.start:r.end]
			if len(data) == 0 {
				return nil, io.EOF
			}
			return r.plainOrQuoted(data, len(data))
		}
	}
}

// plainOrQuoted splits a row found up to its row delimiter, unless it holds
// a quote (with Rfc4180), which sends it to the careful path.
func (r *csvReader) plainOrQuoted(line []byte, consumed int) (*record, error) {
	text := line
	if r.crlf && len(text) > 0 && text[len(text)-1] == '\r' {
		text = text[:len(text)-1]
	}
	rec := &r.rec
	rec.Fields = rec.Fields[:0]
	if d := r.d.delim; len(d) == 1 {
		var ok bool
		if rec.Fields, ok = splitByte(rec.Fields, text, d[0], r.d.rfc4180); !ok {
			return r.readQuoted()
		}
	} else {
		if r.d.rfc4180 && bytes.IndexByte(text, '"') >= 0 {
			return r.readQuoted()
		}
		s := view(text)
		for {
			j := strings.Index(s, d)
			if j < 0 {
				break
			}
			rec.Fields = append(rec.Fields, s[:j])
			s = s[j+len(d):]
		}
		rec.Fields = append(rec.Fields, s)
	}
	return r.finishPlain(line, text, consumed), nil
}

const (
	swarOnes = 0x0101010101010101
	swarLow7 = 0x7f7f7f7f7f7f7f7f
)

// swarEq has 0x80 in each byte of w equal to the byte repeated in m, and 0
// elsewhere (exact: no carry crosses bytes).
func swarEq(w, m uint64) uint64 {
	x := w ^ m
	return ^(((x & swarLow7) + swarLow7) | x | swarLow7)
}

// splitByte appends the fields of line, split at delim, to fields, looking
// at 8 bytes per step. With quote set it returns false, having split
// nothing, when the line holds a '"': one vectorised search up front keeps
// the split loop small enough to live in registers.
func splitByte(fields []string, line []byte, delim byte, quote bool) ([]string, bool) {
	if quote && bytes.IndexByte(line, '"') >= 0 {
		return fields, false
	}
	// Word loads and field strings below stay within line (i+8 <= n,
	// start <= j <= n), which the loop conditions guarantee; unsafe spares
	// the bounds checks Go cannot prove away here.
	p := unsafe.Pointer(unsafe.SliceData(line))
	n := len(line)
	md := swarOnes * uint64(delim)
	start, i := 0, 0
	for ; i+8 <= n; i += 8 {
		w := binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(p, i)), 8))
		for z := swarEq(w, md); z != 0; z &= z - 1 {
			j := i + bits.TrailingZeros64(z)>>3
			fields = append(fields, unsafe.String((*byte)(unsafe.Add(p, start)), j-start))
			start = j + 1
		}
	}
	for ; i < n; i++ {
		if *(*byte)(unsafe.Add(p, i)) == delim {
			fields = append(fields, unsafe.String((*byte)(unsafe.Add(p, start)), i-start))
			start = i + 1
		}
	}
	if start == n { // no pointer past the end of line
		return append(fields, ""), true
	}
	return append(fields, unsafe.String((*byte)(unsafe.Add(p, start)), n-start)), true
}

// finishPlain completes a row split by plainOrQuoted. line is the row as
// read, text the row without a CR before the newline, consumed the row and
// its delimiter.
func (r *csvReader) finishPlain(line, text []byte, consumed int) *record {
	r.raw = line
	rec := &r.rec
	rec.Line = r.line
	rec.Err = nil
	r.start += consumed
	rec.Offset = r.base + int64(r.start)
	if r.nlDelim == 0 {
		r.line++
	} else {
		if !r.crlf {
			r.line += int64(bytes.Count(line, []byte{'\n'}))
		}
		r.line += int64(r.nlDelim)
	}
	if len(text) == 0 {
		return nil
	}
	for len(r.noQuotes) < len(rec.Fields) {
		r.noQuotes = append(r.noQuotes, false)
	}
	rec.Quoted = r.noQuotes[:len(rec.Fields)]
	return rec
}

// readQuoted parses a row that contains a quote character, field by field;
// a quoted field may hold delimiters, row delimiters and doubled quotes.
// When the buffered data ends inside the row it reads more (at least
// doubling what is buffered, so a huge field is rescanned only log n times)
// and starts the row again.
func (r *csvReader) readQuoted() (*record, error) {
	for {
		n, err := r.parseQuoted()
		if err == errNeedMore {
			if r.eof { // parseQuoted knows the end: cannot happen
				return r.malformed(r.end-r.start, 0, errUnterminated), nil
			}
			if r.end-r.start > r.rowLimit {
				// Most likely an unbalanced quote: reject the line it
				// started on and resynchronise after it, so the rows
				// that follow are not lost with it.
				return r.malformedAt(0, fmt.Errorf("a quoted field is still open %d KiB later (an unbalanced quote?): the line is rejected and reading resumes at the next line", r.rowLimit>>10))
			}
			r.fill(2 * (r.end - r.start))
			if r.rerr != nil {
				return nil, r.rerr
			}
			continue // parse again, with more data or knowing it ended
		}
		if err != nil {
			// Resynchronise at the next row delimiter after the error.
			return r.malformedAt(n, err)
		}
		return r.finishQuoted(n), nil
	}
}

var errNeedMore = errors.New("need more input")

// parseQuoted parses buf[start:end] as one row into rec.Fields/Quoted. A
// field without doubled quotes is a view of the buffer; one with them is
// unescaped into the arena. It returns the bytes consumed including the row
// delimiter, errNeedMore, or a syntax error with the offset where it was
// found.
func (r *csvReader) parseQuoted() (int, error) {
	data := r.buf[r.start:r.end]
	d, rd := r.d.delim, r.d.rowDelim
	rec := &r.rec
	rec.Fields = rec.Fields[:0]
	rec.Quoted = r.quotedBuf[:0] // never the shared noQuotes
	defer func() { r.quotedBuf = rec.Quoted }()
	p := 0
	rdAt := -1 // next row delimiter at or after p, when known
	for {
		// At the start of a field.
		if p < len(data) && data[p] == '"' {
			p++
			field := ""
			escaped := false
			for {
				j := bytes.IndexByte(data[p:], '"')
				if j < 0 {
					if r.eof {
						return len(data), errUnterminated
					}
					return 0, errNeedMore
				}
				if p+j+1 < len(data) && data[p+j+1] == '"' {
					// A doubled quote: keep one and go on.
					if !escaped {
						r.scratch = append(r.scratch[:0], data[p:p+j+1]...)
						escaped = true
					} else {
						r.scratch = append(r.scratch, data[p:p+j+1]...)
					}
					p += j + 2
					continue
				}
				if p+j+1 == len(data) && !r.eof {
					return 0, errNeedMore
				}
				if escaped {
					r.scratch = append(r.scratch, data[p:p+j]...)
					field = r.str(r.scratch)
				} else {
					field = view(data[p : p+j])
				}
				p += j + 1
				break
			}
			rec.Fields = append(rec.Fields, field)
			rec.Quoted = append(rec.Quoted, true)
			rest := data[p:]
			switch {
			case len(rest) == 0:
				return p, nil // eof: parsing the last quote checked it
			case hasPrefix(rest, d):
				p += len(d)
				continue
			case hasPrefix(rest, rd):
				return p + len(rd), nil
			case r.crlf && rest[0] == '\r' && len(rest) > 1 && rest[1] == '\n':
				return p + 2, nil
			case !r.eof && (len(rest) < len(d) && strings.HasPrefix(d, string(rest)) ||
				len(rest) < len(rd) && strings.HasPrefix(rd, string(rest)) ||
				r.crlf && len(rest) == 1 && rest[0] == '\r'):
				return 0, errNeedMore
			default:
				return p, errBadQuote
			}
		}
		// Unquoted field: up to the next delimiter or row delimiter; quotes
		// inside are literal.
		if rdAt < p {
			rdAt = bytesIndex(data[p:], rd)
			if rdAt < 0 {
				if !r.eof {
					return 0, errNeedMore
				}
				rdAt = len(data)
			} else {
				rdAt += p
			}
		}
		if jd := bytesIndex(data[p:rdAt], d); jd >= 0 {
			rec.Fields = append(rec.Fields, view(data[p:p+jd]))
			rec.Quoted = append(rec.Quoted, false)
			p += jd + len(d)
			continue
		}
		field := data[p:rdAt]
		consumed := min(rdAt+len(rd), len(data))
		if r.crlf && len(field) > 0 && field[len(field)-1] == '\r' {
			field = field[:len(field)-1]
		}
		rec.Fields = append(rec.Fields, view(field))
		rec.Quoted = append(rec.Quoted, false)
		return consumed, nil
	}
}

func (r *csvReader) finishQuoted(consumed int) *record {
	raw := r.buf[r.start : r.start+consumed]
	r.raw = raw
	rec := &r.rec
	rec.Line = r.line
	rec.Err = nil
	r.line += r.linesIn(raw)
	r.start += consumed
	rec.Offset = r.base + int64(r.start)
	return rec
}

// linesIn counts how many lines a consumed row (with its delimiter) spans.
func (r *csvReader) linesIn(raw []byte) int64 {
	if r.nlDelim == 0 {
		return 1
	}
	return int64(bytes.Count(raw, []byte{'\n'}))
}

// malformedAt skips from the error offset to the next row delimiter and
// returns the skipped text as a malformed record.
func (r *csvReader) malformedAt(at int, cause error) (*record, error) {
	rd := r.d.rowDelim
	for {
		data := r.buf[r.start:r.end]
		if i := bytesIndex(data[min(at, len(data)):], rd); i >= 0 {
			n := min(at, len(data)) + i
			return r.malformed(n, len(rd), cause), nil
		}
		if !r.fill(0) {
			if r.rerr != nil {
				return nil, r.rerr
			}
			return r.malformed(r.end-r.start, 0, cause), nil
		}
	}
}

func (r *csvReader) malformed(n, delim int, cause error) *record {
	raw := r.buf[r.start : r.start+n+delim]
	r.raw = r.buf[r.start : r.start+n]
	rec := &r.rec
	rec.Line = r.line
	rec.Err = cause
	rec.Fields = rec.Fields[:0]
	rec.Quoted = nil
	if delim == 0 && r.nlDelim > 0 {
		r.line += int64(bytes.Count(raw, []byte{'\n'})) + 1
	} else {
		r.line += r.linesIn(raw)
	}
	r.start += n + delim
	rec.Offset = r.base + int64(r.start)
	return rec
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func bytesIndex(b []byte, s string) int {
	if len(s) == 1 {
		return bytes.IndexByte(b, s[0])
	}
	return bytes.Index(b, []byte(s))
}
