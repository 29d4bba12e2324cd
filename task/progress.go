package task

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sluicedata/sluice/source"
)

// TableProgress is how far a source has read one table's full load. It
// is declared in package source so that sources can return it.
type TableProgress = source.TableProgress

// ProgressReporter is implemented by sources that know the sizes of what
// they load (S3 object sizes): bytes, MB/s, percent and ETA per table.
// Progress is called from another goroutine than Next and must be safe
// for that.
type ProgressReporter interface {
	Progress() []source.TableProgress
}

// ChangeTimeReporter is implemented by sources whose events carry no
// commit time (S3 CDC files): LatestChangeTime is the time of the newest
// change delivered (an S3 CDC file's LastModified), zero before any. The
// CDC lag uses it only while no event carried a CommitTime. Safe to call
// while Next runs.
type ChangeTimeReporter interface {
	LatestChangeTime() time.Time
}

// IsTerminal reports whether w is a character device (a terminal), or a
// writer that says it draws on one (TerminalMux.Display).
func IsTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress reports a running task: on a terminal a live table redrawn in
// place (rows, rows/s, MB/s, percent and ETA per table during full load,
// lag during CDC); otherwise one structured log line per Interval.
type Progress struct {
	W        io.Writer
	Terminal bool
	Interval time.Duration // default 1 s on a terminal, 30 s in logs
	Log      *slog.Logger

	lines int
	prev  map[string]progressSample
	last  time.Time
}

type progressSample struct{ rows, bytes int64 }

// Run reports r until ctx ends; it draws the last state once more before
// returning so the final numbers stay on screen.
func (p *Progress) Run(ctx context.Context, r *Runner) {
	if p.Interval <= 0 {
		p.Interval = 30 * time.Second
		if p.Terminal {
			p.Interval = time.Second
		}
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.report(r, time.Now())
			return
		case now := <-t.C:
			p.report(r, now)
		}
	}
}

func (p *Progress) report(r *Runner, now time.Time) {
	st := r.Snapshot()
	if st.Status == "" {
		return
	}
	var sizes map[string]TableProgress
	if pr, ok := r.Source().(ProgressReporter); ok {
		sizes = map[string]TableProgress{}
		tp := pr.Progress()
		for _, t := range tp {
			sizes[t.Table] = t
		}
	}
	dt := now.Sub(p.last).Seconds()
	if p.prev == nil || dt <= 0 {
		dt = 0
	}
	cur := map[string]progressSample{}
	rows := make([]progressRow, 0, len(st.Tables))
	for _, t := range st.Tables {
		k := t.Key()
		s := progressSample{rows: t.FullLoadRows + t.Inserts + t.Updates + t.Deletes, bytes: sizes[k].BytesDone}
		cur[k] = s
		row := progressRow{table: k, state: t.TableState, rows: s.rows, rejected: t.RejectedRows, pct: -1}
		if dt > 0 {
			row.rowsPerSec = float64(s.rows-p.prev[k].rows) / dt
			row.mbPerSec = float64(s.bytes-p.prev[k].bytes) / dt / 1e6
		}
		if tp, ok := sizes[k]; ok && tp.BytesTotal > 0 && t.TableState == TableFullLoad {
			row.pct = float64(tp.BytesDone) * 100 / float64(tp.BytesTotal)
			if rate := float64(s.bytes - p.prev[k].bytes); rate > 0 && dt > 0 {
				row.eta = time.Duration(float64(tp.BytesTotal-tp.BytesDone) / (rate / dt) * float64(time.Second))
			}
		}
		rows = append(rows, row)
	}
	p.prev, p.last = cur, now
	lag := r.lag(now)
	if p.Terminal {
		p.draw(st, rows, lag)
		return
	}
	var total int64
	var mbps float64
	for _, row := range rows {
		total += row.rows
		mbps += row.mbPerSec
	}
	args := []any{"status", st.Status, "full_load_percent", st.FullLoadProgressPercent,
		"tables_loaded", st.TablesLoaded, "tables_loading", st.TablesLoading, "tables_queued", st.TablesQueued,
		"tables_errored", st.TablesErrored, "rows", total, "rejected", st.RejectedRows}
	if sizes != nil { // bytes of the full load, from a ProgressReporter source
		var done, all int64
		for _, tp := range sizes {
			done += tp.BytesDone
			all += tp.BytesTotal
		}
		args = append(args, "bytes_read", done, "mb_per_s", math.Round(mbps*10)/10)
		if all > 0 && done < all {
			args = append(args, "bytes_total", all, "load_percent", math.Round(float64(done)*1000/float64(all))/10)
			if mbps > 0 {
				args = append(args, "load_eta", time.Duration(float64(all-done)/(mbps*1e6)*float64(time.Second)).Round(time.Second))
			}
		}
	}
	args = append(args, "cdc_lag", lag)
	p.Log.Info("progress", args...)
}

