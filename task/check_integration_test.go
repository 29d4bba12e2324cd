package task

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/jackc/pgx/v5"
)

// These tests run against the stand-ins of scripts/with-infra.sh and skip
// without them.

func checkIntegrationEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s not set (run under scripts/with-infra.sh)", name)
	}
	return v
}

func checkRandName(prefix string) string { return fmt.Sprintf("%s%06d", prefix, rand.IntN(1000000)) }

func TestCheckIntegrationS3(t *testing.T) {
	ep := checkIntegrationEnv(t, "S3_ENDPOINT")
	bucket := checkRandName("chk-")
	checkPutObjects(t, ep, bucket, "exports/sales/orders/1.csv", "exports/sales/customers/1.csv",
		"exports/cdc/1.csv", "state/chk/checkpoint.json")
	t.Setenv("AWS_ENDPOINT_URL_S3", ep)
	dir := t.TempDir()
	targets := []string{
		fmt.Sprintf(`{"EngineName": "s3", "EndpointUrl": %q, "S3Settings": {"BucketName": %q, "BucketFolder": "lake"}}`, ep, bucket),
		fmt.Sprintf(`{"EngineName": "file", "FileSettings": {"Path": %q}}`, filepath.Join(dir, "out.jsonl")),
	}
	cfg := checkConfig(t, "full-load-and-cdc", checkS3SourceJSON(ep, bucket, "exports"), targets, "s3://"+bucket+"/state/chk")
	rs := CheckTask(context.Background(), cfg)
	if len(rs) != 10 {
		t.Errorf("%d checks, want 10:\n%s", len(rs), checkDump(rs))
	}
	for _, r := range rs {
		if !r.OK || r.Warning {
			t.Errorf("not passed:\n%s", checkDump(rs))
			break
		}
	}
	if last := rs[len(rs)-1]; !strings.Contains(last.Detail, "a checkpoint is there") {
		t.Errorf("state: %+v", last)
	}
}

func TestCheckIntegrationKinesis(t *testing.T) {
	ep := checkIntegrationEnv(t, "KINESIS_ENDPOINT")
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cl := kinesis.NewFromConfig(awsCfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(ep) })
	name := checkRandName("chk-")
	if _, err := cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
	})
	w := kinesis.NewStreamExistsWaiter(cl, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	kin := func(stream string) string {
		return fmt.Sprintf(`{"EngineName": "kinesis", "EndpointUrl": %q, "KinesisSettings": {"StreamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/%s"}}`, ep, stream)
	}
	cfg := checkConfig(t, "full-load", checkS3SourceJSON("", "file:///x", ""), []string{kin(name), kin(name + "-missing")}, "")
	cfg.SourceEndpoint, cfg.StateLocation = SourceEndpoint{}, ""
	rs := CheckTask(ctx, cfg)
	if len(rs) != 2 {
		t.Fatalf("got\n%s", checkDump(rs))
	}
	if r := rs[0]; !r.OK || !strings.Contains(r.Detail, "ACTIVE, 2 open shards") {
		t.Errorf("existing stream: %+v", r)
	}
	if r := rs[1]; r.OK || !strings.Contains(r.Detail, "does not exist") {
		t.Errorf("missing stream: %+v", r)
	}
}

