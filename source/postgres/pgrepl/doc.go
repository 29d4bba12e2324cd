// Package pgrepl is the PostgreSQL logical replication protocol on top of
// pgx/v5 pgconn: LSNs, the walsender replication commands, the CopyBoth
// frames (XLogData, keepalive, standby status update) and a decoder for the
// pgoutput plugin's protocol version 1 messages.
//
// It exists because github.com/jackc/pglogrepl is not available to this
// project. Every decoder is bounds-checked and returns an error on short or
// garbled input; none panics.
package pgrepl
