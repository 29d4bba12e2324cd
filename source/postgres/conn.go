package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// connect opens an ordinary connection with the session settings the
// value decoder expects.
func connect(ctx context.Context, connString string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parsing the connection string: %w", err)
	}
	for k, v := range sessionParams() {
		cfg.RuntimeParams[k] = v
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	return c, nil
}

// sessionParams fix the text forms the value decoder expects.
func sessionParams() map[string]string {
	return map[string]string{"DateStyle": "ISO, MDY", "TimeZone": "UTC", "bytea_output": "hex",
		"lc_monetary": "C", "IntervalStyle": "postgres", "extra_float_digits": "1"}
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
