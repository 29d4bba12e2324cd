package task

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

var updateRunner = flag.Bool("update-runner", false, "rewrite the golden files of testdata/runner")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "runner", name)
	if *updateRunner {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-runner to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestStatsCounting(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := newStatsBook(true, []string{"s.a", "s.b", "s.c"}, nil)
	a := &tabledefs.Table{Owner: "s", Name: "a"}
	for _, op := range []source.Op{source.OpCreateTable, source.OpLoad, source.OpLoad, source.OpInsert, source.OpUpdate, source.OpUpdate, source.OpDelete, source.OpTruncate} {
		b.count(&source.Event{Op: op, Table: a}, t0)
	}
	b.completed("s.a", t0.Add(time.Minute))
	b.count(&source.Event{Op: source.OpLoad, Table: &tabledefs.Table{Owner: "s", Name: "b"}}, t0)
	b.rejected("s.b", t0)
	b.rejected("", t0)
	b.suspend("s.c", "broken", t0)
	s := b.snapshot()
	ts := map[string]TableStats{}
	for _, x := range s.Tables {
		ts[x.Key()] = x
	}
	if x := ts["s.a"]; x.FullLoadRows != 2 || x.Inserts != 1 || x.Updates != 2 || x.Deletes != 1 || x.Ddls != 1 ||
		x.TableState != TableCompleted || !x.FullLoadStartTime.Equal(t0) || !x.FullLoadEndTime.Equal(t0.Add(time.Minute)) {
		t.Errorf("s.a %+v", x)
	}
	if x := ts["s.b"]; x.FullLoadRows != 1 || x.RejectedRows != 1 || x.TableState != TableFullLoad {
		t.Errorf("s.b %+v", x)
	}
	if x := ts["s.c"]; x.TableState != TableError || x.ErrorMessage != "broken" {
		t.Errorf("s.c %+v", x)
	}
	if s.TablesLoaded != 1 || s.TablesLoading != 1 || s.TablesErrored != 1 || s.TablesQueued != 0 || s.RejectedRows != 2 ||
		s.FullLoadProgressPercent != 66 || s.FullLoadFinishDate != nil || !s.FullLoadStartDate.Equal(t0) {
		t.Errorf("task %+v", s)
	}
	b.completed("s.b", t0.Add(2*time.Minute))
	if s := b.snapshot(); s.FullLoadProgressPercent != 100 || s.FullLoadFinishDate == nil || !s.FullLoadFinishDate.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after load %+v", s)
	}
	// CDC-only tasks have nothing to load.
	if s := newStatsBook(false, []string{"s.a"}, nil).snapshot(); s.FullLoadProgressPercent != 100 || s.Tables[0].TableState != TableCompleted {
		t.Errorf("cdc %+v", s)
	}
}

func sampleStatus() *TaskStatus {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(90 * time.Second)
	return &TaskStatus{Task: "orders", Location: "file://.sluice/orders", Phase: PhaseCDC, SavedAt: t1,
		Position: source.Position(`{"v":1,"phase":"cdc","key":"cdc/0002.csv","line":17}`),
		Stats: TaskStats{Status: StatusStopped, StopReason: StopFullLoadOnlyFinished, FullLoadProgressPercent: 100,
			TablesLoaded: 1, TablesErrored: 1, RejectedRows: 3, StartDate: &t0, StopDate: &t1, FullLoadStartDate: &t0, FullLoadFinishDate: &t1,
			Tables: []TableStats{
				{SchemaName: "sales", TableName: "orders", FullLoadRows: 120000, Inserts: 12, Updates: 3, Deletes: 1, RejectedRows: 2,
					TableState: TableCompleted, FullLoadStartTime: &t0, FullLoadEndTime: &t1, LastUpdateTime: &t1},
				{SchemaName: "sales", TableName: "refunds", RejectedRows: 1, TableState: TableError, ErrorMessage: "data error", LastUpdateTime: &t1},
			}}}
}

func TestStatusRendering(t *testing.T) {
	var tb, jb bytes.Buffer
	if err := WriteStatusTable(&tb, sampleStatus()); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.txt", tb.Bytes())
	if err := WriteStatusJSON(&jb, sampleStatus()); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.json", jb.Bytes())
}

func TestLoadStatus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := LoadStatus(ctx, "file://"+dir); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Fatalf("%v", err)
	}
	w := newWorld(t, genEvents(8, 2), "t1")
	st, err := OpenStateStore(ctx, "file://"+dir, "t1", StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := newRig(w, nil, 3)
	g.r.Store = st
	if _, err := g.r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close(ctx)
	s, err := LoadStatus(ctx, "file://"+dir)
	if err != nil || s.Task != "t1" || s.Stats.StopReason != StopFullLoadOnlyFinished || decodePos(s.Position) != 8 {
		t.Fatalf("%+v %v", s, err)
	}
	var buf bytes.Buffer
	if err := WriteStatusTable(&buf, s); err != nil || !strings.Contains(buf.String(), "Table completed") {
		t.Fatalf("%s %v", buf.String(), err)
	}
}
