package task

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/mapping"
	"github.com/sluicedata/sluice/source/postgres"
	"github.com/sluicedata/sluice/tabledefs"
)

// checkPGCatalog is the database's tables as a table definition, so that
// the table mappings compile against them exactly as they do against an
// external table definition.
type checkPGCatalog struct {
	def      *tabledefs.Definition
	info     map[[2]string]*checkPGTable
	selected []*checkPGTable
}

// checkPGTable is what the checks need to know about one table.
type checkPGTable struct {
	schema, name string
	replident    byte // pg_class.relreplident: d(efault), f(ull), i(ndex), n(othing)
	canSelect    bool
	pk           []string
}

// checkLoadPGCatalog reads the ordinary and partitioned tables outside the
// system schemas, with their columns typed as the PostgreSQL source maps
// them (dms-behaviour.md §4.8).
func checkLoadPGCatalog(ctx context.Context, conn *pgx.Conn, mapBoolean bool) (*checkPGCatalog, error) {
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, c.relreplident::text,
		has_table_privilege(c.oid, 'SELECT'),
		a.attname, t.typname, t.typtype::text, a.atttypmod, NOT a.attnotnull,
		COALESCE((SELECT true FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey)), false)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY n.nspname, c.relname, a.attnum`)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	cat := &checkPGCatalog{def: &tabledefs.Definition{}, info: map[[2]string]*checkPGTable{}}
	var (
		schema, table, replident, col, typ, typtype string
		canSelect, nullable, isPK                   bool
		typmod                                      int32
	)
	_, err = pgx.ForEachRow(rows, []any{&schema, &table, &replident, &canSelect, &col, &typ, &typtype, &typmod, &nullable, &isPK}, func() error {
		key := [2]string{schema, table}
		ti := cat.info[key]
		if ti == nil {
			ti = &checkPGTable{schema: schema, name: table, canSelect: canSelect}
			if replident != "" {
				ti.replident = replident[0]
			}
			cat.info[key] = ti
			cat.def.Tables = append(cat.def.Tables, tabledefs.Table{Name: table, Owner: schema})
		}
		c := checkPGColumn(typ, typtype, typmod, mapBoolean)
		c.Name, c.Nullable, c.IsPK = col, nullable, isPK
		t := &cat.def.Tables[len(cat.def.Tables)-1]
		t.Columns = append(t.Columns, c)
		if isPK {
			ti.pk = append(ti.pk, col)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	return cat, nil
}

// selectTables compiles the table mappings against the catalog and keeps
// the selected tables; it returns how many there are.
func (cat *checkPGCatalog) selectTables(cfg *Config) (int, error) {
	tm := cfg.TableMappings
	if tm.Data == nil {
		return 0, errors.New("no TableMappings")
	}
	opts := mapping.Options{TaskID: cfg.ReplicationTaskIdentifier}
	for _, t := range cfg.TargetEndpoints {
		if t.KinesisSettings != nil && t.EngineName == EngineKinesis {
			opts.PartitionIncludeSchemaTable = t.KinesisSettings.PartitionIncludeSchemaTable
			break
		}
	}
	m, err := mapping.Compile(tm.File, tm.Data, cat.def, opts)
	if err != nil {
		return 0, checkProblemsText(tm.Relocate(err))
	}
	for _, t := range m.Tables() {
		cat.selected = append(cat.selected, cat.info[[2]string{t.Owner, t.Name}])
	}
	if len(cat.selected) == 0 {
		return 0, errors.New("no table of the database matches the selection rules")
	}
	return len(cat.selected), nil
}

// checkPGColumn maps a PostgreSQL type to the DMS type the source gives it,
// with the source's own type map, so the mappings are checked against what
// `sluice run` will see.
func checkPGColumn(typ, typtype string, typmod int32, mapBoolean bool) tabledefs.Column {
	return postgres.ColumnFor(typ, typtype, typmod, postgres.TypeOptions{MapBooleanAsBoolean: mapBoolean})
}

// judge checks one selected table: the full load must be able to read it,
// and CDC must be able to tell its rows apart.
func (t *checkPGTable) judge(fullLoad, cdc bool, pubTables map[[2]string]bool, pubName string) (string, error) {
	qualified := pgx.Identifier{t.schema, t.name}.Sanitize()
	var detail string
	switch {
	case len(t.pk) > 0:
		detail = "primary key (" + strings.Join(t.pk, ", ") + ")"
	default:
		detail = "no primary key"
	}
	if fullLoad && !t.canSelect {
		return "", fmt.Errorf("no SELECT privilege: the full load cannot read it (GRANT SELECT ON %s TO the task's user)", qualified)
	}
	if !cdc {
		return detail, nil
	}
	switch {
	case t.replident == 'f':
		detail += ", REPLICA IDENTITY FULL"
	case t.replident == 'i':
		detail += ", REPLICA IDENTITY USING INDEX"
	case t.replident == 'd' && len(t.pk) > 0:
		detail += "; updates and deletes carry the old key only (REPLICA IDENTITY FULL for whole before-images)"
	case t.replident == 'n':
		return "", fmt.Errorf("REPLICA IDENTITY NOTHING: deletes and updates cannot be captured; ALTER TABLE %s REPLICA IDENTITY FULL", qualified)
	default:
		// Without a replica identity the server refuses UPDATE and DELETE
		// on a table that a publication publishes them for.
		return "", fmt.Errorf("no primary key and no replica identity: once published, UPDATE and DELETE on it fail on the server; add a primary key or ALTER TABLE %s REPLICA IDENTITY FULL", qualified)
	}
	if pubTables != nil && !pubTables[[2]string{t.schema, t.name}] {
		return "", fmt.Errorf("not in publication %s: its changes would not be captured (ALTER PUBLICATION %s ADD TABLE %s)",
			pubName, pgx.Identifier{pubName}.Sanitize(), qualified)
	}
	return detail, nil
}
