package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/source/postgres/pgrepl"
)

// describeTables reads the PostgreSQL types of the selected tables' columns.
func (s *Source) describeTables(ctx context.Context, db *pgx.Conn) ([]*relInfo, error) {
	var pats []string
	for _, t := range s.opts.Tables {
		pats = append(pats, likeEscape(t.Owner)+"."+likeEscape(t.Name))
	}
	if len(pats) == 0 {
		return nil, errors.New("postgres source: no table selected")
	}
	found, err := describe(ctx, db, pats, TypeOptions{})
	if err != nil {
		return nil, err
	}
	byName := map[[2]string]*relInfo{}
	for _, ri := range found {
		byName[[2]string{ri.table.Owner, ri.table.Name}] = ri
	}
	var out []*relInfo
	for _, t := range s.opts.Tables {
		cat := byName[[2]string{t.Owner, t.Name}]
		if cat == nil {
			return nil, fmt.Errorf("table %s.%s does not exist", t.Owner, t.Name)
		}
		ri := &relInfo{table: t, replident: cat.replident, oids: make([]uint32, len(t.Columns)), pgTypes: make([]string, len(t.Columns))}
		for i, c := range t.Columns {
			k := cat.table.ColumnIndex(c.Name)
			if k < 0 {
				return nil, fmt.Errorf("table %s.%s has no column %s", t.Owner, t.Name, c.Name)
			}
			ri.oids[i], ri.pgTypes[i] = cat.oids[k], cat.pgTypes[k]
		}
		out = append(out, ri)
	}
	return out, nil
}

func (s *Source) ensurePublication(ctx context.Context, db *pgx.Conn) error {
	var exists bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)`, s.opts.PublicationName).Scan(&exists); err != nil {
		return fmt.Errorf("looking up publication %s: %w", s.opts.PublicationName, err)
	}
	if exists {
		return s.checkPublication(ctx, db)
	}
	names := make([]string, len(s.infos))
	for i, ri := range s.infos {
		names[i] = qualified(ri.table)
	}
	sql := "CREATE PUBLICATION " + pgx.Identifier{s.opts.PublicationName}.Sanitize() + " FOR TABLE " + strings.Join(names, ", ")
	if _, err := db.Exec(ctx, sql); err != nil {
		return fmt.Errorf("creating publication %s: %w", s.opts.PublicationName, err)
	}
	s.log.Info("created publication", "publication", s.opts.PublicationName, "tables", len(names))
	return nil
}

// checkPublication refuses a publication that leaves out a selected
// table: that table's changes would silently never arrive.
func (s *Source) checkPublication(ctx context.Context, db *pgx.Conn) error {
	rows, err := db.Query(ctx, `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`, s.opts.PublicationName)
	if err != nil {
		return fmt.Errorf("reading publication %s: %w", s.opts.PublicationName, err)
	}
	published := map[[2]string]bool{}
	var schema, table string
	if _, err := pgx.ForEachRow(rows, []any{&schema, &table}, func() error {
		published[[2]string{schema, table}] = true
		return nil
	}); err != nil {
		return fmt.Errorf("reading publication %s: %w", s.opts.PublicationName, err)
	}
	for _, ri := range s.infos {
		if !published[[2]string{ri.table.Owner, ri.table.Name}] {
			return fmt.Errorf("table %s is not in publication %s: its changes would not be captured (ALTER PUBLICATION %s ADD TABLE %s)",
				tableKey(ri.table), s.opts.PublicationName, s.opts.PublicationName, qualified(ri.table))
		}
	}
	return nil
}

type slotState struct {
	confirmed pgrepl.LSN
	plugin    string
}

func readSlot(ctx context.Context, db *pgx.Conn, name string) (*slotState, error) {
	var confirmed *string
	var plugin *string
	err := db.QueryRow(ctx, `SELECT confirmed_flush_lsn::text, plugin FROM pg_replication_slots
		WHERE slot_name = $1 AND database = current_database()`, name).Scan(&confirmed, &plugin)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up slot %s: %w", name, err)
	}
	st := &slotState{}
	if plugin != nil {
		st.plugin = *plugin
	}
	if st.plugin != "pgoutput" {
		return nil, fmt.Errorf("slot %s uses plugin %q; sluice decodes pgoutput only", name, st.plugin)
	}
	if confirmed != nil {
		if st.confirmed, err = pgrepl.ParseLSN(*confirmed); err != nil {
			return nil, fmt.Errorf("slot %s: %w", name, err)
		}
	}
	return st, nil
}
