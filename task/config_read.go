package task

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

// Small readers on top of tabledefs.Object: each leaves *dst at its default
// when the key is absent or invalid, and records a problem when invalid, so
// one pass reports every mistake.

func readString(o *tabledefs.Object, key string, dst *string) bool {
	s, ok := o.String(key, false)
	if ok {
		*dst = s
	}
	return ok
}

func readBool(o *tabledefs.Object, key string, dst *bool) bool {
	b, ok := o.Bool(key)
	if ok {
		*dst = b
	}
	return ok
}

// readInt reads an integer within [lo, hi].
func readInt(o *tabledefs.Object, key string, dst *int, lo, hi int) bool {
	n, ok := o.Int(key, false)
	if !ok {
		return false
	}
	if n < lo || n > hi {
		if hi == settingsMaxInt {
			o.P.Add(o.File, o.KeyPath(key), "must be at least %d, not %d", lo, n)
		} else {
			o.P.Add(o.File, o.KeyPath(key), "must be between %d and %d, not %d", lo, hi, n)
		}
		return false
	}
	*dst = n
	return true
}

// readEnum reads a string that must be one of valid. DMS compares enum values
// case-sensitively, so a wrong case is a problem that names the right spelling.
func readEnum[T ~string](o *tabledefs.Object, key string, dst *T, valid ...T) bool {
	s, ok := o.String(key, false)
	if !ok {
		return false
	}
	if v, ok := checkEnum(o.P, o.File, o.KeyPath(key), s, valid); ok {
		*dst = v
		return true
	}
	return false
}

func checkEnum[T ~string](p *tabledefs.Problems, file, path, s string, valid []T) (T, bool) {
	if slices.Contains(valid, T(s)) {
		return T(s), true
	}
	names := make([]string, len(valid))
	for i, v := range valid {
		names[i] = string(v)
		if strings.EqualFold(names[i], s) {
			p.Add(file, path, "must be %q, not %q (values are case-sensitive)", names[i], s)
			return "", false
		}
	}
	if len(names) == 1 {
		p.Add(file, path, "must be %q, not %q", names[0], s)
	} else if c := tabledefs.Closest(s, names); c != "" {
		p.Add(file, path, "must be one of %s, not %q (did you mean %q?)", quoteList(names), s, c)
	} else {
		p.Add(file, path, "must be one of %s, not %q", quoteList(names), s)
	}
	return "", false
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// refuse reports a key that DMS knows but sluice deliberately does not take,
// with the reason, instead of the generic "unknown key".
func refuse(o *tabledefs.Object, key, reason string) {
	if o.Has(key) {
		o.P.Add(o.File, o.KeyPath(key), "%s", reason)
	}
}
