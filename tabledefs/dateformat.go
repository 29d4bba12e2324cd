package tabledefs

// dateLayout identifies how the date and time parts of a DATE, TIME or
// DATETIME field are written.
type dateLayout uint8

const (
	layoutNone dateLayout = iota // not a valid ColumnDateFormat
	layoutISO                    // no ColumnDateFormat: YYYY-MM-DD[( |T)HH:MM:SS[.f]][Z]
	layoutYMDDash
	layoutYMDDashF
	layoutYMDSlash
	layoutYMDSlashF
	layoutMDYSlash
	layoutMDYSlashF
	layoutYMDCompact
	layoutYMDCompactF
)

// dateFormats are the ColumnDateFormat values DMS allows (3.4.7+), indexed
// by layout-layoutYMDDash.
var dateFormats = [...]string{
	"YYYY-MM-dd HH:mm:ss",
	"YYYY-MM-dd HH:mm:ss.F",
	"YYYY/MM/dd HH:mm:ss",
	"YYYY/MM/dd HH:mm:ss.F",
	"MM/dd/YYYY HH:mm:ss",
	"MM/dd/YYYY HH:mm:ss.F",
	"YYYYMMdd HH:mm:ss",
	"YYYYMMdd HH:mm:ss.F",
}

// DateFormats returns the ColumnDateFormat values DMS allows.
func DateFormats() []string {
	out := make([]string, len(dateFormats))
	copy(out, dateFormats[:])
	return out
}

// layoutOf maps a ColumnDateFormat to its layout; "" is the ISO-like default.
// A switch, not a loop over dateFormats: it runs once per field.
func layoutOf(format string) dateLayout {
	switch format {
	case "":
		return layoutISO
	case "YYYY-MM-dd HH:mm:ss":
		return layoutYMDDash
	case "YYYY-MM-dd HH:mm:ss.F":
		return layoutYMDDashF
	case "YYYY/MM/dd HH:mm:ss":
		return layoutYMDSlash
	case "YYYY/MM/dd HH:mm:ss.F":
		return layoutYMDSlashF
	case "MM/dd/YYYY HH:mm:ss":
		return layoutMDYSlash
	case "MM/dd/YYYY HH:mm:ss.F":
		return layoutMDYSlashF
	case "YYYYMMdd HH:mm:ss":
		return layoutYMDCompact
	case "YYYYMMdd HH:mm:ss.F":
		return layoutYMDCompactF
	}
	return layoutNone
}

// fraction reports whether the layout allows fractional seconds.
func (l dateLayout) fraction() bool {
	switch l {
	case layoutISO, layoutYMDDashF, layoutYMDSlashF, layoutMDYSlashF, layoutYMDCompactF:
		return true
	}
	return false
}

// expected is the reason given when text does not match the layout.
func (l dateLayout) expected() string {
	switch l {
	case layoutISO:
		return "expected YYYY-MM-DD, YYYY-MM-DD HH:MM:SS[.f] or YYYY-MM-DDTHH:MM:SS[.f][Z]"
	case layoutNone:
		return "unknown ColumnDateFormat"
	}
	return expectedFormat[l-layoutYMDDash]
}

var expectedFormat = func() [len(dateFormats)]string {
	var out [len(dateFormats)]string
	for i, f := range dateFormats {
		out[i] = "does not match ColumnDateFormat " + f
	}
	return out
}()
