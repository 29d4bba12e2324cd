package task

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// Task statuses (DMS DescribeReplicationTasks Status values sluice uses).
const (
	StatusRunning = "running"
	StatusStopped = "stopped"
	StatusFailed  = "failed"
)

// DMS stop reasons.
const (
	StopNormal               = "Stop Reason NORMAL"
	StopFullLoadOnlyFinished = "Stop Reason FULL_LOAD_ONLY_FINISHED"
	StopRecoverableError     = "Stop Reason RECOVERABLE_ERROR"
	StopFatalError           = "Stop Reason FATAL_ERROR"
	StopAtServerTime         = "Stop Reason STOPPED_AT_SERVER_TIME"
	StopAtCommitTime         = "Stop Reason STOPPED_AT_COMMIT_TIME"
)

// DMS table states.
const (
	TableBeforeLoad = "Before load"
	TableFullLoad   = "Full load"
	TableCompleted  = "Table completed"
	TableError      = "Table error"
	TableCancelled  = "Table cancelled"
)

// TableStats mirrors DMS DescribeTableStatistics for one table, plus
// RejectedRows (rows sent to the exceptions file or ignored by policy).
type TableStats struct {
	SchemaName        string     `json:"SchemaName"`
	TableName         string     `json:"TableName"`
	Inserts           int64      `json:"Inserts"`
	Deletes           int64      `json:"Deletes"`
	Updates           int64      `json:"Updates"`
	Ddls              int64      `json:"Ddls"`
	FullLoadRows      int64      `json:"FullLoadRows"`
	RejectedRows      int64      `json:"RejectedRows"`
	TableState        string     `json:"TableState"`
	FullLoadStartTime *time.Time `json:"FullLoadStartTime,omitempty"`
	FullLoadEndTime   *time.Time `json:"FullLoadEndTime,omitempty"`
	LastUpdateTime    *time.Time `json:"LastUpdateTime,omitempty"`
	// ErrorMessage says why the table is in TableError (sluice extension).
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// Key returns "schema.table".
func (t *TableStats) Key() string { return tableKey(t.SchemaName, t.TableName) }

// TaskStats mirrors DMS ReplicationTaskStats plus task Status, StopReason
// and LastFailureMessage; Tables are sorted by schema and name.
type TaskStats struct {
	Status                  string       `json:"Status"`
	StopReason              string       `json:"StopReason,omitempty"`
	FullLoadProgressPercent int          `json:"FullLoadProgressPercent"`
	TablesLoaded            int          `json:"TablesLoaded"`
	TablesLoading           int          `json:"TablesLoading"`
	TablesQueued            int          `json:"TablesQueued"`
	TablesErrored           int          `json:"TablesErrored"`
	RejectedRows            int64        `json:"RejectedRows"`
	FreshStartDate          *time.Time   `json:"FreshStartDate,omitempty"`
	StartDate               *time.Time   `json:"StartDate,omitempty"`
	StopDate                *time.Time   `json:"StopDate,omitempty"`
	FullLoadStartDate       *time.Time   `json:"FullLoadStartDate,omitempty"`
	FullLoadFinishDate      *time.Time   `json:"FullLoadFinishDate,omitempty"`
	LastFailureMessage      string       `json:"LastFailureMessage,omitempty"`
	Tables                  []TableStats `json:"Tables"`
}

func tableKey(schema, table string) string { return schema + "." + table }

func splitKey(key string) (schema, table string) {
	if i := strings.IndexByte(key, '.'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// statsBook is the live, mutex-guarded statistics of a running task.
// Target rejecters may update it from their own goroutines.
type statsBook struct {
	mu       sync.Mutex
	fullLoad bool // the migration type includes a full load
	task     TaskStats
	tables   map[string]*TableStats
	byPtr    map[*tabledefs.Table]*TableStats // cache of tables[key] by event table
}

func newStatsBook(fullLoad bool, tables []string, prev *TaskStats) *statsBook {
	b := &statsBook{fullLoad: fullLoad, tables: map[string]*TableStats{}, byPtr: map[*tabledefs.Table]*TableStats{}}
	if prev != nil {
		b.task = *prev
		b.task.Tables = nil
		for i := range prev.Tables {
			t := prev.Tables[i]
			b.tables[t.Key()] = &t
		}
	}
	for _, k := range tables {
		b.table(k)
	}
	return b
}

// table returns the entry for key, creating it in its initial state.
// Callers hold mu (or own b exclusively).
func (b *statsBook) table(key string) *TableStats {
	if t, ok := b.tables[key]; ok {
		return t
	}
	s, n := splitKey(key)
	t := &TableStats{SchemaName: s, TableName: n, TableState: TableBeforeLoad}
	if !b.fullLoad {
		t.TableState = TableCompleted // CDC only: nothing to load
	}
	b.tables[key] = t
	return t
}

func (b *statsBook) count(ev *source.Event, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.countLocked(ev, now)
}

// countAll counts events[i] for every i in idx under one lock.
func (b *statsBook) countAll(events []source.Event, idx []int, now time.Time) {
	if len(idx) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, i := range idx {
		b.countLocked(&events[i], now)
	}
}

func (b *statsBook) countLocked(ev *source.Event, now time.Time) {
	t, ok := b.byPtr[ev.Table]
	if !ok {
		t = b.table(tableKey(ev.Table.Owner, ev.Table.Name))
		b.byPtr[ev.Table] = t
	}
	switch ev.Op {
	case source.OpLoad:
		t.FullLoadRows++
		if t.TableState == TableBeforeLoad {
			b.startLoad(t, now)
		}
	case source.OpInsert:
		t.Inserts++
	case source.OpUpdate:
		t.Updates++
	case source.OpDelete:
		t.Deletes++
	case source.OpTruncate:
		t.Ddls++ // a DDL change; the synthetic drop/create-table records are not
	case source.OpCreateTable, source.OpDropTable:
		if t.TableState == TableBeforeLoad && b.fullLoad {
			b.startLoad(t, now) // create/drop-table control records open a full load
		}
	}
	if t.LastUpdateTime == nil || !t.LastUpdateTime.Equal(now) { // one allocation per batch, not per event
		t.LastUpdateTime = ptime(now)
	}
}

func (b *statsBook) startLoad(t *TableStats, now time.Time) {
	t.TableState = TableFullLoad
	t.FullLoadStartTime = ptime(now)
	if b.task.FullLoadStartDate == nil {
		b.task.FullLoadStartDate = ptime(now)
	}
}

func (b *statsBook) completed(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.table(key)
	if t.TableState == TableError || t.TableState == TableCancelled {
		return
	}
	if t.FullLoadStartTime == nil {
		t.FullLoadStartTime = ptime(now)
	}
	t.TableState = TableCompleted
	t.FullLoadEndTime = ptime(now)
	t.LastUpdateTime = ptime(now)
}

// tableStats returns a copy of key's statistics.
func (b *statsBook) tableStats(key string) TableStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return *b.table(key)
}

// rejected counts a rejected row of table key; "" (a row that names no
// selected table) counts for the task only. It returns the table's count,
// or the task's for "".
func (b *statsBook) rejected(key string, now time.Time) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.task.RejectedRows++
	if key == "" {
		return b.task.RejectedRows
	}
	t := b.table(key)
	t.RejectedRows++
	t.LastUpdateTime = ptime(now)
	return t.RejectedRows
}

// suspend puts a table into TableError; it reports false if it already was.
func (b *statsBook) suspend(key, msg string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.table(key)
	if t.TableState == TableError {
		return false
	}
	t.TableState = TableError
	t.ErrorMessage = msg
	t.LastUpdateTime = ptime(now)
	return true
}

func (b *statsBook) state(key string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.tables[key]; ok {
		return t.TableState
	}
	return ""
}

func (b *statsBook) update(f func(*TaskStats)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.task)
}

