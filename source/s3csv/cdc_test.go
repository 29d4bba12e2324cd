package s3csv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

func cdcOptions(bk *bucket, emp *tabledefs.Table) Options {
	return bk.options(Options{Folder: "f", CdcPath: "/cdc/", CDC: true, Once: true, Rfc4180: true,
		Tables:     []*tabledefs.Table{emp},
		Definition: &tabledefs.Definition{Tables: []tabledefs.Table{*emp, *departmentTable()}},
		BatchRows:  4})
}

func rejectLines(rs []source.Reject) []string {
	var out []string
	for _, j := range rs {
		out = append(out, j.Schema+"."+j.Table+" "+j.Position[strings.LastIndexByte(j.Position, '/')+1:]+": "+j.Reason)
	}
	return out
}

func TestCDCFiles(t *testing.T) {
	for _, bk := range buckets(t) {
		t.Run(bk.kind, func(t *testing.T) {
			emp := employeeTable()
			bk.put(t, "f/cdc/CDC00001.csv", []byte(
				"INSERT,employee,hr,101,Smith,2014-06-04,1.5\n"+
					"u,EMPLOYEE,HR,101,Smith,2015-10-08,2\n"+
					"Delete,employee,hr,101,Smith,,\n"+
					"UPSERT,employee,hr,1,x,,\n"+
					"I,nosuch,hr,1,x,,\n"+
					"I,department,hr,1,ignored\n"+ // defined, not selected: skipped quietly
					"I,employee,hr,102\n"+
					"I,employee,hr\n"))
			bk.put(t, "f/cdc/CDC00003.csv.gz", gz(t, "I,employee,hr,103,\"Gz, Q\",,\n"))
			o := cdcOptions(bk, emp)
			r := drain(t, newSource(t, o, nil), 0)
			diffLines(t, "events", r.events, []string{
				"create-table hr.employee",
				"insert hr.employee [101|Smith|2014-06-04 00:00:00.000|1.50] @CDC00001.csv:1",
				"update hr.employee [101|Smith|2015-10-08 00:00:00.000|2.00] @CDC00001.csv:2",
				"delete hr.employee [101|Smith|NULL|NULL] @CDC00001.csv:3",
				"insert hr.employee [103|Gz, Q|NULL|NULL] @CDC00003.csv.gz:1",
			})
			diffLines(t, "rejects", rejectLines(r.rejects), []string{
				`hr.employee CDC00001.csv:4: unknown CDC operation "UPSERT" (expected I, U, D, INSERT, UPDATE or DELETE)`,
				`hr.nosuch CDC00001.csv:5: CDC line names table "nosuch" in schema "hr", which the external table definition does not define`,
				"hr.employee CDC00001.csv:7: too few columns: the row has 1 fields, table hr.employee has 4 columns",
				"hr.employee CDC00001.csv:8: too few columns: the row has 0 fields, table hr.employee has 4 columns",
			})
			p1 := r.positions[len(r.positions)-1]

			// A late file, a rewritten file and a new one.
			bk.put(t, "f/cdc/CDC00002.csv", []byte("I,employee,hr,999,late,,\n"))
			bk.put(t, "f/cdc/CDC00001.csv", []byte("I,employee,hr,998,rewritten and longer,,\n"))
			bk.put(t, "f/cdc/CDC00004.csv", []byte("D,employee,hr,103,,,\n"))
			r2 := drain(t, newSource(t, o, p1), 0)
			diffLines(t, "events after", r2.events, []string{"delete hr.employee [103|NULL|NULL|NULL] @CDC00004.csv:1"})
			got := rejectLines(r2.rejects)
			if len(got) != 2 || !strings.Contains(got[0], "CDC00001.csv: CDC file was rewritten after it was applied") ||
				!strings.Contains(got[1], "CDC00002.csv: late CDC file: it sorts before") || !strings.Contains(got[1], "CDC00003.csv.gz") {
				t.Errorf("late/rewritten rejects: %q", got)
			}
			// Reported once: the next run from the last position is quiet.
			r3 := drain(t, newSource(t, o, r2.positions[len(r2.positions)-1]), 0)
			if len(r3.events)+len(r3.rejects) != 0 {
				t.Errorf("third run delivered %v %v", r3.events, r3.rejects)
			}

			// StopOnLateFile: the reject is delivered (exceptions file,
			// statistics), then Next fails naming the file and the way out.
			o.StopOnLateFile = true
			src := newSource(t, o, p1)
			var err error
			var rejects []source.Reject
			for err == nil {
				var b source.Batch
				b, err = src.Next(context.Background())
				rejects = append(rejects, b.Rejects...)
			}
			if errors.Is(err, source.ErrDone) || !strings.Contains(err.Error(), "CDC00001.csv was rewritten after it was applied") ||
				!strings.HasSuffix(err.Error(), `: put back the applied version or set S3Settings.LateCdcFilePolicy to "skip"`) {
				t.Errorf("StopOnLateFile: %v", err)
			}
			if got := rejectLines(rejects); len(got) != 1 || !strings.Contains(got[0], "CDC00001.csv: CDC file was rewritten after it was applied") ||
				!strings.HasSuffix(got[0], "; the task stops (LateCdcFilePolicy stop)") {
				t.Errorf("StopOnLateFile rejects: %q", got)
			}
			if retryable(err) {
				t.Errorf("StopOnLateFile error is retryable: %v", err)
			}
		})
	}
}

