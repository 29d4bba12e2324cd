package tabledefs

// Hand-written date and time parsing: time.Parse costs several times more
// and cannot express "at most ColumnScale fraction digits".

const nanosPerDay = 86400 * 1_000_000_000

var pow10 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000}

// parseTemporal parses DATE, TIME and DATETIME text per the column's
// ColumnDateFormat (see doc.go for the accepted shapes).
func parseTemporal(s string, c *Column) (Value, error) {
	l := layoutOf(c.DateFormat)
	if l == layoutNone {
		return valueErr(c.Type, s, l.expected())
	}
	if s == "" {
		return valueErr(c.Type, s, "empty value")
	}
	scale := min(max(c.Scale, 0), MaxFractionDigits)
	switch c.Type {
	case TypeTime:
		if len(s) >= 3 && s[2] == ':' { // HH:... never starts a date
			nanos, i, reason := scanClock(s, 0, l)
			if reason == "" && i != len(s) {
				reason = l.expected()
			}
			if reason != "" {
				return valueErr(c.Type, s, reason)
			}
			return TimeValue(truncNanos(nanos, scale)), nil
		}
		_, nanos, hasClock, reason := scanStamp(s, l)
		if reason == "" && !hasClock {
			reason = "no time of day"
		}
		if reason != "" {
			return valueErr(c.Type, s, reason)
		}
		return TimeValue(truncNanos(nanos, scale)), nil
	case TypeDate:
		days, nanos, _, reason := scanStamp(s, l)
		if reason != "" {
			return valueErr(c.Type, s, reason)
		}
		if nanos != 0 {
			return truncErr(c.Type, s, "the time of day would be dropped")
		}
		return DateValue(days), nil
	default: // TypeDateTime
		days, nanos, _, reason := scanStamp(s, l)
		if reason != "" {
			return valueErr(c.Type, s, reason)
		}
		nanos = truncNanos(nanos, scale)
		return Value{Kind: KindTimestamp, Int: days*86400 + nanos/1_000_000_000, Nano: int32(nanos % 1_000_000_000)}, nil
	}
}

// truncNanos keeps scale fraction digits, dropping the rest as DMS does.
func truncNanos(nanos int64, scale int) int64 {
	return nanos - nanos%pow10[9-scale]
}

// scanStamp parses a date, optionally followed by a time of day, in layout l.
// It returns days since the epoch and nanoseconds since midnight.
func scanStamp(s string, l dateLayout) (days, nanos int64, hasClock bool, reason string) {
	var y, m, d int
	var ok bool
	i := 0
	switch l {
	case layoutISO, layoutYMDDash, layoutYMDDashF, layoutYMDSlash, layoutYMDSlashF:
		sep := byte('-')
		if l == layoutYMDSlash || l == layoutYMDSlashF {
			sep = '/'
		}
		if len(s) < 10 || s[4] != sep || s[7] != sep {
			return 0, 0, false, l.expected()
		}
		var okY, okM, okD bool
		y, okY = digits4(s, 0)
		m, okM = digits2(s, 5)
		d, okD = digits2(s, 8)
		ok = okY && okM && okD
		i = 10
	case layoutMDYSlash, layoutMDYSlashF:
		if len(s) < 10 || s[2] != '/' || s[5] != '/' {
			return 0, 0, false, l.expected()
		}
		var okY, okM, okD bool
		m, okM = digits2(s, 0)
		d, okD = digits2(s, 3)
		y, okY = digits4(s, 6)
		ok = okY && okM && okD
		i = 10
	case layoutYMDCompact, layoutYMDCompactF:
		if len(s) < 8 {
			return 0, 0, false, l.expected()
		}
		var okY, okM, okD bool
		y, okY = digits4(s, 0)
		m, okM = digits2(s, 4)
		d, okD = digits2(s, 6)
		ok = okY && okM && okD
		i = 8
	}
	if !ok {
		return 0, 0, false, l.expected()
	}
	switch {
	case y < 1:
		return 0, 0, false, "year out of range 0001-9999"
	case m < 1 || m > 12:
		return 0, 0, false, "month out of range 01-12"
	case d < 1 || d > daysIn(y, m):
		return 0, 0, false, "day out of range for the month"
	}
	days = daysFromYMD(y, m, d)
	if i == len(s) {
		return days, 0, false, ""
	}
	if s[i] != ' ' && (l != layoutISO || s[i] != 'T') {
		return 0, 0, false, l.expected()
	}
	nanos, i, reason = scanClock(s, i+1, l)
	if reason == "" && i != len(s) {
		reason = l.expected()
	}
	return days, nanos, true, reason
}

