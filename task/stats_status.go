package task

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/sluicedata/sluice/source"
)

// TaskStatus is what `sluice status` shows: the statistics and position of
// the last saved checkpoint.
type TaskStatus struct {
	Task     string          `json:"Task"`
	Location string          `json:"StateLocation"`
	Phase    string          `json:"Phase"`
	SavedAt  time.Time       `json:"CheckpointSavedAt"`
	Position source.Position `json:"SourcePosition"`
	Stats    TaskStats       `json:"Stats"`
}

// LoadStatus reads the status of the task whose state lives at
// stateLocation, without taking ownership (a running task may be read).
func LoadStatus(ctx context.Context, stateLocation string) (*TaskStatus, error) {
	cp, err := ReadCheckpoint(ctx, stateLocation, StoreOptions{})
	if err != nil {
		return nil, err
	}
	if cp == nil {
		return nil, fmt.Errorf("no checkpoint at %s: the task has not saved one yet", stateLocation)
	}
	return &TaskStatus{Task: cp.Task, Location: stateLocation, Phase: cp.Phase, SavedAt: cp.SavedAt,
		Position: cp.Source, Stats: cp.Stats}, nil
}

// WriteStatusJSON writes st as indented JSON.
func WriteStatusJSON(w io.Writer, st *TaskStatus) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	return nil
}

// WriteStatusTable writes st as aligned text: the task, then one row per table.
func WriteStatusTable(w io.Writer, st *TaskStatus) error {
	s := st.Stats
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	kv("Task", st.Task)
	kv("Status", s.Status)
	kv("StopReason", s.StopReason)
	kv("Phase", st.Phase)
	kv("FullLoadProgressPercent", strconv.Itoa(s.FullLoadProgressPercent))
	kv("Tables", fmt.Sprintf("loaded %d, loading %d, queued %d, errored %d", s.TablesLoaded, s.TablesLoading, s.TablesQueued, s.TablesErrored))
	kv("RejectedRows", strconv.FormatInt(s.RejectedRows, 10))
	kv("StartDate", fmtTime(s.StartDate))
	kv("StopDate", fmtTime(s.StopDate))
	kv("FullLoadStartDate", fmtTime(s.FullLoadStartDate))
	kv("FullLoadFinishDate", fmtTime(s.FullLoadFinishDate))
	kv("LastFailureMessage", s.LastFailureMessage)
	kv("CheckpointSavedAt", st.SavedAt.UTC().Format(time.RFC3339))
	kv("SourcePosition", string(st.Position))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	fmt.Fprintln(w)
	return writeTablesTable(w, s)
}

func writeTablesTable(w io.Writer, s TaskStats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SchemaName\tTableName\tTableState\tFullLoadRows\tInserts\tUpdates\tDeletes\tDdls\tRejectedRows\tFullLoadStartTime\tFullLoadEndTime\tLastUpdateTime\tErrorMessage")
	for _, t := range s.Tables {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", t.SchemaName, t.TableName, t.TableState,
			t.FullLoadRows, t.Inserts, t.Updates, t.Deletes, t.Ddls, t.RejectedRows,
			dash(fmtTime(t.FullLoadStartTime)), dash(fmtTime(t.FullLoadEndTime)), dash(fmtTime(t.LastUpdateTime)), t.ErrorMessage)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	return nil
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
