package s3csv

import (
	"context"
	"maps"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// chunk is a run of events from one producer, with the producer's state
// just after its last event. Chunks are recycled after the batch holding
// them has been superseded by the next Next call.
type chunk struct {
	events  []source.Event
	rejects []source.Reject
	// rejectAt[i] is the index into events before which rejects[i] was
	// read: the batch's RejectAt, so the runner sees rows and rejects in
	// source order.
	rejectAt []int
	slab     []tabledefs.Value // backing store of the events' Values

	table     string     // full load: "schema.table"; "" for CDC
	ts        tableState // full load: table state after the chunk
	completed bool       // full load: the table's load ended with this chunk
	cdc       *cdcState  // CDC: state after the chunk (Seen not filled)
	seen      map[string]string
	err       error // a *source.TableError ending the table's load (no events)
}

func (c *chunk) reset() {
	clear(c.events) // drop references to tables and strings
	c.events = c.events[:0]
	clear(c.rejects)
	c.rejects = c.rejects[:0]
	c.rejectAt = c.rejectAt[:0]
	c.slab = c.slab[:0]
	c.table, c.ts, c.completed, c.cdc, c.seen, c.err = "", tableState{}, false, nil, nil, nil
}

// emitter fills chunks for one producer and sends them to Next.
type emitter struct {
	s   *Source
	ctx context.Context
	c   *chunk
}

func (s *Source) newEmitter(ctx context.Context) *emitter {
	return &emitter{s: s, ctx: ctx}
}

func (e *emitter) cur() *chunk {
	if e.c == nil {
		e.c = e.s.pool.Get().(*chunk)
	}
	return e.c
}

// values returns n value slots that stay valid while the chunk lives.
func (e *emitter) values(n int) []tabledefs.Value {
	c := e.cur()
	if cap(c.slab)-len(c.slab) < n {
		c.slab = make([]tabledefs.Value, 0, max(n, e.s.o.BatchRows*n))
	}
	l := len(c.slab)
	c.slab = c.slab[:l+n]
	return c.slab[l : l+n : l+n]
}

func (e *emitter) event(ev source.Event) { c := e.cur(); c.events = append(c.events, ev) }

func (e *emitter) reject(r source.Reject) {
	c := e.cur()
	c.rejects = append(c.rejects, r)
	c.rejectAt = append(c.rejectAt, len(c.events))
}

func (e *emitter) full() bool {
	return e.c != nil && len(e.c.events)+len(e.c.rejects) >= e.s.o.BatchRows
}

// sendTable hands the chunk over with the table state after it.
func (e *emitter) sendTable(name string, ts tableState, completed bool) error {
	c := e.cur()
	c.table, c.ts, c.completed = name, ts, completed
	return e.send()
}

// sendTableError hands over what the table produced before err, then err
// as a *source.TableError in a chunk of its own.
func (e *emitter) sendTableError(t *tabledefs.Table, ts tableState, err error) error {
	name := tableName(t)
	if e.c != nil {
		if serr := e.sendTable(name, ts, false); serr != nil {
			return serr
		}
	}
	c := e.cur()
	c.table, c.ts = name, ts
	c.err = &source.TableError{Schema: t.Owner, Table: t.Name, Err: err}
	return e.send()
}

// sendCDC hands the chunk over with the CDC state after it and the files
// added to the seen set since the last send.
func (e *emitter) sendCDC(cs cdcState, seen map[string]string) error {
	c := e.cur()
	cs.Seen = nil
	c.cdc = &cs
	c.seen = maps.Clone(seen)
	return e.send()
}

func (e *emitter) send() error {
	select {
	case e.s.out <- e.c:
		e.c = nil
		return nil
	case <-e.ctx.Done():
		return e.ctx.Err()
	}
}