// scanClock parses HH:MM:SS, a fraction when l allows it, and for the ISO
// layout a trailing Z, starting at s[i]. It returns the position after them.
func scanClock(s string, i int, l dateLayout) (nanos int64, next int, reason string) {
	if len(s) < i+8 || s[i+2] != ':' || s[i+5] != ':' {
		return 0, i, l.expected()
	}
	h, okH := digits2(s, i)
	mi, okM := digits2(s, i+3)
	sec, okS := digits2(s, i+6)
	if !(okH && okM && okS) {
		return 0, i, l.expected()
	}
	switch {
	case h > 23:
		return 0, i, "hour out of range 00-23"
	case mi > 59:
		return 0, i, "minute out of range 00-59"
	case sec > 59:
		return 0, i, "second out of range 00-59"
	}
	nanos = (int64(h)*3600 + int64(mi)*60 + int64(sec)) * 1_000_000_000
	i += 8
	if i < len(s) && s[i] == '.' && l.fraction() {
		i++
		start := i
		var frac int64
		for i < len(s) && isDigit(s[i]) {
			if i-start < 9 { // digits beyond nanoseconds are dropped like any beyond ColumnScale
				frac = frac*10 + int64(s[i]-'0')
			}
			i++
		}
		n := i - start
		if n == 0 {
			return 0, i, "no digits after the decimal point"
		}
		if n < 9 {
			frac *= pow10[9-n]
		}
		nanos += frac
	}
	if l == layoutISO && i < len(s) && s[i] == 'Z' {
		i++
	}
	return nanos, i, ""
}

