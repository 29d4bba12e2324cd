package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// checkPGMinVersion is the oldest server with the pgoutput plugin.
const checkPGMinVersion = 100000

// checkPostgresSource checks a PostgreSQL source: the connection, the
// server settings logical replication needs (for CDC tasks), the slot and
// publication when named, and every selected table. It only reads: it
// creates no slot and no publication.
func checkPostgresSource(ctx context.Context, r *checkRecorder, cfg *Config) {
	pg := cfg.SourceEndpoint.Postgres
	r.endpoint = "source postgres"
	connCfg, err := checkPGConfig(pg)
	if err != nil {
		r.fail("connect", err.Error())
		return
	}
	r.endpoint = fmt.Sprintf("source postgres://%s@%s/%s", connCfg.User,
		checkHostPort(connCfg.Host, connCfg.Port), connCfg.Database)
	// Whatever a driver error quotes, the password is never reported.
	if pw := connCfg.Password; pw != "" {
		defer func() {
			for i := range r.results {
				r.results[i].Detail = strings.ReplaceAll(r.results[i].Detail, pw, "********")
			}
		}()
	}

	var conn *pgx.Conn
	var s checkPGServer
	ok := r.run(ctx, "connect", func(ctx context.Context) (string, error) {
		c, err := pgx.ConnectConfig(ctx, connCfg)
		if err != nil {
			return "", err
		}
		conn = c
		if err := s.load(ctx, conn); err != nil {
			return "", err
		}
		return fmt.Sprintf("PostgreSQL %s, database %s as %s", s.version, s.database, s.user), nil
	})
	if !ok {
		return
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()

	r.run(ctx, "server version ≥ 10", func(context.Context) (string, error) {
		if s.versionNum < checkPGMinVersion {
			return "", fmt.Errorf("server is %s: logical decoding with pgoutput needs PostgreSQL 10 or later", s.version)
		}
		return s.version, nil
	})
	cdc := cfg.MigrationType.CDC()
	settings := pg.Settings
	if cdc {
		checkPGReplication(ctx, r, conn, &s, settings)
	}

	var cat *checkPGCatalog
	r.run(ctx, "table mappings", func(ctx context.Context) (string, error) {
		var err error
		cat, err = checkLoadPGCatalog(ctx, conn, settings.MapBooleanAsBoolean)
		if err != nil {
			return "", err
		}
		n, err := cat.selectTables(cfg)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d of %d tables in the database selected", n, len(cat.def.Tables)), nil
	})
	if cat == nil || len(cat.selected) == 0 {
		return
	}
	var pubTables map[[2]string]bool // nil: no publication to compare with
	if cdc && s.publication != nil && !s.publication.allTables {
		pubTables = s.publication.tables
	}
	for _, t := range cat.selected {
		r.run(ctx, "table "+t.schema+"."+t.name, func(context.Context) (string, error) {
			return t.judge(cfg.MigrationType.FullLoad(), cdc, pubTables, settings.PublicationName)
		})
	}
}

// checkPGConfig parses the connection settings. The password comes from the
// connection string or the environment (PGPASSWORD, ~/.pgpass), never from
// the task file.
func checkPGConfig(pg *PostgresEndpoint) (*pgx.ConnConfig, error) {
	cs := pg.ConnectionString
	if cs == "" {
		var parts []string
		add := func(k, v string) {
			if v != "" {
				v = strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `'`, `\'`)
				parts = append(parts, k+"='"+v+"'")
			}
		}
		add("host", pg.ServerName)
		if pg.Port != 0 {
			add("port", strconv.Itoa(pg.Port))
		}
		add("dbname", pg.DatabaseName)
		add("user", pg.Username)
		cs = strings.Join(parts, " ")
	}
	c, err := pgx.ParseConfig(cs)
	if err != nil {
		// The parse error quotes the string, password and all (redaction
		// is best effort): report only the cause.
		msg := "ConnectionString cannot be parsed"
		if u := errors.Unwrap(err); u != nil {
			msg += ": " + u.Error()
		}
		return nil, errors.New(msg)
	}
	return c, nil
}

