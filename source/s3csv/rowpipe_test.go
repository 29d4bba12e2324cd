package s3csv

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestRowPipeMatchesReader: the blocks rowPipe hands over hold the same
// fields and quoted flags, row by row, as reading directly, across enough
// rows that blocks are recycled (quoted flags must not leak between rows).
func TestRowPipeMatchesReader(t *testing.T) {
	var sb strings.Builder
	for i := range blockRows*20 + 7 {
		switch i % 7 {
		case 0:
			fmt.Fprintf(&sb, "%d,\"q,%d\",\"\",x\n", i, i)
		case 3:
			fmt.Fprintf(&sb, "%d,\"a\"\n", i) // fewer fields, quoted
		default:
			fmt.Fprintf(&sb, "%d,p%d,,y\n", i, i)
		}
	}
	data := sb.String()
	type row struct {
		fields []string
		quoted []bool
	}
	var want []row
	rd := newCSVReader(strings.NewReader(data), benchDialect)
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, row{slices.Clone(rec.Fields), slices.Clone(rec.Quoted)})
	}
	var got []row
	err := rowPipe(context.Background(), newCSVReader(strings.NewReader(data), benchDialect), func(b *rowBlock) error {
		fields, quoted := b.fields, b.quoted
		for _, r := range b.rows {
			got = append(got, row{slices.Clone(fields[:r.nf]), slices.Clone(quoted[:r.nf])})
			fields, quoted = fields[r.nf:], quoted[r.nf:]
		}
		if len(fields) != 0 || len(quoted) != 0 {
			t.Errorf("block has %d fields, %d quoted flags left over", len(fields), len(quoted))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].fields, want[i].fields) || !slices.Equal(got[i].quoted, want[i].quoted) {
			t.Fatalf("row %d: %q %v, want %q %v", i, got[i].fields, got[i].quoted, want[i].fields, want[i].quoted)
		}
	}
}
