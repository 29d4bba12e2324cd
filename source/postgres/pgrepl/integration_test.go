package pgrepl

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestIntegrationStream runs the whole protocol against PG_DSN: create a
// slot, make changes in transactions, stream and decode them, acknowledge,
// and check the server recorded exactly the acknowledged LSN.
func TestIntegrationStream(t *testing.T) {
	dsn := os.Getenv("PG_DSN")
	if dsn == "" {
		t.Skip("PG_DSN not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	sfx := fmt.Sprintf("%d", time.Now().UnixNano())
	table, pub, slot := "pgrepl_items_"+sfx, "pgrepl_pub_"+sfx, "pgrepl_slot_"+sfx
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	exec(t, db, fmt.Sprintf(`CREATE TABLE %s (id int PRIMARY KEY, name text, qty int, big text)`, table))
	// EXTERNAL storage moves a 3 kB value out of line uncompressed, so a
	// small value exercises the unchanged-TOAST path.
	exec(t, db, fmt.Sprintf(`ALTER TABLE %s ALTER COLUMN big SET STORAGE EXTERNAL`, table))
	exec(t, db, fmt.Sprintf(`CREATE PUBLICATION %s FOR TABLE %s`, pub, table))
	t.Cleanup(func() {
		exec(t, db, fmt.Sprintf(`DROP PUBLICATION IF EXISTS %s`, pub))
		exec(t, db, fmt.Sprintf(`DROP TABLE IF EXISTS %s`, table))
	})

	rc, err := Connect(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := IdentifySystem(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	if sys.Timeline < 1 || sys.WALPos == 0 || sys.Database == "" {
		t.Errorf("IDENTIFY_SYSTEM = %+v", sys)
	}
	s, err := CreateSlot(ctx, rc, slot, false, NoExportSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the connection's Close cleanup is added below, so it
	// runs once the walsender has let go of the slot.
	t.Cleanup(func() { dropSlotSQL(t, db, slot) })
	t.Cleanup(func() { rc.Close(context.Background()) })
	if s.Name != slot || s.Plugin != "pgoutput" || s.ConsistentPoint < sys.WALPos || s.Snapshot != "" {
		t.Errorf("CREATE_REPLICATION_SLOT = %+v (system %+v)", s, sys)
	}

	big := `repeat('x', 3000)`
	txs := [][]string{
		{fmt.Sprintf(`INSERT INTO %s VALUES (1, 'apple', 10, NULL), (2, 'pear', 20, NULL), (3, 'fig', 30, %s)`, table, big)},
		{fmt.Sprintf(`UPDATE %s SET qty = 11 WHERE id = 1`, table),
			fmt.Sprintf(`DELETE FROM %s WHERE id = 2`, table),
			fmt.Sprintf(`UPDATE %s SET id = 4 WHERE id = 1`, table),
			fmt.Sprintf(`UPDATE %s SET qty = 31 WHERE id = 3`, table)},
		{fmt.Sprintf(`TRUNCATE %s`, table)},
	}
	for _, tx := range txs {
		exec(t, db, "BEGIN")
		for _, q := range tx {
			exec(t, db, q)
		}
		exec(t, db, "COMMIT")
	}

	if err := StartReplication(ctx, rc, slot, s.ConsistentPoint, pub); err != nil {
		t.Fatal(err)
	}
	var (
		lines    []string
		payloads []string
		acked    LSN
		commits  int
		inTx     bool
		final    LSN
	)
	for commits < len(txs) {
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		msg, err := rc.ReceiveMessage(rctx)
		rcancel()
		if err != nil {
			t.Fatalf("receiving after %d commits: %v", commits, err)
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok {
			t.Fatalf("unexpected %T", msg)
		}
		f, err := ParseFrame(cd.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch f := f.(type) {
		case Keepalive:
			if f.ReplyNow {
				if err := SendStatus(rc, Status{Written: acked, Flushed: acked, Applied: acked}); err != nil {
					t.Fatal(err)
				}
			}
		case XLogData:
			payloads = append(payloads, hex.EncodeToString(f.Payload))
			m, err := Decode(f.Payload)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, Render(m))
			switch m := m.(type) {
			case Begin:
				if inTx {
					t.Error("Begin inside a transaction")
				}
				inTx, final = true, m.FinalLSN
			case Commit:
				if !inTx || m.CommitLSN != final {
					t.Errorf("Commit %s does not match Begin final LSN %s", m.CommitLSN, final)
				}
				inTx = false
				commits++
				// Acknowledge the first two transactions only: the server must
				// record exactly what was flushed, not what was received.
				if commits <= 2 {
					acked = m.EndLSN
					if err := SendStatus(rc, Status{Written: acked, Flushed: acked, Applied: acked}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		`Relation id=`, `"id":23/-1`, `Insert rel=`, `new=["1" "apple" "10" NULL]`,
		`new=["1" "apple" "11" NULL]`, // key unchanged: no old tuple
		`old(K)=["2" NULL NULL NULL]`, // delete: key only
		`old(K)=["1" NULL NULL NULL] new=["4" "apple" "11" NULL]`,
		`new=["3" "fig" "31" UNCHANGED]`, // TOASTed value not sent
		`Truncate options=0`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stream lacks %q:\n%s", want, got)
		}
	}
	if os.Getenv("PGOUTPUT_CAPTURE") != "" {
		capture := "# Captured from PostgreSQL " + rc.ParameterStatus("server_version") + " by TestIntegrationStream.\n" + strings.Join(payloads, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(fixtureDir, "pg15-session.hex"), []byte(capture), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The status update is asynchronous: poll until the server shows it.
	var confirmed string
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := db.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&confirmed); err != nil {
			t.Fatal(err)
		}
		if confirmed == acked.String() || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if confirmed != acked.String() {
		t.Errorf("confirmed_flush_lsn = %s, acknowledged %s", confirmed, acked)
	}
	if err := stopCopy(ctx, rc); err != nil {
		t.Error(err)
	}
}

// TestIntegrationCommands covers EXPORT_SNAPSHOT, temporary slots, DROP and
// the errors a bad START_REPLICATION returns.
func TestIntegrationCommands(t *testing.T) {
	dsn := os.Getenv("PG_DSN")
	if dsn == "" {
		t.Skip("PG_DSN not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := Connect(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close(ctx)
	slot := fmt.Sprintf("pgrepl_cmd_%d", time.Now().UnixNano())
	s, err := CreateSlot(ctx, rc, slot, true, ExportSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	if s.Snapshot == "" {
		t.Errorf("EXPORT_SNAPSHOT gave no snapshot name: %+v", s)
	}
	if err := DropSlot(ctx, rc, slot, false); err != nil {
		t.Fatal(err)
	}
	err = StartReplication(ctx, rc, slot, 0, "nope")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42704" {
		t.Errorf("START_REPLICATION on a dropped slot: %v, want SQLSTATE 42704", err)
	}
	if _, err := CreateSlot(ctx, rc, "bad-name", true, NoExportSnapshot); err == nil {
		t.Error("CreateSlot accepted an invalid name")
	}
}

// stopCopy ends the CopyBoth stream politely and drains to ReadyForQuery.
func stopCopy(ctx context.Context, rc *pgconn.PgConn) error {
	rc.Frontend().Send(&pgproto3.CopyDone{})
	if err := rc.Frontend().Flush(); err != nil {
		return err
	}
	for {
		msg, err := rc.ReceiveMessage(ctx)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(m)
		}
	}
}

func exec(t *testing.T, db *pgx.Conn, sql string) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dropSlotSQL drops a slot, retrying while its walsender is still exiting.
func dropSlotSQL(t *testing.T, db *pgx.Conn, slot string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := db.Exec(context.Background(), `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("dropping slot %s: %v", slot, err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