func checkHostPort(host string, port uint16) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "/") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(int(port))
}

// checkPGServer is what the checks read about the server and the user.
type checkPGServer struct {
	version, database, user string
	versionNum              int
	walLevel                string
	maxSlots, usedSlots     int
	maxSenders, usedSenders int
	superuser, replication  bool
	rdsReplication          bool
	publication             *checkPGPublication // nil when not named or absent
}

func (s *checkPGServer) load(ctx context.Context, conn *pgx.Conn) error {
	err := conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('server_version_num')::int,
		current_database(), current_user, current_setting('wal_level'),
		current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_replication_slots)::int,
		current_setting('max_wal_senders')::int, (SELECT count(*) FROM pg_stat_replication)::int,
		r.rolsuper, r.rolreplication,
		COALESCE((SELECT pg_has_role(current_user, o.oid, 'MEMBER') FROM pg_roles o WHERE o.rolname = 'rds_replication'), false)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(
		&s.version, &s.versionNum, &s.database, &s.user, &s.walLevel,
		&s.maxSlots, &s.usedSlots, &s.maxSenders, &s.usedSenders,
		&s.superuser, &s.replication, &s.rdsReplication)
	if err != nil {
		return fmt.Errorf("reading server settings: %w", err)
	}
	return nil
}

// checkPGReplication checks what CDC needs from the server (dms-behaviour.md
// §4.1): wal_level, slots, WAL senders, the user's privilege, and the named
// slot and publication.
func checkPGReplication(ctx context.Context, r *checkRecorder, conn *pgx.Conn, s *checkPGServer, st PostgreSQLSettings) {
	r.run(ctx, "wal_level = logical", func(context.Context) (string, error) {
		if s.walLevel != "logical" {
			return "", fmt.Errorf("wal_level is %s: set wal_level = logical (on RDS: rds.logical_replication = 1) and restart the server", s.walLevel)
		}
		return "", nil
	})
	var slot *checkPGSlot
	slotOK := r.run(ctx, "replication slot available", func(ctx context.Context) (string, error) {
		if st.SlotName != "" {
			var err error
			if slot, err = checkLoadSlot(ctx, conn, st.SlotName); err != nil {
				return "", err
			}
		}
		inUse := fmt.Sprintf("max_replication_slots %d, %d in use", s.maxSlots, s.usedSlots)
		switch {
		case slot != nil:
			return inUse + "; the task's slot exists", nil
		case s.maxSlots == 0:
			return "", errors.New("max_replication_slots is 0: set it to at least the number of tasks and restart the server")
		case s.usedSlots >= s.maxSlots:
			return "", fmt.Errorf("%s: no slot is free for this task; raise max_replication_slots or drop an unused slot", inUse)
		}
		return inUse, nil
	})
	r.run(ctx, "WAL senders available", func(context.Context) (string, error) {
		inUse := fmt.Sprintf("max_wal_senders %d, %d in use", s.maxSenders, s.usedSenders)
		switch {
		case s.maxSenders == 0:
			return "", errors.New("max_wal_senders is 0: set it to at least the number of tasks and restart the server")
		case s.usedSenders >= s.maxSenders:
			return "", fmt.Errorf("%s: no WAL sender is free for this task", inUse)
		}
		return inUse, nil
	})
	privOK := r.run(ctx, "replication privilege", func(context.Context) (string, error) {
		switch {
		case s.superuser:
			return s.user + " is a superuser", nil
		case s.replication:
			return s.user + " has REPLICATION", nil
		case s.rdsReplication:
			return s.user + " is a member of rds_replication", nil
		}
		return "", fmt.Errorf("%s has neither REPLICATION nor superuser: ALTER ROLE %s REPLICATION (on RDS: GRANT rds_replication TO %s)",
			s.user, pgx.Identifier{s.user}.Sanitize(), pgx.Identifier{s.user}.Sanitize())
	})
	if st.SlotName != "" && slotOK {
		r.run(ctx, "slot "+st.SlotName, func(context.Context) (string, error) {
			if slot == nil {
				if !privOK || s.walLevel != "logical" {
					return "", errors.New("does not exist, and sluice run could not create it (see the checks above)")
				}
				return "", checkWarnf("does not exist yet: sluice run creates it (changes made before then are not captured)")
			}
			return slot.judge(s.database)
		})
	}
	if st.PublicationName != "" {
		r.run(ctx, "publication "+st.PublicationName, func(ctx context.Context) (string, error) {
			p, err := checkLoadPublication(ctx, conn, st.PublicationName)
			if err != nil {
				return "", err
			}
			if p == nil {
				return "", checkWarnf("does not exist yet: sluice run must create it (needs ownership of the selected tables)")
			}
			s.publication = p
			return p.judge()
		})
	}
}