// digits2 and digits4 read 2 or 4 decimal digits at s[i:]; the caller has
// checked the length. Small enough to be inlined.
func digits2(s string, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

func digits4(s string, i int) (int, bool) {
	a, b, c, d := s[i]-'0', s[i+1]-'0', s[i+2]-'0', s[i+3]-'0'
	return int(a)*1000 + int(b)*100 + int(c)*10 + int(d), a <= 9 && b <= 9 && c <= 9 && d <= 9
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysBefore[m] is the number of days before month m in a common year.
var daysBefore = [13]int32{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

// daysFromYMD is daysFromCivil for the valid dates of years 1 to 9999
// that parsing produces, with a table instead of the general algorithm.
// Unsigned arithmetic (y >= 1) lets the divisions skip sign fix-ups.
func daysFromYMD(y, m, d int) int64 {
	y1 := uint(y - 1)
	days := 365*y1 + y1/4 - y1/100 + y1/400 + uint(daysBefore[m&15]) + uint(d) - 1
	if m > 2 && isLeapU(uint(y)) {
		days++
	}
	return int64(days) - 719162 // 0001-01-01 to 1970-01-01
}

func isLeapU(y uint) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysFromCivil converts a proleptic Gregorian date to days since
// 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// Fast paths for the shapes nearly all DATE and DATETIME fields have when no
// ColumnDateFormat is set: YYYY-MM-DD and YYYY-MM-DD HH:MM:SS[.f]. Each
// checks the fixed positions of separators and digits with a word load and
// reports !ok for anything else, including every invalid value, so that
// parseTemporal alone decides errors and their messages.

const (
	dateSepMask = 0xFF<<32 | 0xFF<<56 // bytes 4 and 7 of YYYY-MM-
	dateSeps    = '-'<<32 | '-'<<56   // ... are '-'
	dateZeros   = '0'<<32 | '0'<<56   // ... and stand in for digits when checking the rest
	clockMask   = 0xFF<<16 | 0xFF<<40 // bytes 2 and 5 of HH:MM:SS
	clockSeps   = ':'<<16 | ':'<<40
	clockZeros  = '0'<<16 | '0'<<40
)

// isoDate parses YYYY-MM-DD at the start of s (len(s) >= 10) into days
// since the epoch; ok is false for any other text or an impossible date.
func isoDate(s string) (days int64, ok bool) {
	_ = s[9]
	w := load64(s, 0)
	if w&dateSepMask != dateSeps || !eightDigits(w&^dateSepMask|dateZeros) {
		return 0, false
	}
	d1, d2 := s[8]-'0', s[9]-'0'
	if d1 > 9 || d2 > 9 {
		return 0, false
	}
	// Pairs of digits combined in place (byte j becomes 10*b[j]+b[j+1]):
	// byte 0 holds the century, byte 2 the year in it, byte 4 the month's
	// first digit (the '-' before it was made a '0').
	v := w&^dateSepMask | dateZeros - 0x3030303030303030
	v = (v*10 + v>>8) & 0x00FF00FF00FF00FF
	y := int(v&0xFF)*100 + int(v>>16&0xFF)
	m := int(v>>32&0xFF)*10 + int(s[6]-'0')
	d := int(d1)*10 + int(d2)
	if y < 1 || m < 1 || m > 12 || d < 1 || (d > 28 && d > daysIn(y, m)) {
		return 0, false
	}
	if uint(y-yearTableFirst) < uint(len(yearTable)) {
		e := yearTable[y-yearTableFirst]
		days = int64(e>>1) + int64(daysBefore[m&15]) + int64(d) - 1
		if m > 2 {
			days += int64(e & 1)
		}
		return days - yearTableEpoch, true
	}
	return daysFromYMD(y, m, d), true
}

// yearTable holds, for the years most data has, the days from 0001-01-01
// to January 1st (shifted left by one) and whether the year is a leap year
// (bit 0): a table read instead of divisions in isoDate.
const (
	yearTableFirst = 1900
	yearTableEpoch = 719162 // days from 0001-01-01 to 1970-01-01
)

var yearTable = func() (t [256]uint32) {
	for i := range t {
		y := yearTableFirst + i
		start := daysFromYMD(y, 1, 1) + yearTableEpoch
		leap := uint32(0)
		if isLeap(y) {
			leap = 1
		}
		t[i] = uint32(start)<<1 | leap
	}
	return t
}()

// isoDateTime parses YYYY-MM-DD( |T)HH:MM:SS[.f][Z] as a DATETIME keeping
// scale fraction digits; ok is false for any other text.
func isoDateTime(s string, scale int) (Value, bool) {
	if len(s) < 19 || (s[10] != ' ' && s[10] != 'T') {
		return Null, false
	}
	days, ok := isoDate(s)
	if !ok {
		return Null, false
	}
	w := load64(s, 11)
	if w&clockMask != clockSeps || !eightDigits(w&^clockMask|clockZeros) {
		return Null, false
	}
	h := int64(s[11]-'0')*10 + int64(s[12]-'0')
	mi := int64(s[14]-'0')*10 + int64(s[15]-'0')
	sec := int64(s[17]-'0')*10 + int64(s[18]-'0')
	if h > 23 || mi > 59 || sec > 59 {
		return Null, false
	}
	var nanos int64
	i := 19
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		// Keep the first scale digits (at most 9): truncation, as DMS does.
		keep := min(max(scale, 0), MaxFractionDigits)
		var frac int64
		for i < len(s) && isDigit(s[i]) {
			if i-start < keep {
				frac = frac*10 + int64(s[i]-'0')
			}
			i++
		}
		n := i - start
		if n == 0 {
			return Null, false
		}
		nanos = frac * pow10[9-min(n, keep)]
	}
	if i < len(s) && s[i] == 'Z' {
		i++
	}
	if i != len(s) {
		return Null, false
	}
	return Value{Kind: KindTimestamp, Int: days*86400 + h*3600 + mi*60 + sec, Nano: int32(nanos)}, true
}
