package pgrepl

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Connect opens a logical walsender connection (replication=database) to
// the database the connection string names. params are extra session
// settings (DateStyle, TimeZone…): they shape pgoutput's text values.
func Connect(ctx context.Context, connString string, params map[string]string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parsing the connection string: %w", err)
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["replication"] = "database"
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening a replication connection: %w", err)
	}
	return c, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,63}$`)

// ValidName checks a slot or publication name. Replication commands take
// no bind parameters, so names are formatted into the command text and
// must be plain identifiers.
func ValidName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%s name %q: use 1 to 63 letters, digits or underscores", kind, name)
	}
	return nil
}

// System is the IDENTIFY_SYSTEM result.
type System struct {
	ID       string
	Timeline int32
	WALPos   LSN
	Database string
}

// IdentifySystem runs IDENTIFY_SYSTEM.
func IdentifySystem(ctx context.Context, c *pgconn.PgConn) (System, error) {
	row, err := oneRow(ctx, c, "IDENTIFY_SYSTEM", 4)
	if err != nil {
		return System{}, err
	}
	tl, err := strconv.ParseInt(row[1], 10, 32)
	if err != nil {
		return System{}, fmt.Errorf("IDENTIFY_SYSTEM: timeline %q: %w", row[1], err)
	}
	pos, err := ParseLSN(row[2])
	if err != nil {
		return System{}, fmt.Errorf("IDENTIFY_SYSTEM: %w", err)
	}
	return System{ID: row[0], Timeline: int32(tl), WALPos: pos, Database: row[3]}, nil
}

// SnapshotAction says what CREATE_REPLICATION_SLOT does with the snapshot
// taken at the slot's consistent point.
type SnapshotAction string

// Snapshot actions. An exported snapshot stays importable (SET TRANSACTION
// SNAPSHOT) only while the creating connection stays open and idle.
const (
	ExportSnapshot   SnapshotAction = "EXPORT_SNAPSHOT"
	NoExportSnapshot SnapshotAction = "NOEXPORT_SNAPSHOT"
)

// Slot is the CREATE_REPLICATION_SLOT result.
type Slot struct {
	Name            string
	ConsistentPoint LSN
	Snapshot        string // exported snapshot name, empty without ExportSnapshot
	Plugin          string
}

// CreateSlot creates a logical slot for the pgoutput plugin.
func CreateSlot(ctx context.Context, c *pgconn.PgConn, name string, temporary bool, snap SnapshotAction) (Slot, error) {
	if err := ValidName("slot", name); err != nil {
		return Slot{}, err
	}
	if snap != ExportSnapshot && snap != NoExportSnapshot {
		return Slot{}, fmt.Errorf("creating slot %s: unknown snapshot action %q", name, snap)
	}
	var sb strings.Builder
	sb.WriteString("CREATE_REPLICATION_SLOT ")
	sb.WriteString(name)
	if temporary {
		sb.WriteString(" TEMPORARY")
	}
	sb.WriteString(" LOGICAL pgoutput ")
	sb.WriteString(string(snap))
	row, err := oneRow(ctx, c, sb.String(), 4)
	if err != nil {
		return Slot{}, err
	}
	cp, err := ParseLSN(row[1])
	if err != nil {
		return Slot{}, fmt.Errorf("creating slot %s: consistent point: %w", name, err)
	}
	return Slot{Name: row[0], ConsistentPoint: cp, Snapshot: row[2], Plugin: row[3]}, nil
}

// DropSlot runs DROP_REPLICATION_SLOT; wait makes the server wait for an
// active consumer to go away instead of failing.
func DropSlot(ctx context.Context, c *pgconn.PgConn, name string, wait bool) error {
	if err := ValidName("slot", name); err != nil {
		return err
	}
	sql := "DROP_REPLICATION_SLOT " + name
	if wait {
		sql += " WAIT"
	}
	if _, err := c.Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("dropping slot %s: %w", name, err)
	}
	return nil
}

// StartReplication runs START_REPLICATION for a logical slot with pgoutput
// protocol version 1 and waits for the CopyBothResponse. After it returns
// the connection carries CopyData frames (see ParseFrame).
func StartReplication(ctx context.Context, c *pgconn.PgConn, slot string, from LSN, publications ...string) error {
	if err := ValidName("slot", slot); err != nil {
		return err
	}
	if len(publications) == 0 {
		return fmt.Errorf("starting replication on slot %s: no publication", slot)
	}
	for _, p := range publications {
		if err := ValidName("publication", p); err != nil {
			return err
		}
	}
	sql := fmt.Sprintf("START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', publication_names '%s')",
		slot, from, strings.Join(publications, ","))
	c.Frontend().Send(&pgproto3.Query{String: sql})
	if err := c.Frontend().Flush(); err != nil {
		return fmt.Errorf("starting replication on slot %s: %w", slot, err)
	}
	for {
		msg, err := c.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("starting replication on slot %s: %w", slot, err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyBothResponse:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("starting replication on slot %s: %w", slot, pgconn.ErrorResponseToPgError(m))
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
			// informational; keep waiting
		default:
			return fmt.Errorf("starting replication on slot %s: unexpected %T", slot, msg)
		}
	}
}

// SendStatus sends a standby status update.
func SendStatus(c *pgconn.PgConn, s Status) error {
	buf, err := (&pgproto3.CopyData{Data: AppendStatus(make([]byte, 0, 34), s)}).Encode(nil)
	if err != nil {
		return fmt.Errorf("encoding standby status: %w", err)
	}
	if err := c.Frontend().SendUnbufferedEncodedCopyData(buf); err != nil {
		return fmt.Errorf("sending standby status: %w", err)
	}
	return nil
}

// oneRow runs a replication command that answers one row of text columns.
func oneRow(ctx context.Context, c *pgconn.PgConn, sql string, cols int) ([]string, error) {
	verb, _, _ := strings.Cut(sql, " ")
	results, err := c.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	if len(results) != 1 || len(results[0].Rows) != 1 {
		return nil, fmt.Errorf("%s: expected one row", verb)
	}
	row := results[0].Rows[0]
	if len(row) < cols {
		return nil, fmt.Errorf("%s: %d columns, want %d", verb, len(row), cols)
	}
	out := make([]string, cols)
	for i := range out {
		out[i] = string(row[i])
	}
	return out, nil
}