// checkPGSlot is a row of pg_replication_slots.
type checkPGSlot struct {
	name, plugin, slotType, database, walStatus string
	active                                      bool
}

func checkLoadSlot(ctx context.Context, conn *pgx.Conn, name string) (*checkPGSlot, error) {
	sl := &checkPGSlot{name: name}
	// wal_status exists from PostgreSQL 13: read it through to_jsonb so one
	// query works on every version.
	err := conn.QueryRow(ctx, `SELECT COALESCE(plugin, ''), slot_type, COALESCE(database, ''), active,
		COALESCE(to_jsonb(s)->>'wal_status', '') FROM pg_replication_slots s WHERE slot_name = $1`, name).Scan(
		&sl.plugin, &sl.slotType, &sl.database, &sl.active, &sl.walStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading slot %s: %w", name, err)
	}
	return sl, nil
}

func (sl *checkPGSlot) judge(database string) (string, error) {
	switch {
	case sl.slotType != "logical":
		return "", fmt.Errorf("is a %s slot, not a logical one", sl.slotType)
	case sl.plugin != "pgoutput":
		return "", fmt.Errorf("uses the %s plugin; sluice decodes pgoutput only: drop it or name another slot", sl.plugin)
	case sl.database != database:
		return "", fmt.Errorf("belongs to database %s, not %s", sl.database, database)
	case sl.walStatus == "lost":
		return "", errors.New("its WAL was removed (wal_status lost, see max_slot_wal_keep_size): drop and recreate it, then reload the tables")
	case sl.active:
		return "", errors.New("is in use by another connection: only one consumer can read a slot")
	}
	detail := "logical, pgoutput, not in use"
	if sl.walStatus != "" {
		detail += ", wal_status " + sl.walStatus
	}
	return detail, nil
}

// checkPGPublication is a publication and the tables it publishes.
type checkPGPublication struct {
	allTables                     bool
	insert, update, delete, trunc bool
	tables                        map[[2]string]bool
}

func checkLoadPublication(ctx context.Context, conn *pgx.Conn, name string) (*checkPGPublication, error) {
	p := &checkPGPublication{tables: map[[2]string]bool{}}
	err := conn.QueryRow(ctx, `SELECT puballtables, pubinsert, pubupdate, pubdelete,
		COALESCE((to_jsonb(p)->>'pubtruncate')::bool, false) FROM pg_publication p WHERE pubname = $1`, name).Scan(
		&p.allTables, &p.insert, &p.update, &p.delete, &p.trunc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading publication %s: %w", name, err)
	}
	rows, err := conn.Query(ctx, `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("reading the tables of publication %s: %w", name, err)
	}
	var schema, table string
	_, err = pgx.ForEachRow(rows, []any{&schema, &table}, func() error {
		p.tables[[2]string{schema, table}] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the tables of publication %s: %w", name, err)
	}
	return p, nil
}

func (p *checkPGPublication) judge() (string, error) {
	var missing []string
	for op, on := range map[string]bool{"insert": p.insert, "update": p.update, "delete": p.delete} {
		if !on {
			missing = append(missing, op)
		}
	}
	what := fmt.Sprintf("%d tables", len(p.tables))
	if len(p.tables) == 1 {
		what = "1 table"
	}
	if p.allTables {
		what = "FOR ALL TABLES"
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return "", fmt.Errorf("%s, but does not publish %s: those changes would never reach the targets",
			what, strings.Join(missing, ", "))
	}
	return what, nil
}
