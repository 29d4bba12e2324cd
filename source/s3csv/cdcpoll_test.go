package s3csv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// Polls list only the keys after the latest file (StartAfter); every
// fullListEvery-th poll lists the whole folder, which is how late files
// are still found.
func TestCDCPollListsAfterLatestFile(t *testing.T) {
	bk := buckets(t)[0]
	for i := 1; i <= 3; i++ {
		bk.put(t, fmt.Sprintf("f/cdc/C%d.csv", i), []byte(fmt.Sprintf("I,employee,hr,%d,a,,\n", i)))
	}
	h := &hookS3{S3API: bk.client}
	o := cdcOptions(bk, employeeTable())
	o.Client, o.Once, o.PollInterval = h, false, time.Millisecond
	src := newSource(t, o, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inserts := 0
	for inserts < 3 {
		b, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Events {
			if e.Op == source.OpInsert {
				inserts++
			}
		}
	}
	for len(h.listed("f/cdc/")) < 2*fullListEvery+1 {
		time.Sleep(5 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatal("too few polls")
		}
	}
	for i, in := range h.listed("f/cdc/")[:2*fullListEvery+1] {
		want := "f/cdc/C3.csv"
		if i%fullListEvery == 0 {
			want = ""
		}
		if got := aws.ToString(in.StartAfter); got != want {
			t.Errorf("poll %d listed after %q, want %q", i, got, want)
		}
	}
}

// The position does not grow with the number of CDC files kept in the
// folder: files older than the window below the newest are left out of
// it, yet a late file is still reported and old applied files are not.
func TestCDCSeenStaysBounded(t *testing.T) {
	bk := buckets(t)[1]
	dir := strings.TrimPrefix(bk.name, "file://")
	// Backdate with mtimes: a local directory's LastModified is normally
	// the change time, which a test cannot set back.
	fileTime = func(info fs.FileInfo) time.Time { return info.ModTime() }
	t.Cleanup(func() { fileTime = changeTime })
	old := time.Now().Add(-3 * seenWindow)
	for i := range 200 {
		key := fmt.Sprintf("f/cdc/A%04d.csv", i*2)
		bk.put(t, key, []byte(fmt.Sprintf("I,employee,hr,%d,a,,\n", i)))
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(key)), old, old); err != nil {
			t.Fatal(err)
		}
	}
	bk.put(t, "f/cdc/B1.csv", []byte("I,employee,hr,1001,b,,\n"))
	o := cdcOptions(bk, employeeTable())
	r := drain(t, newSource(t, o, nil), 0)
	if len(r.events) != 202 { // create-table + 201 inserts
		t.Fatalf("%d events", len(r.events))
	}
	pos := r.positions[len(r.positions)-1]
	var p position
	if err := json.Unmarshal(pos, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.CDC.Seen) != 1 || p.CDC.Seen["f/cdc/B1.csv"] == "" || len(pos) > 400 {
		t.Fatalf("position (%d bytes): %s", len(pos), pos)
	}
	// A late file (new, sorting before B1.csv) is reported; the old ones
	// that were applied are not.
	bk.put(t, "f/cdc/A0003.csv", []byte("I,employee,hr,3,late,,\n"))
	r = drain(t, newSource(t, o, pos), 0)
	if len(r.events) != 0 || len(r.rejects) != 1 || !strings.Contains(r.rejects[0].Position, "A0003.csv") {
		t.Fatalf("second run: %q %q", r.events, rejectLines(r.rejects))
	}
	// Reported once.
	r = drain(t, newSource(t, o, r.positions[len(r.positions)-1]), 0)
	if len(r.events)+len(r.rejects) != 0 {
		t.Fatalf("third run: %q %q", r.events, rejectLines(r.rejects))
	}
}

// ExpectedBucketOwner goes with every request.
func TestExpectedBucketOwner(t *testing.T) {
	bk := buckets(t)[0]
	bk.put(t, "f/hr/department/a.csv", []byte(rowsCSV(0, 5)))
	bk.put(t, "f/cdc/1.csv", []byte(rowsCSV(10, 5, "I,department,hr,")))
	h := &hookS3{S3API: bk.client}
	o := bk.options(Options{Folder: "f", CdcPath: "cdc", FullLoad: true, CDC: true, Once: true, Rfc4180: true,
		Tables: []*tabledefs.Table{departmentTable()}, ExpectedBucketOwner: "111122223333"})
	o.Client = h
	if r := drain(t, newSource(t, o, nil), 0); len(r.events) != 12 {
		t.Fatalf("events %q", r.events)
	}
	if len(h.lists) == 0 || len(h.gets) != 2 {
		t.Fatalf("%d lists, %d gets", len(h.lists), len(h.gets))
	}
	for _, in := range h.lists {
		if aws.ToString(in.ExpectedBucketOwner) != "111122223333" {
			t.Errorf("ListObjectsV2 %s without ExpectedBucketOwner", aws.ToString(in.Prefix))
		}
	}
	for _, in := range h.gets {
		if aws.ToString(in.ExpectedBucketOwner) != "111122223333" {
			t.Errorf("GetObject %s without ExpectedBucketOwner", aws.ToString(in.Key))
		}
	}
}

