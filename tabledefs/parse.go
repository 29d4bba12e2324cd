package tabledefs

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Limits of the external table definition (dms-behaviour.md §1.3).
const (
	MaxPrecision      = 38
	MaxNumericScale   = 31
	MaxFractionDigits = 9          // DATETIME and TIME ColumnScale
	MaxColumnLength   = 2147483647 // S3 sources have no full-LOB mode
)

// Load reads and parses the external table definition at path. An unreadable
// file is returned as a wrapped I/O error; an invalid definition as Problems.
func Load(path string) (*Definition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading table definition %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses and validates an external table definition. file names the
// document in problems. When anything is wrong the error is Problems listing
// every problem found, and the Definition is nil.
func Parse(file string, data []byte) (*Definition, error) {
	// Editors on Windows save a byte-order mark; RFC 8259 lets parsers skip it.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	doc, err := DecodeJSON(file, data)
	if err != nil {
		return nil, err
	}
	var ps Problems
	root, ok := AsObject(doc, file, "$", &ps)
	if !ok {
		return nil, ps
	}
	count, hasCount := root.Int("TableCount", false)
	tables, hasTables := root.Array("Tables", true)
	root.Unknown()

	def := &Definition{}
	if hasTables {
		if len(tables) == 0 {
			ps.Add(file, root.KeyPath("Tables"), "must list at least one table")
		}
		if hasCount && count != len(tables) {
			ps.Add(file, root.KeyPath("TableCount"), "is %d but Tables has %d entries", count, len(tables))
		}
		for i, raw := range tables {
			path := fmt.Sprintf("$.Tables[%d]", i)
			if t, ok := parseTable(raw, file, path, &ps); ok {
				def.Tables = append(def.Tables, t)
			}
		}
		checkTables(def.Tables, tables, file, &ps)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return def, nil
}

// parseTable reads one entry of Tables. ok is false when the entry is not an
// object at all; a table with problems is still returned so that duplicate
// checks can see it.
func parseTable(raw any, file, path string, ps *Problems) (Table, bool) {
	o, ok := AsObject(raw, file, path, ps)
	if !ok {
		return Table{}, false
	}
	var t Table
	t.Name = nonEmpty(o, "TableName")
	t.Path = nonEmpty(o, "TablePath")
	t.Owner = nonEmpty(o, "TableOwner")
	cols, hasCols := o.Array("TableColumns", true)
	total, hasTotal := o.Int("TableColumnsTotal", false)
	o.Unknown()

	if !hasCols {
		return t, true
	}
	if len(cols) == 0 {
		ps.Add(file, o.KeyPath("TableColumns"), "must list at least one column")
	}
	if hasTotal && total != len(cols) {
		ps.Add(file, o.KeyPath("TableColumnsTotal"), "is %d but TableColumns has %d entries", total, len(cols))
	}
	seen := map[string]int{}
	for i, rc := range cols {
		cpath := fmt.Sprintf("%s.TableColumns[%d]", path, i)
		c, ok := parseColumn(rc, file, cpath, ps)
		if !ok {
			continue
		}
		if c.Name != "" {
			key := strings.ToLower(c.Name)
			if j, dup := seen[key]; dup {
				ps.Add(file, cpath+".ColumnName", "duplicate column %q (also at %s.TableColumns[%d])", c.Name, path, j)
			} else {
				seen[key] = i
			}
		}
		t.Columns = append(t.Columns, c)
	}
	return t, true
}

// checkTables reports tables defined twice and tables whose files overlap:
// the S3 source lists every object under TablePath, so a path that is a
// prefix of another table's path would read that table's files too. It runs
// in O(n log n) since a 2 MB definition can hold thousands of tables.
func checkTables(tables []Table, raws []any, file string, ps *Problems) {
	// tables holds only the entries that were objects; map back to indexes.
	idx := make([]int, 0, len(tables))
	for i, r := range raws {
		if _, ok := r.(map[string]any); ok {
			idx = append(idx, i)
		}
	}
	type finding struct {
		at, other int // table positions; the problem is reported at "at"
		path, msg string
	}
	var found []finding
	byName := map[string]int{}
	for i := range tables {
		t := &tables[i]
		if t.Name == "" || t.Owner == "" {
			continue
		}
		key := strings.ToLower(t.Owner) + "\x00" + strings.ToLower(t.Name)
		if j, dup := byName[key]; dup {
			found = append(found, finding{i, j, "TableName",
				fmt.Sprintf("duplicate table %s.%s (also at $.Tables[%d])", t.Owner, t.Name, idx[j])})
			continue
		}
		byName[key] = i
	}
	// After sorting, every path that has paths[i] as a prefix follows it directly.
	order := make([]int, 0, len(tables))
	for i := range tables {
		if tables[i].Path != "" {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return tables[order[a]].Path < tables[order[b]].Path })
	for k, a := range order {
		pa := tables[a].Path
		for _, b := range order[k+1:] {
			pb := tables[b].Path
			if !strings.HasPrefix(pb, pa) {
				break
			}
			if pa == pb {
				found = append(found, finding{b, a, "TablePath",
					fmt.Sprintf("%q is also the TablePath of $.Tables[%d]; both tables would read the same files", pb, idx[a])})
			} else {
				found = append(found, finding{a, b, "TablePath",
					fmt.Sprintf("%q is a prefix of the TablePath %q of $.Tables[%d]; it would read that table's files too", pa, pb, idx[b])})
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].at != found[j].at {
			return found[i].at < found[j].at
		}
		return found[i].other < found[j].other
	})
	for _, f := range found {
		ps.Add(file, fmt.Sprintf("$.Tables[%d].%s", idx[f.at], f.path), "%s", f.msg)
	}
}

func nonEmpty(o *Object, key string) string {
	s, ok := o.String(key, true)
	if ok && strings.TrimSpace(s) == "" {
		o.P.Add(o.File, o.KeyPath(key), "must not be empty")
	}
	return s
}

// typeAliases maps type names of other systems to the DMS type a user most
// likely meant, for a better suggestion than edit distance gives.
var typeAliases = map[string]Type{
	"TINYINT": TypeInt1, "SMALLINT": TypeInt2, "INT": TypeInt4, "INTEGER": TypeInt4,
	"BIGINT": TypeInt8, "LONG": TypeInt8, "DECIMAL": TypeNumeric, "NUMBER": TypeNumeric,
	"FLOAT": TypeReal4, "DOUBLE": TypeReal8, "REAL": TypeReal4, "VARCHAR": TypeString,
	"CHAR": TypeString, "TEXT": TypeString, "WSTRING": TypeString, "NCLOB": TypeClob,
	"TIMESTAMP": TypeDateTime, "BOOL": TypeBoolean, "BINARY": TypeByte,
	"VARBINARY": TypeByte, "BYTES": TypeByte, "BYTEA": TypeByte,
}

func parseColumn(raw any, file, path string, ps *Problems) (Column, bool) {
	o, ok := AsObject(raw, file, path, ps)
	if !ok {
		return Column{}, false
	}
	var c Column
	c.Name = nonEmpty(o, "ColumnName")
	typeName, hasType := o.String("ColumnType", true)
	hasLength := o.Has("ColumnLength")
	length, lengthOK := o.Int("ColumnLength", false)
	hasPrecision := o.Has("ColumnPrecision")
	precision, precisionOK := o.Int("ColumnPrecision", false)
	hasScale := o.Has("ColumnScale")
	scale, scaleOK := o.Int("ColumnScale", false)
	c.Nullable, _ = o.Bool("ColumnNullable")
	c.IsPK, _ = o.Bool("ColumnIsPk")
	format, hasFormat := o.String("ColumnDateFormat", false)
	o.Unknown()

	add := func(key, format string, args ...any) { ps.Add(file, o.KeyPath(key), format, args...) }
	if hasType {
		t, known := ParseType(strings.TrimSpace(typeName))
		if !known {
			add("ColumnType", "%s", unknownType(typeName))
		}
		c.Type = t
	}
	if hasFormat {
		c.DateFormat = format
		if layoutOf(format) == layoutNone {
			if s := suggestFormat(format); s != "" {
				add("ColumnDateFormat", "unknown date format %q (did you mean %q?)", format, s)
			} else {
				add("ColumnDateFormat", "unknown date format %q; allowed: %s", format, strings.Join(dateFormats[:], ", "))
			}
		} else if c.Type != TypeInvalid && !isTemporal(c.Type) {
			add("ColumnDateFormat", "is only valid for DATE, TIME and DATETIME, not %s", c.Type)
		}
	}
	if lengthOK {
		c.Length = length
	}
	if precisionOK {
		c.Precision = precision
	}
	if scaleOK {
		c.Scale = scale
	}
	if c.Type == TypeInvalid {
		return c, true // type-specific rules cannot be checked
	}

	switch c.Type {
	case TypeString, TypeByte:
		switch {
		case !hasLength:
			add("ColumnLength", "is required for %s", c.Type)
		case lengthOK && (length < 1 || length > MaxColumnLength):
			add("ColumnLength", "must be between 1 and %d, not %d", MaxColumnLength, length)
		}
	default:
		if hasLength {
			add("ColumnLength", "is only valid for STRING and BYTE, not %s", c.Type)
		}
	}

	if c.Type == TypeNumeric {
		switch {
		case !hasPrecision:
			add("ColumnPrecision", "is required for NUMERIC")
		case precisionOK && (precision < 1 || precision > MaxPrecision):
			add("ColumnPrecision", "must be between 1 and %d, not %d", MaxPrecision, precision)
			precisionOK = false
		}
		switch {
		case !hasScale:
			add("ColumnScale", "is required for NUMERIC")
		case scaleOK && (scale < 0 || scale > MaxNumericScale):
			add("ColumnScale", "must be between 0 and %d for NUMERIC, not %d", MaxNumericScale, scale)
		case scaleOK && precisionOK && scale > precision:
			add("ColumnScale", "%d is larger than ColumnPrecision %d", scale, precision)
		}
	} else if hasPrecision {
		add("ColumnPrecision", "is only valid for NUMERIC, not %s", c.Type)
	}

	switch c.Type {
	case TypeNumeric:
	case TypeDateTime, TypeTime:
		if scaleOK && (scale < 0 || scale > MaxFractionDigits) {
			add("ColumnScale", "must be between 0 and %d for %s, not %d", MaxFractionDigits, c.Type, scale)
		}
	default:
		if hasScale {
			add("ColumnScale", "is only valid for NUMERIC, DATETIME and TIME, not %s", c.Type)
		}
	}
	return c, true
}

func unknownType(name string) string {
	if t, ok := typeAliases[strings.ToUpper(strings.TrimSpace(name))]; ok {
		return fmt.Sprintf("unknown column type %q (did you mean %q?)", name, t.String())
	}
	names := make([]string, 0, len(typeNames)-1)
	for _, t := range Types() {
		names = append(names, t.String())
	}
	if s := Closest(name, names); s != "" {
		return fmt.Sprintf("unknown column type %q (did you mean %q?)", name, s)
	}
	return fmt.Sprintf("unknown column type %q; valid types: %s", name, strings.Join(names, ", "))
}

func isTemporal(t Type) bool {
	return t == TypeDate || t == TypeTime || t == TypeDateTime
}

// suggestFormat finds the allowed format a user most likely meant: one that
// starts with what was given (a date-only pattern), else the closest.
func suggestFormat(format string) string {
	if strings.TrimSpace(format) != "" {
		for _, f := range dateFormats {
			if strings.HasPrefix(strings.ToLower(f), strings.ToLower(format)) {
				return f
			}
		}
	}
	return Closest(format, dateFormats[:])
}
