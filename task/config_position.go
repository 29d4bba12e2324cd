package task

import (
	"regexp"
	"strings"
	"time"

	"github.com/sluicedata/sluice/tabledefs"
)

// CdcPositionKind says which DMS form a CDC position was written in.
type CdcPositionKind string

// CdcPositionKind values.
const (
	// CdcPositionTime is a plain date "2018-03-08T12:12:12" (start only).
	CdcPositionTime CdcPositionKind = "time"
	// CdcPositionServerTime is "server_time:2018-02-09T12:12:12".
	CdcPositionServerTime CdcPositionKind = "server_time"
	// CdcPositionCommitTime is "commit_time:2018-02-09T12:12:12".
	CdcPositionCommitTime CdcPositionKind = "commit_time"
	// CdcPositionCheckpoint is a DMS recovery checkpoint "checkpoint:V1#…".
	CdcPositionCheckpoint CdcPositionKind = "checkpoint"
	// CdcPositionLSN is a PostgreSQL LSN "4AF/B00000D0".
	CdcPositionLSN CdcPositionKind = "lsn"
	// CdcPositionNative is any other engine-native position; the source
	// decides whether it understands it.
	CdcPositionNative CdcPositionKind = "native"
)

var lsnRE = regexp.MustCompile(`^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$`)

// parseCdcPosition checks a CdcStartPosition (start=true) or CdcStopPosition.
// DMS stop positions are server_time/commit_time only.
func parseCdcPosition(p *tabledefs.Problems, file, path, s string, start bool) *ConfigCdcPosition {
	pos := &ConfigCdcPosition{Raw: s, Value: s}
	prefix, rest, hasPrefix := strings.Cut(s, ":")
	switch {
	case hasPrefix && (prefix == "server_time" || prefix == "commit_time"):
		t, ok := parsePositionTime(rest)
		if !ok {
			p.Add(file, path, "%s: time must look like 2018-02-09T12:12:12 (UTC), not %q", prefix, rest)
			return nil
		}
		pos.Kind, pos.Time, pos.Value = CdcPositionKind(prefix), t, rest
		return pos
	case !start:
		p.Add(file, path, `must be "server_time:YYYY-MM-DDTHH:MM:SS" or "commit_time:YYYY-MM-DDTHH:MM:SS", not %q`, s)
		return nil
	case s == "":
		p.Add(file, path, "must not be empty")
		return nil
	case hasPrefix && prefix == "checkpoint":
		pos.Kind = CdcPositionCheckpoint
	case lsnRE.MatchString(s):
		pos.Kind = CdcPositionLSN
	default:
		if t, ok := parsePositionTime(s); ok {
			pos.Kind, pos.Time = CdcPositionTime, t
		} else if looksLikeDate(s) {
			p.Add(file, path, "time must look like 2018-03-08T12:12:12 (UTC), not %q", s)
			return nil
		} else {
			pos.Kind = CdcPositionNative
		}
	}
	return pos
}

func parsePositionTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// looksLikeDate catches a misspelt date, which would otherwise pass as a
// native position and fail only when the source sees it.
func looksLikeDate(s string) bool {
	return len(s) >= 10 && s[4] == '-' && s[7] == '-' && strings.Trim(s[:4], "0123456789") == ""
}
