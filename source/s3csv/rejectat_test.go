package s3csv

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

// Batch.RejectAt tells the runner where each bad row sat among the good
// ones, so a table suspended by its first bad row still gets the rows read
// before it.
func TestBatchRejectAt(t *testing.T) {
	bk := buckets(t)[1]
	bk.put(t, "x/hr/employee/LOAD001.csv", []byte("1,a,,\n2,b,,\nbad,c,,\n4,d,,\nbad,e,,\n"))
	o := bk.options(Options{Folder: "x", FullLoad: true, Rfc4180: true, BatchRows: 100,
		Tables: []*tabledefs.Table{employeeTable()}})
	src := newSource(t, o, nil)
	var order []string
	for {
		b, err := src.Next(context.Background())
		if errors.Is(err, source.ErrDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b.RejectAt) != len(b.Rejects) {
			t.Fatalf("%d RejectAt entries for %d rejects", len(b.RejectAt), len(b.Rejects))
		}
		r := 0
		for i, e := range b.Events {
			for ; r < len(b.Rejects) && b.RejectAt[r] <= i; r++ {
				order = append(order, "reject")
			}
			if e.Op == source.OpLoad {
				order = append(order, fmt.Sprint(e.Values[0].Int64()))
			}
		}
		for ; r < len(b.Rejects); r++ {
			order = append(order, "reject")
		}
	}
	if got, want := fmt.Sprint(order), "[1 2 reject 4 reject]"; got != want {
		t.Fatalf("rows and rejects in batch order %s, want %s", got, want)
	}
}