func TestCheckIntegrationPostgres(t *testing.T) {
	dsn := checkIntegrationEnv(t, "PG_DSN")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := checkRandName("chk_")
	slot, otherSlot, pub, role := schema+"_slot", schema+"_td", schema+"_pub", schema+"_user"
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		for _, sql := range []string{
			"SELECT pg_drop_replication_slot('" + slot + "')", "SELECT pg_drop_replication_slot('" + otherSlot + "')",
			"DROP PUBLICATION IF EXISTS " + pub, "DROP SCHEMA " + schema + " CASCADE", "DROP ROLE IF EXISTS " + role,
		} {
			c.Exec(context.Background(), sql)
		}
	})
	exec("CREATE TABLE " + schema + ".with_pk (id int PRIMARY KEY, amount numeric(12,2), note text)")
	exec("CREATE TABLE " + schema + ".no_pk (id int, note text)")
	exec("CREATE TABLE " + schema + ".full_ident (id int, note text)")
	exec("ALTER TABLE " + schema + ".full_ident REPLICA IDENTITY FULL")
	exec("CREATE TABLE " + schema + ".unpublished (id int PRIMARY KEY)")
	exec("CREATE PUBLICATION " + pub + " FOR TABLE " + schema + ".with_pk, " + schema + ".no_pk, " + schema + ".full_ident")
	exec("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')")
	exec("SELECT pg_create_logical_replication_slot('" + otherSlot + "', 'test_decoding')")
	exec("CREATE ROLE " + role + " LOGIN")

	mappings := fmt.Sprintf(`{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
		"object-locator": {"schema-name": %q, "table-name": "%%"}, "rule-action": "include"},
		{"rule-type": "selection", "rule-id": "2", "rule-name": "2",
		"object-locator": {"schema-name": %q, "table-name": "with[_]pk"}, "rule-action": "include",
		"filters": [{"filter-type": "source", "column-name": "amount", "filter-conditions": [{"filter-operator": "gte", "value": "10"}]}]}]}`,
		schema, schema)
	pgCfg := func(migration, connString, slotName string) *Config {
		src := fmt.Sprintf(`{"EngineName": "postgres", "ConnectionString": %q,
			"PostgreSQLSettings": {"SlotName": %q, "PublicationName": %q}}`, connString, slotName, pub)
		cfg := checkConfig(t, migration, src, []string{`{"EngineName": "file", "FileSettings": {"Path": "o.jsonl"}}`}, "")
		cfg.TableMappings = ConfigDocument{File: "mappings.json", Path: "$", Data: []byte(mappings)}
		cfg.TargetEndpoints, cfg.StateLocation = nil, ""
		return cfg
	}
	type want struct {
		check string
		ok    bool
		sub   string
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	asRole := u.String()
	tests := []struct {
		name, migration, conn, slot string
		wants                       []want
	}{
		{"cdc as superuser", "full-load-and-cdc", dsn, slot, []want{
			{"connect", true, "PostgreSQL 1"},
			{"server version ≥ 10", true, ""},
			{"wal_level = logical", true, ""},
			{"replication slot available", true, "the task's slot exists"},
			{"WAL senders available", true, "max_wal_senders"},
			{"replication privilege", true, "superuser"},
			{"slot " + slot, true, "logical, pgoutput, not in use"},
			{"publication " + pub, true, "3 tables"},
			{"table mappings", true, "4 of "},
			{"table " + schema + ".full_ident", true, "REPLICA IDENTITY FULL"},
			{"table " + schema + ".no_pk", false, "no primary key and no replica identity"},
			{"table " + schema + ".unpublished", false, "not in publication " + pub},
			{"table " + schema + ".with_pk", true, "primary key (id)"},
		}},
		{"slot with another plugin", "cdc", dsn, otherSlot, []want{
			{"slot " + otherSlot, false, "uses the test_decoding plugin"},
		}},
		{"slot to create", "cdc", dsn, schema + "_new", []want{
			{"slot " + schema + "_new", true, "does not exist yet"},
		}},
		{"full load only: no replication checks", "full-load", dsn, slot, []want{
			{"connect", true, ""},
			{"server version ≥ 10", true, ""},
			{"table mappings", true, ""},
			{"table " + schema + ".full_ident", true, "no primary key"},
			{"table " + schema + ".no_pk", true, "no primary key"},
			{"table " + schema + ".unpublished", true, "primary key (id)"},
			{"table " + schema + ".with_pk", true, "primary key (id)"},
		}},
		{"user without privileges", "full-load-and-cdc", asRole, slot, []want{
			{"replication privilege", false, "has neither REPLICATION nor superuser"},
			{"table " + schema + ".with_pk", false, "no SELECT privilege"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := CheckTask(ctx, pgCfg(tt.migration, tt.conn, tt.slot))
			byCheck := map[string]CheckResult{}
			for _, r := range rs {
				byCheck[r.Check] = r
				if !strings.HasPrefix(r.Endpoint, "source postgres://") {
					t.Errorf("endpoint %q", r.Endpoint)
				}
			}
			if tt.migration == "full-load" && len(rs) != len(tt.wants) {
				t.Errorf("%d checks, want %d:\n%s", len(rs), len(tt.wants), checkDump(rs))
			}
			for _, w := range tt.wants {
				r, ok := byCheck[w.check]
				if !ok || r.OK != w.ok || !strings.Contains(r.Detail, w.sub) {
					t.Errorf("%s: want ok=%v containing %q; got\n%s", w.check, w.ok, w.sub, checkDump(rs))
				}
			}
		})
	}
	// A mapping naming a column the table lacks is reported against the catalog.
	cfg := pgCfg("cdc", dsn, slot)
	cfg.TableMappings.Data = []byte(strings.Replace(mappings, `"amount"`, `"amount_typo"`, 1))
	r := checkFind(t, CheckTask(ctx, cfg), "table mappings")
	if r.OK || !strings.Contains(r.Detail, "amount_typo") {
		t.Errorf("bad mapping: %+v", r)
	}
}
