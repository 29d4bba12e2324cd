package s3parquet

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const ext = ".parquet"

// cdcLayout is DMS's CDC file name: yyyyMMdd-HHmmss plus milliseconds.
const cdcLayout = "20060102-150405.000"

// loadName is DMS's full-load file name: LOAD + 8 uppercase hex digits.
func loadName(n int64) string { return fmt.Sprintf("LOAD%08X%s", n, ext) }

func cdcName(t time.Time) string {
	return strings.Replace(t.Format(cdcLayout), ".", "", 1) + ext
}

// parseLoadName returns the number of a LOAD file name.
func parseLoadName(name string) (int64, bool) {
	h, ok := strings.CutPrefix(name, "LOAD")
	if !ok {
		return 0, false
	}
	h, _, _ = strings.Cut(h, ".")
	if len(h) < 8 {
		return 0, false
	}
	n, err := strconv.ParseInt(h, 16, 64)
	return n, err == nil
}

// parseCDCName returns the time of a CDC file name (in loc).
func parseCDCName(name string, loc *time.Location) (time.Time, bool) {
	base, ok := strings.CutSuffix(name, ext)
	if !ok || len(base) != len("20060102-150405000") {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(cdcLayout, base[:15]+"."+base[15:], loc)
	return t, err == nil
}

// datePart is the date-partition folder of a CDC commit time, e.g.
// "2023/04/05" for YYYYMMDD with SLASH.
func (s *settings) datePart(t time.Time) string {
	t = t.In(s.loc)
	parts := make([]string, len(s.partLayout))
	for i, f := range s.partLayout {
		switch f {
		case "YYYY":
			parts[i] = fmt.Sprintf("%04d", t.Year())
		case "MM":
			parts[i] = fmt.Sprintf("%02d", int(t.Month()))
		case "DD":
			parts[i] = fmt.Sprintf("%02d", t.Day())
		case "HH":
			parts[i] = fmt.Sprintf("%02d", t.Hour())
		}
	}
	return strings.Join(parts, s.partDelim)
}

// folderNames hands out file names in one folder that no earlier run used:
// on first use it lists the folder, then LOAD numbers continue after the
// highest one present and CDC names are strictly later than the latest.
// A restarted run therefore adds files beside the old ones and never
// overwrites one (at-least-once: re-delivered rows appear again).
type folderNames struct {
	nextLoad int64
	lastCDC  time.Time
}

func (t *Target) namesFor(ctx context.Context, folder string) (*folderNames, error) {
	if f, ok := t.folders[folder]; ok {
		return f, nil
	}
	names, err := t.store.names(ctx, folder)
	if err != nil {
		return nil, err
	}
	f := &folderNames{nextLoad: 1}
	for _, n := range names {
		if i, ok := parseLoadName(n); ok && i >= f.nextLoad {
			f.nextLoad = i + 1
		}
		if c, ok := parseCDCName(n, t.set.loc); ok && c.After(f.lastCDC) {
			f.lastCDC = c
		}
	}
	t.folders[folder] = f
	return f, nil
}

func (f *folderNames) load() string {
	n := f.nextLoad
	f.nextLoad++
	return loadName(n)
}

// cdc names a CDC file written at now, one millisecond after the previous
// name if the clock has not moved on (or went back).
func (f *folderNames) cdc(now time.Time, loc *time.Location) string {
	now = now.In(loc).Truncate(time.Millisecond)
	if !now.After(f.lastCDC) {
		now = f.lastCDC.Add(time.Millisecond).In(loc)
	}
	f.lastCDC = now
	return cdcName(now)
}