type progressRow struct {
	table, state         string
	rows, rejected       int64
	rowsPerSec, mbPerSec float64
	pct                  float64 // -1: unknown
	eta                  time.Duration
}

// draw redraws the block written last time (cursor up, clear lines).
func (p *Progress) draw(st TaskStats, rows []progressRow, lag time.Duration) {
	var b strings.Builder
	if p.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.lines)
	}
	line := func(format string, args ...any) {
		b.WriteString("\x1b[2K")
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	head := fmt.Sprintf("%s  full load %d%%  loaded %d  loading %d  queued %d  errored %d  rejected %d",
		st.Status, st.FullLoadProgressPercent, st.TablesLoaded, st.TablesLoading, st.TablesQueued, st.TablesErrored, st.RejectedRows)
	if lag > 0 {
		head += fmt.Sprintf("  cdc lag %s", lag.Round(100*time.Millisecond))
	}
	line("%s", head)
	for _, r := range rows {
		extra := ""
		if r.pct >= 0 {
			extra = fmt.Sprintf("%5.1f%%", r.pct)
			if r.eta > 0 {
				extra += "  ETA " + r.eta.Round(time.Second).String()
			}
		}
		line("  %-32s %-15s %12d rows %10.0f rows/s %7.1f MB/s  %s", r.table, r.state, r.rows, r.rowsPerSec, r.mbPerSec, extra)
	}
	p.lines = len(rows) + 1
	io.WriteString(p.W, b.String())
}

// WriteSummary prints the final summary of a run: one line, then the
// table statistics if any table started. The error of a failed run is not
// repeated here: the command line prints it once, on stderr.
func WriteSummary(w io.Writer, res Result) error {
	fmt.Fprintf(w, "task %s", res.Status)
	if res.StopReason != "" {
		fmt.Fprintf(w, " (%s)", res.StopReason)
	}
	fmt.Fprintf(w, ": %d tables loaded, %d errored, %d rows rejected in this run\n",
		res.Stats.TablesLoaded, res.Stats.TablesErrored, res.Rejected)
	for _, t := range res.Stats.Tables {
		if t.TableState != TableBeforeLoad || t.RejectedRows > 0 {
			return writeTablesTable(w, res.Stats)
		}
	}
	return nil
}

// TerminalMux shares one terminal between the live progress display and
// log lines: a log line first erases the display, and the display is
// redrawn below it, so neither tears the other.
type TerminalMux struct {
	mu    sync.Mutex
	w     io.Writer
	frame []byte // the last display frame, without its leading cursor-up
	lines int    // lines of that frame on screen
}

// NewTerminalMux writes both streams to w (a terminal).
func NewTerminalMux(w io.Writer) *TerminalMux { return &TerminalMux{w: w} }

// Display is the writer for Progress: IsTerminal reports true for it.
func (m *TerminalMux) Display() io.Writer { return muxDisplay{m} }

// Logs is the writer for the log handler.
func (m *TerminalMux) Logs() io.Writer { return muxLogs{m} }

type muxDisplay struct{ m *TerminalMux }

func (d muxDisplay) IsTerminal() bool { return true }

// Write takes one whole frame from Progress.draw.
func (d muxDisplay) Write(b []byte) (int, error) {
	m := d.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.frame = append(m.frame[:0], cursorUp.ReplaceAll(b, nil)...)
	m.lines = bytes.Count(m.frame, []byte{'\n'})
	return m.w.Write(b)
}

type muxLogs struct{ m *TerminalMux }

func (l muxLogs) Write(b []byte) (int, error) {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []byte
	if m.lines > 0 {
		out = fmt.Appendf(out, "\x1b[%dA\x1b[J", m.lines) // erase the display
	}
	out = append(out, b...)
	out = append(out, m.frame...) // and redraw it below the log line
	if _, err := m.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// cursorUp is the cursor movement a frame starts with.
var cursorUp = regexp.MustCompile(`^\x1b\[\d+A`)
