package task

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestRunPostgresFileTarget runs a full-load-and-cdc task from PostgreSQL
// into the file target with --once, three times: the load, then changes,
// then nothing new; the slot's confirmed position follows the checkpoint.
func TestRunPostgresFileTarget(t *testing.T) {
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
	table, slot, pub := "e2e_items_"+sfx, "e2e_slot_"+sfx, "e2e_pub_"+sfx
	exec := func(sql string) {
		t.Helper()
		if _, err := db.Exec(ctx, strings.ReplaceAll(sql, "%T", table)); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		_, _ = db.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
		_, _ = db.Exec(ctx, `DROP PUBLICATION IF EXISTS `+pub)
		_, _ = db.Exec(ctx, `DROP TABLE IF EXISTS `+table)
		db.Close(ctx)
	})
	exec(`CREATE TABLE %T (sku text PRIMARY KEY, qty int, price numeric(8,2), live bool)`)
	exec(`INSERT INTO %T VALUES ('a', 1, 1.50, true), ('b', 2, NULL, false)`)

	dir := t.TempDir()
	task := `{
  "ReplicationTaskIdentifier": "pg-e2e",
  "MigrationType": "full-load-and-cdc",
  "SourceEndpoint": {"EngineName": "postgres", "ConnectionString": "` + dsn + `",
    "PostgreSQLSettings": {"SlotName": "` + slot + `", "PublicationName": "` + pub + `"}},
  "TargetEndpoints": [{"EngineName": "file", "FileSettings": {"Path": "out.jsonl"}}],
  "TableMappings": {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
    "object-locator": {"schema-name": "public", "table-name": "` + table + `"}, "rule-action": "include"}]}
}`
	writeFile(t, filepath.Join(dir, "task.json"), task)
	cfg, err := LoadConfig(filepath.Join(dir, "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	run := func() {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		res, err := Run(rctx, cfg, RunOptions{Once: true, Log: discardLog()})
		if err != nil || res.ExitCode() != ExitOK {
			t.Fatalf("%v %+v", err, res)
		}
	}
	run()
	want := "load:a,load:b"
	if got := strings.Join(dataOps(t, out), ","); got != want {
		t.Fatalf("first run wrote %s, want %s", got, want)
	}
	var first map[string]any
	for _, l := range readJSONLines(t, out) {
		d, _ := l["Data"].(map[string]any)
		if data, _ := d["data"].(map[string]any); data["sku"] == "a" {
			first = data
		}
	}
	if fmt.Sprint(first["qty"], " ", first["price"], " ", first["live"]) != "1 1.5 true" {
		t.Errorf("row a = %v", first)
	}

	exec(`INSERT INTO %T VALUES ('c', 3, 3.00, true)`)
	exec(`BEGIN`)
	exec(`UPDATE %T SET qty = 10 WHERE sku = 'a'`)
	exec(`DELETE FROM %T WHERE sku = 'b'`)
	exec(`COMMIT`)
	run()
	want += ",insert:c,update:a,delete:b"
	if got := strings.Join(dataOps(t, out), ","); got != want {
		t.Fatalf("second run: %s, want %s", got, want)
	}
	st, err := LoadStatus(ctx, cfg.StateLocation)
	if err != nil {
		t.Fatal(err)
	}
	var saved struct{ LSN string }
	if err := json.Unmarshal(st.Position, &saved); err != nil || saved.LSN == "" {
		t.Fatalf("saved source position %s: %v", st.Position, err)
	}
	var confirmed string
	if err := db.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&confirmed); err != nil {
		t.Fatal(err)
	}
	if confirmed != saved.LSN {
		t.Errorf("slot confirmed_flush_lsn %s, checkpoint %s", confirmed, saved.LSN)
	}

	run()
	if got := strings.Join(dataOps(t, out), ","); got != want {
		t.Fatalf("idle rerun resent: %s", got)
	}
}