// Progress reports bytes against the listed object sizes and rows; the
// CDC files' LastModified gives the age of the changes.
func TestProgress(t *testing.T) {
	bk := buckets(t)[1]
	a := []byte(rowsCSV(0, 3000))
	b := gz(t, rowsCSV(5000, 2000))
	bk.put(t, "f/hr/department/a.csv", a)
	bk.put(t, "f/hr/department/b.csv.gz", b)
	bk.put(t, "f/cdc/1.csv", []byte(rowsCSV(10, 5, "I,department,hr,")))
	total := int64(len(a) + len(b))
	o := bk.options(Options{Folder: "f", CdcPath: "cdc", FullLoad: true, CDC: true, Once: true, Rfc4180: true,
		Tables: []*tabledefs.Table{departmentTable(), employeeTable()}, BatchRows: 100, MaxSubTasks: 1})
	src := newSource(t, o, nil)
	drain(t, src, 3)
	p := src.Progress()
	if len(p) != 2 || p[0].Table != "hr.department" || p[1].Table != "hr.employee" {
		t.Fatalf("progress %+v", p)
	}
	if p[0].BytesTotal != total || p[0].BytesDone <= 0 || p[0].BytesDone >= total || p[0].Rows <= 0 || p[0].Rows >= 5000 {
		t.Errorf("during the load: %+v (total %d)", p[0], total)
	}
	if !src.LatestChangeTime().IsZero() {
		t.Errorf("LatestChangeTime before CDC: %v", src.LatestChangeTime())
	}
	drain(t, src, 0)
	p = src.Progress()
	if p[0].BytesTotal != total || p[0].BytesDone != total || p[0].Rows != 5000 {
		t.Errorf("after the load: %+v (total %d)", p[0], total)
	}
	if lt := src.LatestChangeTime(); time.Since(lt) > time.Minute || time.Since(lt) < 0 {
		t.Errorf("LatestChangeTime %v", lt)
	}
}

// "table loaded" is the runner's line; the source logs it at debug only.
func TestNoTableLoadedInfoLine(t *testing.T) {
	bk := buckets(t)[1]
	bk.put(t, "hr/department/a.csv", []byte(rowsCSV(0, 5)))
	var buf bytes.Buffer
	o := bk.options(Options{FullLoad: true, Rfc4180: true, Tables: []*tabledefs.Table{departmentTable()},
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	drain(t, newSource(t, o, nil), 0)
	if strings.Contains(buf.String(), "table loaded") {
		t.Errorf("log:\n%s", buf.String())
	}
}

// A file copied into a local CDC folder with its old modification time kept
// (cp -p, rsync -t) still counts as new: its change time says when it came.
func TestLateFileWithOldMtimeIsReported(t *testing.T) {
	bk := buckets(t)[1]
	dir := strings.TrimPrefix(bk.name, "file://")
	bk.put(t, "f/cdc/B1.csv", []byte("I,employee,hr,1001,b,,\n"))
	o := cdcOptions(bk, employeeTable())
	r := drain(t, newSource(t, o, nil), 0)
	pos := r.positions[len(r.positions)-1]
	bk.put(t, "f/cdc/A0001.csv", []byte("I,employee,hr,1,late,,\n"))
	old := time.Now().Add(-100 * seenWindow)
	if err := os.Chtimes(filepath.Join(dir, "f", "cdc", "A0001.csv"), old, old); err != nil {
		t.Fatal(err)
	}
	r = drain(t, newSource(t, o, pos), 0)
	if len(r.events) != 0 || len(r.rejects) != 1 || !strings.Contains(r.rejects[0].Position, "A0001.csv") {
		t.Fatalf("late file with an old mtime: events %v, rejects %q", r.events, rejectLines(r.rejects))
	}
}
