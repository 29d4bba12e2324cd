package pgrepl

import (
	"fmt"
	"strconv"
	"strings"
)

// LSN is a PostgreSQL write-ahead log position.
type LSN uint64

// String formats the LSN as PostgreSQL does: two hex halves, "16/B374D848".
func (l LSN) String() string {
	return fmt.Sprintf("%X/%X", uint32(l>>32), uint32(l))
}

// ParseLSN parses the "X/X" text form (either case, at most 8 hex digits
// per half).
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("LSN %q: expected X/X", s)
	}
	h, err := parseHalf(hi)
	if err != nil {
		return 0, fmt.Errorf("LSN %q: %w", s, err)
	}
	l, err := parseHalf(lo)
	if err != nil {
		return 0, fmt.Errorf("LSN %q: %w", s, err)
	}
	return LSN(h<<32 | l), nil
}

func parseHalf(s string) (uint64, error) {
	if s == "" || len(s) > 8 {
		return 0, fmt.Errorf("each half needs 1 to 8 hex digits")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, fmt.Errorf("unexpected character %q", c)
		}
	}
	return strconv.ParseUint(s, 16, 32)
}
