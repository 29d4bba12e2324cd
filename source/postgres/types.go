package postgres

import (
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/tabledefs"
)

// Built-in type OIDs whose text form needs more than Column.ParseValue.
const (
	oidBool        = 16
	oidBytea       = 17
	oidMoney       = 790
	oidBpchar      = 1042
	oidTimestamptz = 1184
	oidTimetz      = 1266
)

// TypeOptions are the PostgreSQLSettings that change the type map.
type TypeOptions struct {
	MapBooleanAsBoolean bool // BOOLEAN → BOOLEAN instead of DMS's STRING(5) "true"/"false"
	MapJsonbAsClob      bool // accepted for DMS compatibility: CLOB and NCLOB are both CLOB here
	// MapLongVarcharAs "clob"/"nclob" turns VARCHAR(n > 16387) into CLOB.
	MapLongVarcharAs string
	// MapUnboundedNumericAsString: unbounded NUMERIC becomes STRING instead
	// of DMS's NUMERIC(28,6).
	MapUnboundedNumericAsString bool
}

// ColumnFor maps a PostgreSQL type (pg_type.typname, typtype, typmod) to
// the DMS column type per dms-behaviour.md §4.8. NCLOB and WSTRING do not
// exist among the 19 types: they are CLOB and STRING.
func ColumnFor(typ, typtype string, typmod int32, o TypeOptions) tabledefs.Column {
	switch {
	case strings.HasPrefix(typ, "_"): // arrays
		return tabledefs.Column{Type: tabledefs.TypeClob}
	case typtype == "e": // enums
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 64}
	case typtype == "c": // composite
		return tabledefs.Column{Type: tabledefs.TypeClob}
	}
	switch typ {
	case "int2":
		return tabledefs.Column{Type: tabledefs.TypeInt2}
	case "int4":
		return tabledefs.Column{Type: tabledefs.TypeInt4}
	case "oid":
		return tabledefs.Column{Type: tabledefs.TypeUint4}
	case "int8":
		return tabledefs.Column{Type: tabledefs.TypeInt8}
	case "float4":
		return tabledefs.Column{Type: tabledefs.TypeReal4}
	case "float8":
		return tabledefs.Column{Type: tabledefs.TypeReal8}
	case "money":
		return tabledefs.Column{Type: tabledefs.TypeNumeric, Precision: 38, Scale: 4}
	case "numeric":
		if typmod < 4 { // unbounded
			if o.MapUnboundedNumericAsString {
				return tabledefs.Column{Type: tabledefs.TypeString}
			}
			return tabledefs.Column{Type: tabledefs.TypeNumeric, Precision: 28, Scale: 6}
		}
		p, s := int((typmod-4)>>16)&0xffff, int(typmod-4)&0xffff
		if p > 38 {
			return tabledefs.Column{Type: tabledefs.TypeString, Length: p + 2}
		}
		return tabledefs.Column{Type: tabledefs.TypeNumeric, Precision: p, Scale: s}
	case "bool":
		if o.MapBooleanAsBoolean {
			return tabledefs.Column{Type: tabledefs.TypeBoolean}
		}
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 5}
	case "bpchar":
		n := int(typmod) - 4
		if n <= 0 {
			n = 1
		}
		// Length is in bytes: a UTF-8 character takes up to 4.
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 4 * n}
	case "varchar":
		n := int(typmod) - 4
		if n <= 0 {
			return tabledefs.Column{Type: tabledefs.TypeString} // unbounded: no length check
		}
		if n > 16387 && (o.MapLongVarcharAs == "clob" || o.MapLongVarcharAs == "nclob") {
			return tabledefs.Column{Type: tabledefs.TypeClob}
		}
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 4 * n}
	case "text", "citext", "json", "jsonb", "xml", "hstore", "tsvector", "tsquery", "path", "polygon":
		return tabledefs.Column{Type: tabledefs.TypeClob}
	case "bytea":
		return tabledefs.Column{Type: tabledefs.TypeBlob}
	case "timestamp", "timestamptz":
		return tabledefs.Column{Type: tabledefs.TypeDateTime, Scale: fracDigits(typmod)}
	case "date":
		return tabledefs.Column{Type: tabledefs.TypeDate}
	case "time", "timetz":
		return tabledefs.Column{Type: tabledefs.TypeTime, Scale: fracDigits(typmod)}
	case "interval":
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 128}
	case "cidr", "inet":
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 50}
	case "macaddr", "macaddr8":
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 23}
	case "bit", "varbit":
		n := int(typmod)
		if n <= 0 {
			n = 8000
		}
		return tabledefs.Column{Type: tabledefs.TypeString, Length: n}
	case "uuid":
		return tabledefs.Column{Type: tabledefs.TypeString, Length: 36}
	}
	// POINT, LINE, LSEG, BOX, CIRCLE, ranges and anything else.
	return tabledefs.Column{Type: tabledefs.TypeString, Length: 255}
}

func fracDigits(typmod int32) int {
	if typmod < 0 || typmod > 6 {
		return 6
	}
	return int(typmod)
}

// decodeText turns PostgreSQL's text output of a value of type oid into a
// Value of column c. The connections run with DateStyle=ISO, TimeZone=UTC,
// bytea_output=hex and extra_float_digits=3, so only a few types need more
// than Column.ParseValue. trimChar right-trims CHAR(n) padding.
func decodeText(c *tabledefs.Column, oid uint32, s string, trimChar bool) (tabledefs.Value, error) {
	switch oid {
	case oidBool:
		if c.Type == tabledefs.TypeString {
			switch s {
			case "t":
				return tabledefs.StringValue("true"), nil
			case "f":
				return tabledefs.StringValue("false"), nil
			}
		}
	case oidBytea:
		if c.Type == tabledefs.TypeBlob || c.Type == tabledefs.TypeByte {
			h, ok := strings.CutPrefix(s, `\x`)
			if !ok {
				return tabledefs.Null, fmt.Errorf("%q is not hex bytea output", truncate(s))
			}
			return c.ParseValue(h)
		}
	case oidBpchar:
		if trimChar {
			s = strings.TrimRight(s, " ")
		}
	case oidMoney:
		s = moneyText(s)
	case oidTimestamptz:
		s = strings.TrimSuffix(s, "+00") // TimeZone=UTC
	case oidTimetz:
		return timetz(c, s)
	}
	return c.ParseValue(s)
}

// moneyText strips the currency symbol and group separators of the C
// locale's money output: "-$1,234.50" → "-1234.50".
func moneyText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '$' || c == ',':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// timetz converts "HH:MM:SS[.f]±hh[:mm[:ss]]" to the UTC time of day.
func timetz(c *tabledefs.Column, s string) (tabledefs.Value, error) {
	i := strings.LastIndexAny(s, "+-")
	if i < 0 {
		return c.ParseValue(s)
	}
	v, err := c.ParseValue(s[:i])
	if err != nil {
		return v, err
	}
	sign := int64(1)
	if s[i] == '-' {
		sign = -1
	}
	var secs int64
	parts := strings.Split(s[i+1:], ":")
	for k, mult := range []int64{3600, 60, 1} {
		if k >= len(parts) {
			break
		}
		var n int64
		if _, err := fmt.Sscanf(parts[k], "%d", &n); err != nil {
			return tabledefs.Null, fmt.Errorf("%q: bad time zone offset", s)
		}
		secs += n * mult
	}
	const day = 86400 * 1_000_000_000
	n := (v.Int - sign*secs*1_000_000_000) % day
	if n < 0 {
		n += day
	}
	return tabledefs.TimeValue(n), nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
