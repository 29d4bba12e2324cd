// Package tabledefs reads DMS external table definitions, validates them, and
// parses CSV field text into typed values per the DMS type system.
//
// # Definitions
//
// Parse and Load read the JSON of dms-behaviour.md §1.3. Values may be JSON
// strings, as AWS writes them ("5", "true"), or native numbers and booleans.
// Validation reports every problem as FILE:JSONPATH: message (Problems):
// missing or empty required fields, unknown keys and unknown ColumnType
// (with a suggestion), NUMERIC without ColumnPrecision/ColumnScale or
// outside precision 1–38, scale 0–31, scale ≤ precision; STRING/BYTE without
// a ColumnLength of 1–2147483647; ColumnLength, ColumnPrecision or
// ColumnScale on a type they do not apply to; DATETIME/TIME scale outside
// 0–9; a ColumnDateFormat outside the eight DMS patterns or on a non-date
// type; duplicate tables (TableOwner+TableName) and columns, both
// case-insensitive; a TablePath equal to or a prefix of another table's
// (the source would read the other table's files); TableCount and
// TableColumnsTotal (both optional) that disagree with the arrays; an empty
// Tables or TableColumns. Load returns I/O errors wrapped, not as Problems.
//
// # Types and values
//
// Each of the 19 types parses to one Kind of Value (see Type.Kind). Column.ParseValue
// takes the text of a non-NULL field; the caller decides what is NULL. No
// surrounding whitespace is trimmed for any type. Errors are *ValueError;
// Truncation marks the ones DataTruncationErrorPolicy governs.
//
//   - INT1..INT8, UINT1..UINT8: optional sign, decimal digits, leading zeros
//     allowed, exact 64-bit range checks (no floats). Unsigned types refuse
//     negative values ("-0" is 0).
//   - NUMERIC: [+-]digits[.digits], ".5" and "5." allowed, no exponent. Held
//     as exact canonical text: no '+', no leading zeros, no negative zero,
//     exactly ColumnScale fraction digits. More integer digits than
//     precision−scale is an error. Extra fraction digits are accepted when
//     they are zeros and are a truncation error otherwise (never rounded).
//   - REAL4, REAL8: strconv.ParseFloat with bit size 32 or 64 (Go syntax,
//     so NaN and Inf are accepted; the JSON encoder must decide how to show
//     them). Rendered with the shortest text that round-trips ('g', -1, at
//     the type's bit size), e.g. 0.1, 1e+06.
//   - BOOLEAN: true/false, t/f, 1/0, y/n, yes/no, any case; rendered true/false.
//   - STRING, CLOB: the text itself, not copied; it must be valid UTF-8 (JSON
//     targets could not carry it otherwise). A STRING longer than
//     ColumnLength bytes is a truncation error.
//   - BYTE, BLOB: hex digits of either case with an optional 0x or 0X prefix;
//     an odd digit count is an error. A BYTE longer than ColumnLength bytes
//     is a truncation error. Rendered as upper-case hex without prefix.
//   - DATE, TIME, DATETIME without ColumnDateFormat: YYYY-MM-DD,
//     YYYY-MM-DD HH:MM:SS[.f…] and YYYY-MM-DDTHH:MM:SS[.f…][Z] (only Z: other
//     offsets are refused rather than misread). With ColumnDateFormat, the
//     pattern exactly, two-digit fields, ".F" meaning an optional fraction of
//     any length; the date part alone is also accepted (midnight). Years
//     0001–9999; invalid dates such as 2023-02-30 and leap seconds are errors.
//     DATETIME and TIME keep ColumnScale fraction digits (default 0) and drop
//     the rest without error, as DMS does; ColumnScale on TIME is accepted as
//     an extension of the same rule. TIME also accepts HH:MM:SS[.f] alone, or
//     a full date and time whose date is checked then dropped. A DATE with a
//     non-zero time of day is a truncation error.
//
// AppendText renders the canonical text: DATE 2006-01-02, TIME 15:04:05 and
// DATETIME 2006-01-02 15:04:05, each followed by '.' and exactly ColumnScale
// digits when ColumnScale > 0. AppendTimestampISO gives the
// 2006-01-02T15:04:05[.fff]Z form for JSON. ParseValue(AppendText(v)) == v
// for every value ParseValue returns.
//
// Allocation: ParseValue allocates nothing on success except the decoded
// bytes of BYTE/BLOB, and the canonical text of a NUMERIC whose input is not
// canonical up to a prefix or suffix (e.g. "+5", "5" for scale 2). STRING,
// CLOB and canonical NUMERIC values, and ValueError.Text, alias the input.
package tabledefs
