package task

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
)

type sizedSource struct {
	*fakeSource
	done int64
}

func (s *sizedSource) Progress() []TableProgress {
	return []TableProgress{{Table: "s.a", BytesDone: s.done, BytesTotal: 1000}}
}

func TestProgress(t *testing.T) {
	w := newWorld(t, genEvents(10, 2), "t1")
	g := newRig(w, nil, 2)
	g.r.MigrationType = "full-load"
	open := g.r.OpenSource
	var sized *sizedSource
	g.r.OpenSource = func(ctx context.Context, p source.Position) (source.Source, error) {
		s, err := open(ctx, p)
		g.src.follow, g.src.loads = true, true
		g.src.limit = 3 // s.a is mid-load
		sized = &sizedSource{fakeSource: s.(*fakeSource), done: 250}
		return sized, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.r.Run(ctx)
	}()
	waitFor(t, func() bool { return g.r.running.Load() && g.r.Snapshot().Tables[0].FullLoadRows == 3 })

	var term bytes.Buffer
	p := &Progress{W: &term, Terminal: true}
	t0 := time.Now()
	p.report(g.r, t0)
	sized.done = 500
	p.report(g.r, t0.Add(time.Second))
	out := term.String()
	for _, want := range []string{"running", "s.a", "Full load", "50.0%", "ETA 2s", "0.0 MB/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal progress lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "\x1b[3A") {
		t.Errorf("second frame does not redraw in place: %q", out)
	}

	var logs bytes.Buffer
	lp := &Progress{W: &logs, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	lp.report(g.r, t0)
	if !strings.Contains(logs.String(), `"msg":"progress"`) || !strings.Contains(logs.String(), `"rows":3`) ||
		!strings.Contains(logs.String(), `"bytes_read":500`) || !strings.Contains(logs.String(), `"load_percent":50`) {
		t.Errorf("log progress: %s", logs.String())
	}
	cancel()
	<-done

	var sum bytes.Buffer
	if err := WriteSummary(&sum, Result{Status: StatusStopped, StopReason: StopNormal, Rejected: 2, Stats: g.r.Snapshot()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "task stopped (Stop Reason NORMAL)") || !strings.Contains(sum.String(), "2 rows rejected") {
		t.Errorf("summary: %s", sum.String())
	}
}

// TestTerminalMux: a log line erases the live display and the display is
// redrawn below it, so the next frame's cursor-up lands on it again.
func TestTerminalMux(t *testing.T) {
	var screen bytes.Buffer
	m := NewTerminalMux(&screen)
	if !IsTerminal(m.Display()) {
		t.Fatal("the display writer must count as a terminal")
	}
	p := &Progress{W: m.Display(), Terminal: true}
	st := TaskStats{Status: StatusRunning}
	rows := []progressRow{{table: "s.a", state: TableFullLoad, rows: 1, pct: -1}}
	p.draw(st, rows, 0)
	screen.Reset()
	if _, err := m.Logs().Write([]byte("level=WARN msg=x\n")); err != nil {
		t.Fatal(err)
	}
	got := screen.String()
	if !strings.HasPrefix(got, "\x1b[2A\x1b[J"+"level=WARN msg=x\n\x1b[2K") || strings.Count(got, "s.a") != 1 {
		t.Fatalf("log write %q", got)
	}
	screen.Reset()
	p.draw(st, rows, 0)
	if !strings.HasPrefix(screen.String(), "\x1b[2A") {
		t.Fatalf("next frame %q", screen.String())
	}
}
