package s3csv

import (
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/sluicedata/sluice/tabledefs"
)

// BenchTable is the 10-column table of the generated benchmark file (the
// shape of reference-figures.md): table bench.rows under bench/rows/.
func BenchTable() *tabledefs.Table {
	return &tabledefs.Table{
		Name: "rows", Owner: "bench", Path: "bench/rows/",
		Columns: []tabledefs.Column{
			{Name: "id", Type: tabledefs.TypeInt8, IsPK: true},
			{Name: "name", Type: tabledefs.TypeString, Length: 64},
			{Name: "qty", Type: tabledefs.TypeInt4},
			{Name: "price", Type: tabledefs.TypeNumeric, Precision: 12, Scale: 2},
			{Name: "created_at", Type: tabledefs.TypeDateTime, Scale: 3},
			{Name: "day", Type: tabledefs.TypeDate},
			{Name: "active", Type: tabledefs.TypeBoolean},
			{Name: "score", Type: tabledefs.TypeReal8},
			{Name: "note", Type: tabledefs.TypeString, Length: 128},
			{Name: "parent_id", Type: tabledefs.TypeInt8, Nullable: true},
		},
	}
}

const genLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "

// GenerateBenchCSV writes rows deterministic CSV rows of BenchTable to w:
// INT8 id, a ~20-character name of which ~12% hold a comma (and are
// quoted), INT4, NUMERIC(12,2), DATETIME with milliseconds, DATE, BOOLEAN,
// REAL8, a ~40-character note, and an INT8 that is empty (NULL) in ~10% of
// rows. Rows average about 160 bytes. The same seed gives the same bytes.
func GenerateBenchCSV(w io.Writer, rows int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	buf := make([]byte, 0, 128<<10)
	const base = 1577836800 // 2020-01-01T00:00:00Z
	for i := range rows {
		id := int64(i) + 1 + seed*1_000_000_000
		buf = strconv.AppendInt(buf, id, 10)
		buf = append(buf, ',')
		if rng.IntN(100) < 12 {
			buf = append(buf, '"')
			buf = appendWord(buf, rng, 8+rng.IntN(5))
			buf = append(buf, ", "...)
			buf = appendWord(buf, rng, 8+rng.IntN(5))
			buf = append(buf, '"')
		} else {
			buf = appendWord(buf, rng, 14+rng.IntN(13))
		}
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(rng.IntN(2_000_000))-1_000_000, 10)
		buf = append(buf, ',')
		cents := rng.Int64N(100_000_000_00)
		buf = strconv.AppendInt(buf, cents/100, 10)
		buf = append(buf, '.', byte('0'+cents%100/10), byte('0'+cents%10))
		buf = append(buf, ',')
		ms := rng.Int64N(5 * 365 * 86400 * 1000)
		buf = appendStamp(buf, base+ms/1000, ms%1000)
		buf = append(buf, ',')
		buf = appendStamp(buf, base+rng.Int64N(5*365)*86400, -1)
		buf = append(buf, ',')
		if rng.IntN(2) == 0 {
			buf = append(buf, "true"...)
		} else {
			buf = append(buf, "false"...)
		}
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, rng.NormFloat64()*1000, 'g', -1, 64)
		buf = append(buf, ',')
		buf = appendWord(buf, rng, 30+rng.IntN(21))
		buf = append(buf, ',')
		if rng.IntN(10) != 0 {
			buf = strconv.AppendInt(buf, rng.Int64N(id+1), 10)
		}
		buf = append(buf, '\n')
		if len(buf) > 120<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

func appendWord(buf []byte, rng *rand.Rand, n int) []byte {
	for range n {
		buf = append(buf, genLetters[rng.IntN(len(genLetters))])
	}
	return buf
}

// appendStamp writes "YYYY-MM-DD HH:MM:SS.mmm", or only the date when ms < 0.
func appendStamp(buf []byte, unix, ms int64) []byte {
	days := unix / 86400
	secs := unix % 86400
	y, m, d := civil(days)
	buf = append4(buf, y)
	buf = append(buf, '-')
	buf = append2(buf, m)
	buf = append(buf, '-')
	buf = append2(buf, d)
	if ms < 0 {
		return buf
	}
	buf = append(buf, ' ')
	buf = append2(buf, int(secs/3600))
	buf = append(buf, ':')
	buf = append2(buf, int(secs/60%60))
	buf = append(buf, ':')
	buf = append2(buf, int(secs%60))
	buf = append(buf, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return buf
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
func append4(b []byte, v int) []byte { return append2(append2(b, v/100), v%100) }

// civil converts days since 1970-01-01 to a Gregorian date (Hinnant).
func civil(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}
