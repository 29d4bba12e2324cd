package s3csv

import (
	"sync/atomic"
	"time"

	"github.com/sluicedata/sluice/source"
)

// tableProgress is the full-load progress of one table in bytes of its
// objects as listed (compressed bytes for .gz objects), updated by the
// table's producer and read by Progress from any goroutine.
type tableProgress struct {
	total    atomic.Int64 // sizes of every object of the table
	finished atomic.Int64 // sizes of the objects read to their end
	cur      atomic.Int64 // offset reached in the object being read
}

// Progress reports each selected table's full-load progress: bytes read
// and total (object sizes from the listing; 0 before the table's listing),
// and rows delivered so far. It is safe to call while Next runs.
func (s *Source) Progress() []source.TableProgress {
	out := make([]source.TableProgress, 0, len(s.o.Tables))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.o.Tables {
		name := tableName(t)
		p := source.TableProgress{Table: name}
		if tp := s.prog[name]; tp != nil {
			p.BytesTotal = tp.total.Load()
			p.BytesDone = tp.finished.Load() + tp.cur.Load()
			if p.BytesTotal > 0 {
				p.BytesDone = min(p.BytesDone, p.BytesTotal) // an object grown since the listing
			}
		}
		if ts := s.state.Tables[name]; ts != nil {
			p.Rows = ts.Rows
			if ts.Done && p.BytesTotal > 0 {
				p.BytesDone = p.BytesTotal
			}
		}
		out = append(out, p)
	}
	return out
}

// LatestChangeTime is the LastModified time of the newest CDC file applied
// so far (zero before the first): the age of the changes being delivered,
// for a lag estimate. Safe to call while Next runs.
func (s *Source) LatestChangeTime() time.Time {
	if n := s.cdcNewest.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// cdcApplied records the LastModified of a CDC file being applied.
func (s *Source) cdcApplied(lm time.Time) {
	n := lm.UnixNano()
	for {
		old := s.cdcNewest.Load()
		if n <= old || s.cdcNewest.CompareAndSwap(old, n) {
			return
		}
	}
}
