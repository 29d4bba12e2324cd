package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/source/postgres/pgrepl"
	"github.com/sluicedata/sluice/tabledefs"
)

// pgEnv is a table, publication and slot unique to one test, dropped at
// its end.
type pgEnv struct {
	t                *testing.T
	dsn              string
	db               *pgx.Conn
	table, pub, slot string
}

func newPGEnv(t *testing.T, columns string) *pgEnv {
	t.Helper()
	dsn := os.Getenv("PG_DSN")
	if dsn == "" {
		t.Skip("PG_DSN not set")
	}
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	sfx := fmt.Sprintf("%d", time.Now().UnixNano())
	e := &pgEnv{t: t, dsn: dsn, db: db, table: "src_" + sfx, pub: "src_pub_" + sfx, slot: "src_slot_" + sfx}
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := db.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, e.slot)
			if err == nil || time.Now().After(deadline) {
				if err != nil {
					t.Errorf("dropping slot: %v", err)
				}
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		e.exec(`DROP PUBLICATION IF EXISTS ` + e.pub)
		e.exec(`DROP TABLE IF EXISTS ` + e.table)
		db.Close(ctx)
	})
	e.exec(fmt.Sprintf(`CREATE TABLE %s (%s)`, e.table, columns))
	return e
}

func (e *pgEnv) exec(sqls ...string) {
	e.t.Helper()
	for _, sql := range sqls {
		if _, err := e.db.Exec(context.Background(), sql); err != nil {
			e.t.Fatalf("%s: %v", sql, err)
		}
	}
}

// tx runs statements in one transaction; %T in them is the table name.
func (e *pgEnv) tx(stmts ...string) {
	e.t.Helper()
	e.exec("BEGIN")
	for _, s := range stmts {
		e.exec(strings.ReplaceAll(s, "%T", e.table))
	}
	e.exec("COMMIT")
}

func (e *pgEnv) describe() *tabledefs.Table {
	e.t.Helper()
	ts, err := Describe(context.Background(), e.db, []string{"public." + e.table}, TypeOptions{})
	if err != nil || len(ts) != 1 {
		e.t.Fatalf("Describe = %v, %v", ts, err)
	}
	all, err := Describe(context.Background(), e.db, nil, TypeOptions{})
	found := false
	for _, t := range all {
		found = found || t.Owner == "public" && t.Name == e.table
	}
	if err != nil || !found {
		e.t.Fatalf("Describe(no patterns) lacks public.%s: %v", e.table, err)
	}
	return &ts[0]
}