// After a full load, CDC follows; new files are picked up by polling.
func TestFullLoadThenCDCPolling(t *testing.T) {
	bk := buckets(t)[0]
	bk.put(t, "f/hr/employee/LOAD1.csv", []byte("1,a,,\n"))
	o := cdcOptions(bk, employeeTable())
	o.FullLoad, o.Once, o.PollInterval = true, false, 20*time.Millisecond
	src := newSource(t, o, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	want := []string{"drop-table hr.employee", "create-table hr.employee",
		"load hr.employee [1|a|NULL|NULL] @LOAD1.csv:1", "insert hr.employee [2|b|NULL|NULL] @C1.csv:1"}
	put := false
	for len(got) < len(want) {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v (got %q)", err, got)
		}
		for _, e := range b.Events {
			got = append(got, render(e, true))
		}
		if !put && len(b.Completed) > 0 {
			bk.put(t, "f/cdc/C1.csv", []byte("I,employee,hr,2,b,,\n"))
			put = true
		}
	}
	diffLines(t, "events", got, want)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

// Files deleted from the CDC folder leave the position; one that comes back
// is late.
func TestCDCForgetsDeletedFiles(t *testing.T) {
	bk := buckets(t)[0]
	emp := employeeTable()
	bk.put(t, "f/cdc/A1.csv", []byte("I,employee,hr,1,a,,\n"))
	bk.put(t, "f/cdc/A2.csv", []byte("I,employee,hr,2,b,,\n"))
	o := cdcOptions(bk, emp)
	r := drain(t, newSource(t, o, nil), 0)
	p := r.positions[len(r.positions)-1]
	if !strings.Contains(string(p), `"f/cdc/A1.csv"`) {
		t.Fatalf("position %s", p)
	}
	bk.del(t, "f/cdc/A1.csv")
	r = drain(t, newSource(t, o, p), 0)
	p = r.positions[len(r.positions)-1]
	if strings.Contains(string(p), `"f/cdc/A1.csv"`) || !strings.Contains(string(p), `"f/cdc/A2.csv"`) {
		t.Fatalf("position after deletion %s", p)
	}
	bk.put(t, "f/cdc/A1.csv", []byte("I,employee,hr,1,a,,\n"))
	r = drain(t, newSource(t, o, p), 0)
	if len(r.events) != 0 || len(r.rejects) != 1 || !strings.Contains(r.rejects[0].Reason, "late CDC file") {
		t.Fatalf("returned file: %q %v", r.events, rejectLines(r.rejects))
	}
}

// retryable is the runner's classification (task.Retryable) in short.
func retryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// A late file with LateCdcFilePolicy stop: its reject reaches the batch
// before the error, and the error says what to do.
func TestCDCLateFileStop(t *testing.T) {
	bk := buckets(t)[1]
	bk.put(t, "f/cdc/CDC0001.csv", []byte("I,employee,hr,1,a,,\n"))
	bk.put(t, "f/cdc/CDC0003.csv", []byte("I,employee,hr,3,c,,\n"))
	o := cdcOptions(bk, employeeTable())
	r := drain(t, newSource(t, o, nil), 0)
	bk.put(t, "f/cdc/CDC0002.csv", []byte("I,employee,hr,2,b,,\n"))
	o.StopOnLateFile = true
	src := newSource(t, o, r.positions[len(r.positions)-1])
	var err error
	var rejects []source.Reject
	for i := 0; err == nil && i < 10; i++ {
		var b source.Batch
		b, err = src.Next(context.Background())
		rejects = append(rejects, b.Rejects...)
		if len(b.Events) > 0 {
			t.Errorf("events: %v", b.Events)
		}
	}
	want := "late CDC file " + src.origin("f/cdc/CDC0002.csv") + " sorts before " + src.origin("f/cdc/CDC0003.csv") +
		`, which was already applied: remove it or set S3Settings.LateCdcFilePolicy to "skip"`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	if got := rejectLines(rejects); len(got) != 1 || !strings.HasPrefix(got[0], ". CDC0002.csv: late CDC file: it sorts before") {
		t.Errorf("rejects %q", got)
	}
	// The error stays: the producers are not restarted.
	if _, err2 := src.Next(context.Background()); err2 == nil || err2.Error() != want {
		t.Errorf("second Next: %v", err2)
	}
}
