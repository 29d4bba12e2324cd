package s3csv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/tabledefs"
)

// rowsCSV makes n rows of the department table starting at id from, with a
// quoted multi-line value every 7th row so that lines and rows differ.
func rowsCSV(from, n int, prefix ...string) string {
	pre := strings.Join(prefix, "")
	var b strings.Builder
	for i := from; i < from+n; i++ {
		if i%7 == 0 {
			fmt.Fprintf(&b, "%s%d,\"n\n%d\"\n", pre, i, i)
		} else {
			fmt.Fprintf(&b, "%s%d,n%d\n", pre, i, i)
		}
	}
	return b.String()
}

// TestResumeFromEveryPosition takes the position of every batch of a run,
// builds a new source from it (a crash right after that checkpoint), and
// checks that exactly the rest of the run arrives: nothing lost, nothing
// delivered twice, for plain objects (ranged reopen), gzip objects (rows
// skipped) and CDC files.
func TestResumeFromEveryPosition(t *testing.T) {
	for _, bk := range buckets(t) {
		t.Run(bk.kind, func(t *testing.T) {
			bk.put(t, "f/hr/department/a.csv", []byte("header\n"+rowsCSV(0, 23)))
			bk.put(t, "f/hr/department/b.csv.gz", gz(t, "header\n"+rowsCSV(100, 19)))
			bk.put(t, "f/hr/department/c.csv", []byte("header\n"+rowsCSV(200, 5)+"bad row\n"+rowsCSV(205, 4)))
			bk.put(t, "f/cdc/1.csv", []byte("header\n"+rowsCSV(300, 11, "I,department,hr,")))
			bk.put(t, "f/cdc/2.csv.gz", gz(t, "header\nU,department,hr,1,x\nD,department,hr,2,\"y\nz\"\nU,department,hr,3,w\n"))
			o := bk.options(Options{Folder: "f", CdcPath: "cdc", FullLoad: true, CDC: true, Once: true, Rfc4180: true,
				IgnoreHeaderRows: 1, Tables: []*tabledefs.Table{departmentTable()}, BatchRows: 4})
			full := drain(t, newSource(t, o, nil), 0)
			all := append([]string{}, full.events...)
			for _, j := range full.rejects {
				all = append(all, "reject "+j.Position)
			}
			if len(full.events) < 60 || len(full.rejects) != 1 { // "bad row"
				t.Fatalf("full run: %d events, rejects %v", len(full.events), rejectLines(full.rejects))
			}
			if !strings.Contains(full.events[len(full.events)-1], "update hr.department [3|w] @2.csv.gz:5") {
				t.Fatalf("last event %q", full.events[len(full.events)-1])
			}
			mid := map[string]bool{}
			for _, pos := range full.positions {
				for _, key := range []string{`"cur_key":"f/hr/department/a.csv"`, `"cur_key":"f/hr/department/b.csv.gz"`, `"key":"f/cdc/1.csv","etag"`} {
					if strings.Contains(string(pos), key) && strings.Contains(string(pos), `"offset"`) {
						mid[key] = true
					}
				}
			}
			if len(mid) != 3 {
				t.Fatalf("no position inside some object: %v", mid)
			}
			for k, pos := range full.positions {
				rest := drain(t, newSource(t, o, pos), 0)
				got := append(append([]string{}, eventsAndRejects(full, k)...), eventsAndRejects(rest, -1)...)
				if strings.Join(sortedCopy(got), "\n") != strings.Join(sortedCopy(all), "\n") || len(got) != len(all) {
					t.Fatalf("resuming after batch %d (%s):\nfirst part + rest:\n  %s\nfull run:\n  %s", k, pos,
						strings.Join(got, "\n  "), strings.Join(all, "\n  "))
				}
				// Events alone keep their exact order.
				gotEv := append(append([]string{}, full.events[:full.evEnd[k]]...), rest.events...)
				diffLines(t, fmt.Sprintf("events resumed after batch %d", k), gotEv, full.events)
			}
		})
	}
}

// eventsAndRejects lists what a run delivered in its batches up to and
// including batch k (all of them when k < 0).
func eventsAndRejects(r *run, k int) []string {
	var out []string
	ev, rj := 0, 0
	for i, n := range r.sizes {
		if k >= 0 && i > k {
			break
		}
		_ = n
		ev2, rj2 := r.batchEnds(i)
		out = append(out, r.events[ev:ev2]...)
		for _, j := range r.rejects[rj:rj2] {
			out = append(out, "reject "+j.Position)
		}
		ev, rj = ev2, rj2
	}
	return out
}

func sortedCopy(s []string) []string { return sorted(s) }

// An object or CDC file rewritten while it was being read: the full load
// reads the object again from the start (with a warning); the CDC file is
// reported and its remaining lines are not applied.
func TestResumeAfterRewrite(t *testing.T) {
	bk := buckets(t)[1]
	bk.put(t, "f/hr/department/a.csv", []byte(rowsCSV(0, 10)))
	bk.put(t, "f/cdc/1.csv", []byte(rowsCSV(300, 10, "I,department,hr,")))
	o := bk.options(Options{Folder: "f", CdcPath: "cdc", FullLoad: true, CDC: true, Once: true, Rfc4180: true,
		Tables: []*tabledefs.Table{departmentTable()}, BatchRows: 5})
	full := drain(t, newSource(t, o, nil), 0)
	var inLoad, inCDC []byte
	for _, p := range full.positions {
		if strings.Contains(string(p), `"cur_key":"f/hr/department/a.csv"`) && inLoad == nil {
			inLoad = p
		}
		if strings.Contains(string(p), `"key":"f/cdc/1.csv"`) && !strings.Contains(string(p), "file_done") && inCDC == nil {
			inCDC = p
		}
	}
	if inLoad == nil || inCDC == nil {
		t.Fatalf("no mid-object positions in %q", full.positions)
	}
	bk.put(t, "f/hr/department/a.csv", []byte(rowsCSV(50, 3)))
	bk.put(t, "f/cdc/1.csv", []byte(rowsCSV(400, 12, "I,department,hr,")))
	r := drain(t, newSource(t, o, inLoad), 0)
	var loads []string
	for _, e := range r.events {
		if strings.HasPrefix(e, "load") {
			loads = append(loads, e)
		}
	}
	diffLines(t, "reloaded rows", loads, []string{
		"load hr.department [50|n50] @a.csv:1", "load hr.department [51|n51] @a.csv:2", "load hr.department [52|n52] @a.csv:3"})

	r = drain(t, newSource(t, o, inCDC), 0)
	if len(r.events) != 0 || len(r.rejects) != 1 || !strings.Contains(r.rejects[0].Reason, "rewritten while it was being applied") {
		t.Fatalf("CDC file rewritten mid-way: events %q rejects %v", r.events, rejectLines(r.rejects))
	}
}