func (e *pgEnv) confirmed() string {
	e.t.Helper()
	var l *string
	if err := e.db.QueryRow(context.Background(), `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, e.slot).Scan(&l); err != nil {
		e.t.Fatal(err)
	}
	if l == nil {
		return ""
	}
	return *l
}

// waitConfirmed polls until the slot's confirmed_flush_lsn is want.
func (e *pgEnv) waitConfirmed(want string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.confirmed() != want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.confirmed(); got != want {
		e.t.Fatalf("confirmed_flush_lsn = %s, want %s", got, want)
	}
}

func (e *pgEnv) open(opts Options, resume source.Position) *Source {
	e.t.Helper()
	opts.ConnString, opts.SlotName, opts.PublicationName = e.dsn, e.slot, e.pub
	opts.TrimSpaceInChar = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := New(ctx, opts, resume)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// collect reads batches until n events arrived (or ErrDone), returning the
// events (copied) and the position of the last batch read.
func collect(t *testing.T, s *Source, n int) ([]source.Event, []source.Reject, source.Position) {
	evs, rjs, _, pos := collectAll(t, s, n)
	return evs, rjs, pos
}

func collectAll(t *testing.T, s *Source, n int) ([]source.Event, []source.Reject, []string, source.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var evs []source.Event
	var rjs []source.Reject
	var pos source.Position
	var completed []string
	midTx := func() bool { p, err := decodePosition(pos); return err == nil && p.Tx != "" }
	for len(evs) < n || midTx() { // a whole number of transactions
		b, err := s.Next(ctx)
		if errors.Is(err, source.ErrDone) {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d events: %v", len(evs), err)
		}
		evs = append(evs, b.Events...)
		rjs = append(rjs, b.Rejects...)
		completed = append(completed, b.Completed...)
		if b.Pos != nil {
			pos = b.Pos
		}
	}
	return evs, rjs, completed, pos
}

func render(t *tabledefs.Table, ev source.Event) string {
	var b strings.Builder
	b.WriteString(ev.Op.String())
	for i, v := range ev.Values {
		b.WriteByte(' ')
		if v.IsNull() {
			if contains2(ev.Unchanged, i) {
				b.WriteString("UNCHANGED")
			} else {
				b.WriteString("NULL")
			}
			continue
		}
		b.Write(tabledefs.AppendText(nil, v, &t.Columns[i]))
	}
	return b.String()
}

func contains2(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestIntegrationSnapshotThenCDC(t *testing.T) {
	e := newPGEnv(t, `id int PRIMARY KEY, i2 smallint, i8 bigint, n numeric(10,2), r float8, b bool,
		ts timestamp(3), tstz timestamptz, d date, tm time, c char(5), vc varchar(10), tx text, by bytea,
		m money, j jsonb, u uuid, big text`)
	e.exec(fmt.Sprintf(`ALTER TABLE %s ALTER COLUMN big SET STORAGE EXTERNAL`, e.table))
	e.tx(`INSERT INTO %T VALUES (1, -2, 9007199254740993, 12.50, 1.5, true, '2024-01-02 03:04:05.678',
		'2024-01-02 03:04:05+02', '2024-02-29', '23:59:59.5', 'ab', 'héllo', 'line
two', '\x00ff', '-1234.5', '{"a": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', repeat('x', 3000))`,
		`INSERT INTO %T (id) VALUES (2), (3)`)
	tbl := e.describe()
	s := e.open(Options{Tables: []*tabledefs.Table{tbl}, FullLoad: true, CDC: true, BatchSize: 2}, nil)
	defer s.Close()
	consistent := e.confirmed()

	evs, rjs, completed, pos := collectAll(t, s, 3)
	if len(rjs) != 0 {
		t.Fatalf("rejects: %+v", rjs)
	}
	want := []string{
		`load 1 -2 9007199254740993 12.50 1.5 true 2024-01-02 03:04:05.678 2024-01-02 01:04:05.000000 2024-02-29 23:59:59.500000 ab héllo line
two 00FF -1234.5000 {"a": 1} a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ` + strings.Repeat("x", 3000),
		`load 2 NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL`,
		`load 3 NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL`,
	}
	checkEvents(t, tbl, evs, want)
	// The batch with the last row ends the load and switches to CDC.
	if len(completed) != 1 || completed[0] != "public."+e.table {
		t.Fatalf("Completed = %v (pos %s)", completed, pos)
	}
	p, _ := decodePosition(pos)
	if p.Phase != phaseCDC || p.LSN != consistent {
		t.Fatalf("position after the load = %s, want cdc at %s", pos, consistent)
	}

	e.tx(`INSERT INTO %T (id, tx) VALUES (4, 'four')`)
	e.tx(`UPDATE %T SET i2 = 7 WHERE id = 1`, `DELETE FROM %T WHERE id = 2`, `UPDATE %T SET id = 5 WHERE id = 3`)
	evs, _, pos = collect(t, s, 4)
	checkEvents(t, tbl, evs, []string{
		`insert 4 NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL four NULL NULL NULL NULL NULL`,
		`update 1 7 9007199254740993 12.50 1.5 true 2024-01-02 03:04:05.678 2024-01-02 01:04:05.000000 2024-02-29 23:59:59.500000 ab héllo line
two 00FF -1234.5000 {"a": 1} a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 UNCHANGED`,
		`delete 2 NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL`,
		`update 5 NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL`,
	})
	if evs[1].TxID == "" || evs[1].TxID != evs[2].TxID || evs[0].TxID == evs[1].TxID {
		t.Errorf("TxIDs %q %q %q", evs[0].TxID, evs[1].TxID, evs[2].TxID)
	}
	if evs[1].Origin != evs[3].Origin || evs[1].Seq != 1 || evs[2].Seq != 2 || evs[3].Seq != 3 || evs[1].CommitTime.IsZero() {
		t.Errorf("origin/seq: %s:%d %s:%d %s:%d", evs[1].Origin, evs[1].Seq, evs[2].Origin, evs[2].Seq, evs[3].Origin, evs[3].Seq)
	}
	if evs[3].Before == nil || evs[3].Before[0].Int64() != 3 {
		t.Errorf("key-changing update: Before = %v", evs[3].Before)
	}
	// Nothing was committed: the server must still hold everything.
	time.Sleep(600 * time.Millisecond)
	if got := e.confirmed(); got != consistent {
		t.Fatalf("confirmed_flush_lsn moved to %s without a Commit (consistent point %s)", got, consistent)
	}
	p, _ = decodePosition(pos)
	if p.Phase != phaseCDC || p.Tx != "" {
		t.Fatalf("position after whole transactions = %s", pos)
	}
	if err := s.Commit(context.Background(), pos); err != nil {
		t.Fatal(err)
	}
	e.waitConfirmed(p.LSN)

	// A restart from a committed position delivers what came after it.
	e.tx(`INSERT INTO %T (id) VALUES (6)`)
	evs, _, _ = collect(t, s, 1)
	checkEvents(t, tbl, evs, []string{`insert 6 NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL`})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := e.open(Options{Tables: []*tabledefs.Table{tbl}, FullLoad: true, CDC: true}, pos)
	defer s2.Close()
	evs, _, _ = collect(t, s2, 1)
	checkEvents(t, tbl, evs, []string{`insert 6 NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL NULL`})
}

func TestIntegrationMidTransactionResume(t *testing.T) {
	e := newPGEnv(t, `id int PRIMARY KEY, v text`)
	tbl := e.describe()
	s := e.open(Options{Tables: []*tabledefs.Table{tbl}, CDC: true, BatchSize: 2}, nil)
	defer s.Close()
	e.tx(`INSERT INTO %T VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')`, `TRUNCATE %T`)
	ctx := context.Background()
	b, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 2 {
		t.Fatalf("first batch: %d events", len(b.Events))
	}
	p, _ := decodePosition(b.Pos)
	if p.Tx == "" || p.TxSeq != 2 {
		t.Fatalf("mid-transaction position = %s", b.Pos)
	}
	if err := s.Commit(ctx, b.Pos); err != nil {
		t.Fatal(err)
	}
	// Committing part of a transaction confirms only what precedes it.
	s.Close() // sends a last status update
	e.waitConfirmed(p.LSN)
	tx, _ := pgrepl.ParseLSN(p.Tx)
	if p.lsn() >= tx {
		t.Fatalf("mid-transaction position %s confirms the transaction itself", b.Pos)
	}

	s2 := e.open(Options{Tables: []*tabledefs.Table{tbl}, CDC: true}, b.Pos)
	defer s2.Close()
	evs, _, pos := collect(t, s2, 4)
	checkEvents(t, tbl, evs, []string{"insert 3 c", "insert 4 d", "insert 5 e", "truncate"})
	if evs[0].Seq != 3 || evs[3].Seq != 6 {
		t.Errorf("seqs %d..%d, want 3..6", evs[0].Seq, evs[3].Seq)
	}
	if err := s2.Commit(ctx, pos); err != nil {
		t.Fatal(err)
	}
	p, _ = decodePosition(pos)
	e.waitConfirmed(p.LSN)
}

func TestIntegrationOnce(t *testing.T) {
	e := newPGEnv(t, `id int PRIMARY KEY`)
	tbl := e.describe()
	// Create the slot first (CDC-only tasks may use an existing slot).
	s := e.open(Options{Tables: []*tabledefs.Table{tbl}, CDC: true}, nil)
	s.Close()
	e.tx(`INSERT INTO %T VALUES (1)`)
	e.tx(`INSERT INTO %T VALUES (2)`)
	s = e.open(Options{Tables: []*tabledefs.Table{tbl}, CDC: true, Once: true}, nil)
	defer s.Close()
	evs, _, _ := collect(t, s, 100) // stops at ErrDone
	checkEvents(t, tbl, evs, []string{"insert 1", "insert 2"})
	if _, err := s.Next(context.Background()); !errors.Is(err, source.ErrDone) {
		t.Errorf("Next after catching up: %v, want ErrDone", err)
	}
}

func TestIntegrationExistingSlotRefused(t *testing.T) {
	e := newPGEnv(t, `id int PRIMARY KEY`)
	tbl := e.describe()
	s := e.open(Options{Tables: []*tabledefs.Table{tbl}, CDC: true}, nil)
	s.Close()
	_, err := New(context.Background(), Options{ConnString: e.dsn, SlotName: e.slot, PublicationName: e.pub,
		Tables: []*tabledefs.Table{tbl}, FullLoad: true, CDC: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("New with an existing slot for a new full load: %v", err)
	}
	// A publication without the table is refused.
	e.exec(`ALTER PUBLICATION ` + e.pub + ` DROP TABLE ` + e.table)
	_, err = New(context.Background(), Options{ConnString: e.dsn, SlotName: e.slot, PublicationName: e.pub,
		Tables: []*tabledefs.Table{tbl}, CDC: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "is not in publication") {
		t.Fatalf("New with a publication lacking the table: %v", err)
	}
	e.exec(`ALTER PUBLICATION ` + e.pub + ` ADD TABLE ` + e.table)
	// A saved position from before the slot's confirmed point is refused.
	old := position{Phase: phaseCDC, Slot: e.slot, Publication: e.pub, LSN: pgrepl.LSN(1).String()}.encode()
	_, err = New(context.Background(), Options{ConnString: e.dsn, SlotName: e.slot, PublicationName: e.pub,
		Tables: []*tabledefs.Table{tbl}, CDC: true}, old)
	if err == nil || !strings.Contains(err.Error(), "consumed elsewhere") {
		t.Fatalf("New with a stale position: %v", err)
	}
}

func checkEvents(t *testing.T, tbl *tabledefs.Table, evs []source.Event, want []string) {
	t.Helper()
	var got []string
	for _, ev := range evs {
		got = append(got, render(tbl, ev))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIntegrationSnapshotResume(t *testing.T) {
	e := newPGEnv(t, `region text, n int, v text, PRIMARY KEY (region, n)`)
	e.tx(`INSERT INTO %T VALUES ('eu', 2, 'c'), ('eu', 10, 'd'), ('us', 1, 'e'), ('ap', 1, 'a'), ('ap', 2, 'b')`)
	tbl := e.describe()
	s := e.open(Options{Tables: []*tabledefs.Table{tbl}, FullLoad: true, BatchSize: 2}, nil)
	b, err := s.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, tbl, b.Events, []string{"load ap 1 a", "load ap 2 b"})
	p, _ := decodePosition(b.Pos)
	if p.Phase != phaseSnapshot || p.Table != "public."+e.table || strings.Join(p.After, ",") != "ap,2" || p.Rows != 2 {
		t.Fatalf("position %s", b.Pos)
	}
	s.Close()
	s2 := e.open(Options{Tables: []*tabledefs.Table{tbl}, FullLoad: true, BatchSize: 2}, b.Pos)
	defer s2.Close()
	evs, _, completed, _ := collectAll(t, s2, 100)
	checkEvents(t, tbl, evs, []string{"load eu 2 c", "load eu 10 d", "load us 1 e"})
	if evs[0].Seq != 3 || len(completed) != 1 {
		t.Errorf("seq %d, completed %v", evs[0].Seq, completed)
	}
}

// TestIntegrationIdleSlotAdvances: with no captured change at all, the
// heartbeat's WAL reaches the slot as a position the runner can commit.
func TestIntegrationIdleSlotAdvances(t *testing.T) {
	e := newPGEnv(t, `id int PRIMARY KEY`)
	tbl := e.describe()
	s := e.open(Options{Tables: []*tabledefs.Table{tbl}, CDC: true, HeartbeatFrequency: 100 * time.Millisecond,
		StatusInterval: 200 * time.Millisecond}, nil)
	defer s.Close()
	start := e.confirmed()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		b, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Events) != 0 {
			t.Fatalf("events on an idle table: %+v", b.Events)
		}
		if b.Pos == nil {
			continue
		}
		p, _ := decodePosition(b.Pos)
		if p.LSN == start {
			continue
		}
		if e.confirmed() != start {
			t.Fatal("the slot advanced before Commit")
		}
		if err := s.Commit(ctx, b.Pos); err != nil {
			t.Fatal(err)
		}
		e.waitConfirmed(p.LSN)
		return
	}
	t.Fatal("no position beyond the slot's start was offered")
}
