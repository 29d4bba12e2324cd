package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/tabledefs"
)

// relInfo is what the source knows about one captured table beyond its
// tabledefs.Table: the PostgreSQL type of each column (for value decoding)
// and its replica identity.
type relInfo struct {
	table     *tabledefs.Table
	oids      []uint32 // per column, Table.Columns order
	pgTypes   []string // format_type(), for casting resume keys
	replident byte
}

// Describe reads the ordinary and partitioned tables matching patterns
// ("schema.table" with SQL LIKE wildcards % and _; none means every table
// outside the system schemas) and returns them as table definitions typed
// per the DMS type map, columns in attribute order, primary key marked.
func Describe(ctx context.Context, conn *pgx.Conn, patterns []string, o TypeOptions) ([]tabledefs.Table, error) {
	infos, err := describe(ctx, conn, patterns, o)
	if err != nil {
		return nil, err
	}
	out := make([]tabledefs.Table, len(infos))
	for i, ri := range infos {
		out[i] = *ri.table
	}
	return out, nil
}

func describe(ctx context.Context, conn *pgx.Conn, patterns []string, o TypeOptions) ([]*relInfo, error) {
	schemaPats, tablePats := []string{}, []string{} // not nil: pgx sends nil as NULL
	for _, p := range patterns {
		s, t, ok := strings.Cut(p, ".")
		if !ok {
			return nil, fmt.Errorf("table pattern %q: want schema.table", p)
		}
		schemaPats, tablePats = append(schemaPats, s), append(tablePats, t)
	}
	rows, err := conn.Query(ctx, `SELECT n.nspname, c.relname, c.relreplident::text,
		a.attname, t.typname, t.typtype::text, a.atttypmod, NOT a.attnotnull, a.atttypid,
		format_type(a.atttypid, a.atttypmod),
		COALESCE((SELECT true FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey)), false)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		  AND (cardinality($1::text[]) = 0 OR EXISTS (
		       SELECT 1 FROM unnest($1::text[], $2::text[]) p(s, t) WHERE n.nspname LIKE p.s AND c.relname LIKE p.t))
		ORDER BY n.nspname, c.relname, a.attnum`, schemaPats, tablePats)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	var (
		out                                []*relInfo
		schema, table, replident, col, typ string
		typtype, pgType                    string
		nullable, isPK                     bool
		typmod                             int32
		oid                                uint32
	)
	_, err = pgx.ForEachRow(rows, []any{&schema, &table, &replident, &col, &typ, &typtype, &typmod, &nullable, &oid, &pgType, &isPK}, func() error {
		var ri *relInfo
		if n := len(out); n > 0 && out[n-1].table.Owner == schema && out[n-1].table.Name == table {
			ri = out[n-1]
		} else {
			ri = &relInfo{table: &tabledefs.Table{Name: table, Owner: schema}}
			if replident != "" {
				ri.replident = replident[0]
			}
			out = append(out, ri)
		}
		c := ColumnFor(typ, typtype, typmod, o)
		c.Name, c.Nullable, c.IsPK = col, nullable, isPK
		ri.table.Columns = append(ri.table.Columns, c)
		ri.oids = append(ri.oids, oid)
		ri.pgTypes = append(ri.pgTypes, pgType)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	return out, nil
}

// qualified returns the quoted "schema"."table" of t.
func qualified(t *tabledefs.Table) string {
	return pgx.Identifier{t.Owner, t.Name}.Sanitize()
}

// tableKey is the "schema.table" name used in Batch.Completed.
func tableKey(t *tabledefs.Table) string { return t.Owner + "." + t.Name }
