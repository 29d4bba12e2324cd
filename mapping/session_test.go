package mapping

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// sessionDef: an INT8 primary key (rendered keys) and a string region,
// used as a composite key in full load.
func sessionDef() *tabledefs.Definition {
	return &tabledefs.Definition{Tables: []tabledefs.Table{{Owner: "s", Name: "t", Columns: []tabledefs.Column{
		{Name: "region", Type: tabledefs.TypeString, IsPK: true},
		{Name: "id", Type: tabledefs.TypeInt8, IsPK: true},
		{Name: "qty", Type: tabledefs.TypeInt4},
	}}}}
}

// sessionEvent is row i and its partition key: the composite primary key
// (region.id) or, with qtyKey, the INT4 qty alone. region varies in length,
// from empty to longer than the arena's scratch room, and qty in digits
// and sign, so every path of the arena is taken.
func sessionEvent(tbl *tabledefs.Table, i int, qtyKey bool) (source.Event, string) {
	region := strings.Repeat("r", i%7)
	if i%1000 == 999 {
		region = strings.Repeat("w", keyScratch+i%50) // rendered beyond the scratch room
	}
	qty := int64(i*7919%2_000_000_000) - 1_000_000_000
	qty /= pow10Int(i % 10)
	vals := []tabledefs.Value{tabledefs.StringValue(region), tabledefs.IntValue(int64(i)), tabledefs.IntValue(qty)}
	ev := source.Event{Op: source.OpLoad, Table: tbl, Values: vals}
	if qtyKey {
		return ev, strconv.FormatInt(qty, 10)
	}
	return ev, limitKey(region + "." + strconv.Itoa(i))
}

const qtyKeyRule = `{"rule-type":"object-mapping","rule-id":9,"rule-name":"om","rule-action":"map-record-to-record",
 "object-locator":{"schema-name":"s","table-name":"t"},
 "mapping-parameters":{"partition-key-type":"attribute-name","partition-key-name":"qty"}}`

func TestSessionKeysSurviveLaterRows(t *testing.T) {
	for _, qtyKey := range []bool{false, true} {
		def := sessionDef()
		tbl := &def.Tables[0]
		d := doc(selectSales)
		if qtyKey {
			d = doc(selectSales, qtyKeyRule)
		}
		s := mustCompile(t, def, d, Options{}).NewSession()
		const kept, more = 100_000, 1_000_000
		keys := make([]string, kept)
		var recs []Record
		check := func(i int, got, want string) {
			t.Helper()
			if got != want {
				t.Fatalf("qtyKey %v: row %d: key %q, want %q", qtyKey, i, got, want)
			}
		}
		for i := 0; i < kept+more; i++ {
			ev, want := sessionEvent(tbl, i, qtyKey)
			var err error
			if recs, err = s.Map(&ev, recs[:0]); err != nil || len(recs) != 1 {
				t.Fatalf("row %d: %d records, %v", i, len(recs), err)
			}
			check(i, recs[0].PartitionKey, want)
			if i < kept {
				keys[i] = recs[0].PartitionKey
			}
		}
		for i, k := range keys {
			_, want := sessionEvent(tbl, i, qtyKey)
			check(i, k, want)
		}
	}
}

func TestKeyArena(t *testing.T) {
	var a keyArena
	if got := a.commit(nil); got != "" {
		t.Errorf("empty commit = %q", got)
	}
	b := append(a.scratch(4), "abc"...)
	k1 := a.commit(b)
	// A slice that is not the arena's free tail is copied, never claimed.
	other := []byte("xyz")
	k2 := a.commit(other)
	other[0] = 'Q'
	// Rendering past the scratch capacity moves to a new array: copied.
	big := append(a.scratch(1), make([]byte, keyBlockSize)...)
	k3 := a.commit(big)
	// A scratch that does not fit in the block starts a new one; the old
	// block's strings are untouched.
	a.buf = a.buf[:cap(a.buf)-1]
	k4 := a.commit(append(a.scratch(2), "de"...))
	if k1 != "abc" || k2 != "xyz" || len(k3) != keyBlockSize || k4 != "de" {
		t.Errorf("keys %q %q %d %q", k1, k2, len(k3), k4)
	}
	if len(a.buf) != 2 || cap(a.buf) != keyBlockSize {
		t.Errorf("arena block: len %d cap %d", len(a.buf), cap(a.buf))
	}
}

// TestSessionsConcurrent: one Mapper shared by sessions (one per
// goroutine) and by direct Map calls. Run with -race.
func TestSessionsConcurrent(t *testing.T) {
	def := sessionDef()
	tbl := &def.Tables[0]
	m := mustCompile(t, def, doc(selectSales, qtyKeyRule), Options{})
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mapper := m.Map
			if g > 0 {
				mapper = m.NewSession().Map
			}
			var recs []Record
			for i := g; i < 20_000; i += 4 {
				ev, want := sessionEvent(tbl, i, true)
				var err error
				recs, err = mapper(&ev, recs[:0])
				if err != nil || len(recs) != 1 || recs[0].PartitionKey != want {
					errs <- "row " + strconv.Itoa(i) + ": key mismatch"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestAppendIntMatchesStrconv(t *testing.T) {
	for _, x := range []int64{0, 1, -1, 9, 10, -10, 99, 100, 101, 999, 1000, 12345, -12345, 1<<31 - 1, -1 << 31,
		1e18, 1<<63 - 1, -1 << 63, -1<<63 + 1} {
		if got, want := string(appendInt([]byte("k."), x)), "k."+strconv.FormatInt(x, 10); got != want {
			t.Errorf("appendInt(%d) = %q, want %q", x, got, want)
		}
	}
	// Every digit count and sign, across block boundaries, stays intact.
	var a keyArena
	var keys []string
	var want []string
	for i := 0; i < 100_000; i++ {
		x := int64(i*7919) * pow10Int(i%19)
		if i%2 == 1 {
			x = -x
		}
		keys, want = append(keys, a.intKey(x)), append(want, strconv.FormatInt(x, 10))
	}
	keys, want = append(keys, a.intKey(-1<<63), a.intKey(1<<63-1)), append(want, "-9223372036854775808", "9223372036854775807")
	for i := range keys {
		if keys[i] != want[i] {
			t.Fatalf("intKey %d = %q, want %q", i, keys[i], want[i])
		}
	}
}

func pow10Int(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func FuzzAppendInt(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(-1 << 63))
	var a keyArena
	f.Fuzz(func(t *testing.T, x int64) {
		want := strconv.FormatInt(x, 10)
		if got := string(appendInt(nil, x)); got != want {
			t.Errorf("appendInt(%d) = %q, want %q", x, got, want)
		}
		if got := a.intKey(x); got != want {
			t.Errorf("intKey(%d) = %q, want %q", x, got, want)
		}
	})
}
