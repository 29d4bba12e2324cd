package postgres

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/postgres/pgrepl"
	"github.com/sluicedata/sluice/tabledefs"
)

func txt(s string) pgrepl.TupleColumn {
	return pgrepl.TupleColumn{Kind: pgrepl.TupleText, Data: []byte(s)}
}

var (
	tNull      = pgrepl.TupleColumn{Kind: pgrepl.TupleNull}
	tUnchanged = pgrepl.TupleColumn{Kind: pgrepl.TupleUnchanged}
)

func testStream(tbl *tabledefs.Table) *stream {
	return &stream{
		tables:    map[[2]string]*tabledefs.Table{{tbl.Owner, tbl.Name}: tbl},
		trimChar:  true,
		out:       make(chan item, 100),
		committed: new(atomic.Uint64),
		kick:      make(chan struct{}, 1),
		interval:  time.Hour,
		log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		rels:      map[uint32]*relState{},
	}
}

func drain(s *stream) []item {
	var out []item
	for {
		select {
		case it := <-s.out:
			out = append(out, it)
		default:
			return out
		}
	}
}

// TestStreamMessages feeds decoded pgoutput messages through the stream's
// conversion without a server.
func TestStreamMessages(t *testing.T) {
	tbl := &tabledefs.Table{Owner: "public", Name: "items", Columns: []tabledefs.Column{
		{Name: "id", Type: tabledefs.TypeInt4, IsPK: true}, {Name: "name", Type: tabledefs.TypeClob, Nullable: true},
		{Name: "qty", Type: tabledefs.TypeInt4, Nullable: true}}}
	s := testStream(tbl)
	ctx := context.Background()
	commitTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	msgs := []pgrepl.Message{
		pgrepl.Begin{FinalLSN: 0x500, CommitTime: commitTime, Xid: 77},
		// Relation columns in another order, plus one the definition lacks.
		pgrepl.Relation{ID: 1, Namespace: "public", Name: "items", ReplicaIdentity: 'f', Columns: []pgrepl.RelationColumn{
			{Name: "qty", TypeOID: 23}, {Name: "extra", TypeOID: 25}, {Key: true, Name: "id", TypeOID: 23}, {Name: "name", TypeOID: 25}}},
		pgrepl.Relation{ID: 2, Namespace: "public", Name: "other", Columns: []pgrepl.RelationColumn{{Name: "x", TypeOID: 23}}},
		pgrepl.Insert{RelationID: 1, New: pgrepl.Tuple{txt("3"), txt("e"), txt("1"), txt("apple")}},
		pgrepl.Insert{RelationID: 2, New: pgrepl.Tuple{txt("1")}}, // not captured: counted, not delivered
		pgrepl.Update{RelationID: 1, OldKind: pgrepl.OldFull, Old: pgrepl.Tuple{txt("3"), tNull, txt("1"), txt("old name")},
			New: pgrepl.Tuple{txt("4"), tNull, txt("1"), tUnchanged}},
		pgrepl.Update{RelationID: 1, New: pgrepl.Tuple{txt("5"), tNull, txt("1"), tUnchanged}},
		pgrepl.Delete{RelationID: 1, OldKind: pgrepl.OldKey, Old: pgrepl.Tuple{tNull, tNull, txt("1"), tNull}},
		pgrepl.Insert{RelationID: 1, New: pgrepl.Tuple{txt("x"), tNull, txt("2"), tNull}}, // bad INT4
		pgrepl.Truncate{RelationIDs: []uint32{2, 1}},
		pgrepl.Commit{CommitLSN: 0x500, EndLSN: 0x530},
	}
	for _, m := range msgs {
		if err := s.message(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, it := range drain(s) {
		switch it.kind {
		case itemCommit:
			got = append(got, "commit "+it.lsn.String())
		case itemChange:
			if it.reject != nil {
				got = append(got, "reject "+it.reject.Position+" "+it.reject.Reason)
			}
			for _, ev := range it.events {
				if ev.TxID != "77" || !ev.CommitTime.Equal(commitTime) || ev.Origin != "0/500" || ev.Seq != it.seq {
					t.Errorf("event metadata %+v", ev)
				}
				line := render(tbl, ev)
				if ev.Before != nil {
					line += " before=" + render(tbl, source.Event{Op: ev.Op, Values: ev.Before})
				}
				got = append(got, line)
			}
		}
	}
	want := []string{
		"insert 1 apple 3",
		"update 1 old name 4 before=update 1 old name 3",
		"update 1 UNCHANGED 5",
		"delete 1 NULL NULL",
		`reject 0/500:6 column qty: "x" is not a valid INT4: unexpected character 'x'`,
		"truncate",
		"commit 0/530",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStreamSkipsDelivered checks the resume-inside-a-transaction skip.
func TestStreamSkipsDelivered(t *testing.T) {
	tbl := &tabledefs.Table{Owner: "public", Name: "t", Columns: []tabledefs.Column{{Name: "id", Type: tabledefs.TypeInt4}}}
	s := testStream(tbl)
	s.skipTx, s.skipSeq = 0x900, 2
	ctx := context.Background()
	for _, fin := range []pgrepl.LSN{0x900, 0xA00} {
		msgs := []pgrepl.Message{pgrepl.Begin{FinalLSN: fin},
			pgrepl.Relation{ID: 1, Namespace: "public", Name: "t", Columns: []pgrepl.RelationColumn{{Name: "id", TypeOID: 23}}}}
		for i := 1; i <= 3; i++ {
			msgs = append(msgs, pgrepl.Insert{RelationID: 1, New: pgrepl.Tuple{txt(string(rune('0' + i)))}})
		}
		msgs = append(msgs, pgrepl.Commit{CommitLSN: fin, EndLSN: fin + 0x30})
		for _, m := range msgs {
			if err := s.message(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	var seqs []int64
	for _, it := range drain(s) {
		if it.kind == itemChange {
			seqs = append(seqs, it.seq)
		}
	}
	if len(seqs) != 4 || seqs[0] != 3 || seqs[1] != 1 || seqs[3] != 3 {
		t.Fatalf("delivered seqs %v, want [3 1 2 3]", seqs)
	}
}