// snapshot returns a deep copy with the task-level table counts derived.
func (b *statsBook) snapshot() TaskStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.task
	s.Tables = make([]TableStats, 0, len(b.tables))
	s.TablesLoaded, s.TablesLoading, s.TablesQueued, s.TablesErrored = 0, 0, 0, 0
	for _, t := range b.tables {
		s.Tables = append(s.Tables, *t)
		switch t.TableState {
		case TableCompleted:
			s.TablesLoaded++
		case TableFullLoad:
			s.TablesLoading++
		case TableBeforeLoad:
			s.TablesQueued++
		case TableError, TableCancelled:
			s.TablesErrored++
		}
	}
	slices.SortFunc(s.Tables, func(x, y TableStats) int { return strings.Compare(x.Key(), y.Key()) })
	switch {
	case !b.fullLoad || len(s.Tables) == 0:
		s.FullLoadProgressPercent = 100
	default:
		done := s.TablesLoaded + s.TablesErrored
		s.FullLoadProgressPercent = done * 100 / len(s.Tables)
	}
	if b.fullLoad && s.TablesLoading == 0 && s.TablesQueued == 0 && s.FullLoadFinishDate == nil && len(s.Tables) > 0 {
		// Derived here so the date lands in the checkpoint that first shows
		// every table done.
		var last time.Time
		for _, t := range s.Tables {
			if t.FullLoadEndTime != nil && t.FullLoadEndTime.After(last) {
				last = *t.FullLoadEndTime
			}
		}
		if !last.IsZero() {
			b.task.FullLoadFinishDate = ptime(last)
			s.FullLoadFinishDate = b.task.FullLoadFinishDate
		}
	}
	return s
}

// loadDone reports whether no table is still queued or loading.
func (s *TaskStats) loadDone() bool { return s.TablesQueued == 0 && s.TablesLoading == 0 }

func ptime(t time.Time) *time.Time {
	t = t.UTC()
	return &t
}
