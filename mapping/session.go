package mapping

import (
	"math/bits"
	"unsafe"

	"github.com/sluicedata/sluice/source"
)

// Session maps events like Mapper.Map, but takes the partition keys it has
// to render (numbers, dates, composite keys) from an arena of its own
// instead of allocating one string per row. A Session is NOT safe for
// concurrent use: give each goroutine its own (Mapper.NewSession is cheap).
// Records it returns stay valid indefinitely, as those of Mapper.Map do.
type Session struct {
	m     *Mapper
	arena keyArena
}

// NewSession returns a Session that maps with m.
func (m *Mapper) NewSession() *Session { return &Session{m: m} }

// Map is Mapper.Map (same records, same errors) for one goroutine.
func (s *Session) Map(ev *source.Event, dst []Record) ([]Record, error) {
	return s.m.mapEvent(ev, dst, &s.arena)
}

// keyBlockSize is the size of one arena block: large enough that a block
// allocation is amortised over thousands of keys, small enough that a key
// kept long after its batch pins little memory.
const keyBlockSize = 64 << 10

// keyArena hands out strings carved from append-only byte blocks. The
// bytes of a block below len(buf) are never written again, because
// strings point into them; a full block is dropped (the GC frees it when no
// key references it any more) and a fresh one started. Only the free tail
// buf[len:cap] is ever written.
type keyArena struct {
	buf []byte
}

// scratch returns an empty slice over the arena's free tail with room for
// at least n bytes, for a key to be rendered in place and then passed to
// commit. Appending beyond its capacity is safe: append then copies to a
// new array and commit falls back to an ordinary string.
func (a *keyArena) scratch(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, keyBlockSize)
	}
	return a.buf[len(a.buf):len(a.buf)]
}

// commit turns b, which scratch returned and the caller appended to, into
// a string. When b still lies in the arena's free tail its bytes are
// claimed (never written again); otherwise it is copied.
func (a *keyArena) commit(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	free := a.buf[len(a.buf):cap(a.buf)]
	if len(b) > len(free) || unsafe.SliceData(b) != unsafe.SliceData(free) {
		return string(b)
	}
	a.buf = a.buf[:len(a.buf)+len(b)]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// pow10 holds 10^0 to 10^19 for decimalLen.
var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimalLen is the number of decimal digits of u (1 for 0).
func decimalLen(u uint64) int {
	n := (bits.Len64(u) * 1233) >> 12 // ≈ log10: exact or one short
	if n < len(pow10) && u >= pow10[n] {
		n++
	}
	return max(n, 1)
}

// intKey is strconv.FormatInt(x, 10) written straight into the arena: the
// common attribute-name key on an integer column, without a scratch copy.
func (a *keyArena) intKey(x int64) string {
	u := uint64(x)
	n := 0
	if x < 0 {
		u, n = -u, 1
	}
	n += decimalLen(u)
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, keyBlockSize)
	}
	start := len(a.buf)
	a.buf = a.buf[:start+n]
	b := a.buf[start:]
	i := n
	for u >= 100 {
		r := u % 100
		u /= 100
		i -= 2
		b[i], b[i+1] = digitPairs[2*r], digitPairs[2*r+1]
	}
	if u >= 10 {
		b[i-2], b[i-1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		b[i-1] = byte('0' + u)
	}
	if x < 0 {
		b[0] = '-'
	}
	return unsafe.String(&b[0], n)
}
