package pgrepl

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Frame kinds inside a CopyBoth stream.
const (
	frameXLogData  = 'w'
	frameKeepalive = 'k'
	frameStatus    = 'r'
)

// pgEpochUnixMicros is 2000-01-01 00:00:00 UTC, PostgreSQL's timestamp
// epoch, in microseconds since the Unix epoch.
const pgEpochUnixMicros = 946_684_800 * 1_000_000

// PGTime converts microseconds since 2000-01-01 UTC to a time.Time.
func PGTime(micros int64) time.Time {
	return time.UnixMicro(micros + pgEpochUnixMicros).UTC()
}

// PGMicros converts a time to microseconds since 2000-01-01 UTC.
func PGMicros(t time.Time) int64 {
	return t.UnixMicro() - pgEpochUnixMicros
}

// XLogData carries one pgoutput message. Payload aliases the CopyData
// buffer it was parsed from: decode it before the next receive.
type XLogData struct {
	Start      LSN // WAL position of the message (0/0 for Relation messages)
	ServerEnd  LSN // the server's current WAL end
	ServerTime time.Time
	Payload    []byte
}

// Keepalive is the primary keepalive message.
type Keepalive struct {
	ServerEnd  LSN
	ServerTime time.Time
	// ReplyNow asks for a standby status update at once; without one the
	// server ends the connection at wal_sender_timeout.
	ReplyNow bool
}

// ParseFrame parses the body of a CopyData message received after
// START_REPLICATION into an XLogData or a Keepalive.
func ParseFrame(data []byte) (any, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("replication frame: empty")
	}
	switch data[0] {
	case frameXLogData:
		if len(data) < 25 {
			return nil, fmt.Errorf("XLogData frame: %d bytes, want at least 25", len(data))
		}
		return XLogData{
			Start:      LSN(binary.BigEndian.Uint64(data[1:])),
			ServerEnd:  LSN(binary.BigEndian.Uint64(data[9:])),
			ServerTime: PGTime(int64(binary.BigEndian.Uint64(data[17:]))),
			Payload:    data[25:],
		}, nil
	case frameKeepalive:
		if len(data) != 18 {
			return nil, fmt.Errorf("keepalive frame: %d bytes, want 18", len(data))
		}
		return Keepalive{
			ServerEnd:  LSN(binary.BigEndian.Uint64(data[1:])),
			ServerTime: PGTime(int64(binary.BigEndian.Uint64(data[9:]))),
			ReplyNow:   data[17] != 0,
		}, nil
	}
	return nil, fmt.Errorf("replication frame: unknown kind %q", data[0])
}

// Status is a standby status update. For a logical slot Flushed is what
// advances confirmed_flush_lsn, i.e. what the server may discard; Written
// and Applied are informational.
type Status struct {
	Written, Flushed, Applied LSN
	At                        time.Time // client clock; zero means now
	ReplyNow                  bool      // ask the server for a keepalive back
}

// AppendStatus appends the 34-byte 'r' frame body (without the CopyData
// envelope) to dst.
func AppendStatus(dst []byte, s Status) []byte {
	at := s.At
	if at.IsZero() {
		at = time.Now()
	}
	dst = append(dst, frameStatus)
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.Written))
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.Flushed))
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.Applied))
	dst = binary.BigEndian.AppendUint64(dst, uint64(PGMicros(at)))
	var reply byte
	if s.ReplyNow {
		reply = 1
	}
	return append(dst, reply)
}

// ParseStatus parses an 'r' frame body; tests and fakes use it to read
// what a client sent.
func ParseStatus(data []byte) (Status, error) {
	if len(data) != 34 || data[0] != frameStatus {
		return Status{}, fmt.Errorf("standby status frame: %d bytes, want 34 starting with 'r'", len(data))
	}
	return Status{
		Written:  LSN(binary.BigEndian.Uint64(data[1:])),
		Flushed:  LSN(binary.BigEndian.Uint64(data[9:])),
		Applied:  LSN(binary.BigEndian.Uint64(data[17:])),
		At:       PGTime(int64(binary.BigEndian.Uint64(data[25:]))),
		ReplyNow: data[33] != 0,
	}, nil
}
