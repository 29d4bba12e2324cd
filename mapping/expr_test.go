package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/source"
	"github.com/sluicedata/sluice/tabledefs"
)

func exprEnv(t testing.TB, op source.Op) (*tabledefs.Table, *env) {
	def := typedDef()
	tbl := &def.Tables[0]
	vals := make([]tabledefs.Value, len(tbl.Columns))
	for i, f := range []string{"7", "18446744073709551615", "2.5", "10.250", "2024-02-29", "10:11:12.5", "2024-02-29 10:11:12.25", "Hello World", "true"} {
		v, err := tbl.Columns[i].ParseValue(f)
		if err != nil {
			t.Fatal(err)
		}
		vals[i] = v
	}
	ev := &source.Event{Op: op, Table: tbl, Values: vals, TxID: "1139", Origin: "00000002/7C007178", Seq: 3,
		CommitTime: time.Date(2024, 3, 4, 5, 6, 7, 891_000_000, time.UTC)}
	return tbl, &env{ev: ev, now: func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.UTC) }}
}

// show renders an expression result as kind:text.
func show(v tabledefs.Value) string {
	if v.IsNull() {
		return "NULL"
	}
	kind := map[tabledefs.Kind]string{tabledefs.KindInt: "int", tabledefs.KindUint: "uint", tabledefs.KindFloat: "float",
		tabledefs.KindDecimal: "dec", tabledefs.KindBool: "bool", tabledefs.KindString: "text", tabledefs.KindBytes: "bytes",
		tabledefs.KindDate: "date", tabledefs.KindTime: "time", tabledefs.KindTimestamp: "ts"}[v.Kind]
	return kind + ":" + string(appendExprText(nil, v))
}

func TestExpressions(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
		op         source.Op
	}{
		{"$s || '!'", "text:Hello World!", 0},
		{"$S||' '||$i", "text:Hello World 7", 0}, // column names fall back to case-insensitive
		{"'it''s'", "text:it's", 0},
		{`"dq"`, "text:dq", 0},
		{"1 + 2 * 3", "int:7", 0},
		{"(1 + 2) * 3", "int:9", 0},
		{"7 / 2", "int:3", 0},
		{"7.0 / 2", "float:3.5", 0},
		{"7 % 3", "int:1", 0},
		{"1 / 0", "NULL", 0},
		{"-$i + 1", "int:-6", 0},
		{"- -3", "int:3", 0},
		{"$n * 2", "float:20.5", 0},
		{"$u + 1", "float:1.8446744073709552e+19", 0},
		{"9223372036854775807 + 1", "float:9.223372036854776e+18", 0},
		{"'3' + 4", "int:7", 0},
		{"'3abc' + 4", "int:7", 0},
		{"'abc' + 4", "int:4", 0},
		{"1 || 2", "text:12", 0},
		{"'a' || NULL", "NULL", 0},
		{"$i = 7", "int:1", 0},
		{"$i == '7'", "int:1", 0},
		{"$i <> 7", "int:0", 0},
		{"$i != 8", "int:1", 0},
		{"$n > 10.25", "int:0", 0},
		{"$n >= 10.25", "int:1", 0},
		{"$s < 'Hello'", "int:0", 0},
		{"'a' < 'b'", "int:1", 0},
		{"2 < '10'", "int:1", 0},
		{"$d = '2024-02-29'", "int:1", 0},
		{"$d > date('2024-01-01')", "int:1", 0},
		{"NULL = NULL", "NULL", 0},
		{"NULL IS NULL", "int:1", 0},
		{"$i IS NULL", "int:0", 0},
		{"$i IS NOT NULL", "int:1", 0},
		{"$i ISNULL", "int:0", 0},
		{"$i NOTNULL", "int:1", 0},
		{"$i NOT NULL", "int:1", 0},
		{"$i IS 7", "int:1", 0},
		{"$i IN (1, 7, 9)", "int:1", 0},
		{"$i NOT IN (1, 2)", "int:1", 0},
		{"$i IN (1, NULL)", "NULL", 0},
		{"1 AND 0", "int:0", 0},
		{"1 AND NULL", "NULL", 0},
		{"0 AND NULL", "int:0", 0},
		{"1 OR NULL", "int:1", 0},
		{"0 OR NULL", "NULL", 0},
		{"NOT 0", "int:1", 0},
		{"NOT NULL", "NULL", 0},
		{"not 1 = 2 and 3 > 2 or false", "int:1", 0},
		{"TRUE", "int:1", 0},
		{"CASE WHEN $i > 5 THEN 'big' ELSE 'small' END", "text:big", 0},
		{"CASE WHEN $i > 50 THEN 'big' END", "NULL", 0},
		{"case $i when 1 then 'one' when 7 then 'seven' else 'many' end", "text:seven", 0},
		{"upper($s)", "text:HELLO WORLD", 0},
		{"LOWER($s)", "text:hello world", 0},
		{"length($s)", "int:11", 0},
		{"length('héllo')", "int:5", 0},
		{"length(NULL)", "NULL", 0},
		{"substr($s, 1, 5)", "text:Hello", 0},
		{"substr($s, 7)", "text:World", 0},
		{"substr($s, -5)", "text:World", 0},
		{"substr($s, -5, 2)", "text:Wo", 0},
		{"substr($s, 0, 3)", "text:He", 0},
		{"substr($s, 6, -3)", "text:llo", 0},
		{"substr('héllo', 2, 2)", "text:él", 0},
		{"substr($s, 100)", "text:", 0},
		{"substring($s, 1, 1)", "text:H", 0},
		{"trim('  x  ')", "text:x", 0},
		{"ltrim('  x  ')", "text:x  ", 0},
		{"rtrim('xxaxx', 'x')", "text:xxa", 0},
		{"replace($s, 'o', '0')", "text:Hell0 W0rld", 0},
		{"replace($s, '', '0')", "text:Hello World", 0},
		{"coalesce(NULL, NULL, 3)", "int:3", 0},
		{"coalesce(NULL, NULL)", "NULL", 0},
		{"ifnull(NULL, 'd')", "text:d", 0},
		{"nullif($i, 7)", "NULL", 0},
		{"instr($s, 'World')", "int:7", 0},
		{"round(2.567, 2)", "float:2.57", 0},
		{"round(2.5)", "float:3", 0},
		{"round($n)", "float:10", 0},
		{"abs(-3)", "int:3", 0},
		{"abs(-2.5)", "float:2.5", 0},
		{"abs('-4')", "int:4", 0},
		{"datetime('now')", "ts:2025-01-02 03:04:05", 0},
		{"datetime($ts)", "ts:2024-02-29 10:11:12", 0},
		{"datetime('2024-01-02T03:04:05Z')", "ts:2024-01-02 03:04:05", 0},
		{"datetime($d)", "ts:2024-02-29 00:00:00", 0},
		{"date($ts)", "date:2024-02-29", 0},
		{"time($ts)", "time:10:11:12", 0},
		{"datetime('now') || ''", "text:2025-01-02 03:04:05", 0},
		{"operation_indicator('D', 'U', 'I')", "text:I", source.OpInsert},
		{"operation_indicator('D', 'U', 'I')", "text:U", source.OpUpdate},
		{"operation_indicator('D', 'U', 'I')", "text:D", source.OpDelete},
		{"operation_indicator('D', 'U', 'I')", "text:I", source.OpLoad},
		{"$AR_H_OPERATION", "text:INSERT", source.OpInsert},
		{"$AR_H_OPERATION", "text:DELETE", source.OpDelete},
		{"$AR_H_OPERATION", "text:UPDATE", source.OpUpdate},
		{"$AR_H_OPERATION", "text:INSERT", source.OpLoad},
		{"$AR_H_COMMIT_TIMESTAMP", "ts:2024-03-04 05:06:07.891000", source.OpInsert},
		{"$ar_h_timestamp", "ts:2024-03-04 05:06:07.891000", source.OpInsert},
		{"$AR_H_STREAM_POSITION", "text:00000002/7C007178:3", source.OpInsert},
		{"$AR_H_STREAM_POSITION", "text:", source.OpLoad},
		{"$AR_H_CHANGE_SEQ", "text:2024030405060789" + "0000000000000000003", source.OpInsert},
		{"$AR_H_CHANGE_SEQ", "text:", source.OpLoad},
		{"$AR_H_TRANSACTION_ID", "text:1139", source.OpInsert},
		{"$AR_H_USER", "text:", source.OpInsert},
		{"$AR_M_SOURCE_SCHEMA || '.' || $AR_M_SOURCE_TABLE_NAME", "text:s.typed", 0},
	} {
		op := tc.op
		if op == 0 {
			op = source.OpInsert
		}
		tbl, e := exprEnv(t, op)
		ce, err := compileExpr(tc.expr, tbl)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := show(ce.eval(*e)); got != tc.want {
			t.Errorf("%s (%v) = %s, want %s", tc.expr, op, got, tc.want)
		}
	}
}

func TestExpressionLoadTimestamps(t *testing.T) {
	tbl, e := exprEnv(t, source.OpLoad)
	e.ev.CommitTime = time.Time{}
	ce, err := compileExpr("$AR_H_COMMIT_TIMESTAMP", tbl)
	if err != nil {
		t.Fatal(err)
	}
	if got := show(ce.eval(*e)); got != "ts:2025-01-02 03:04:05.600000" {
		t.Errorf("full-load commit timestamp %s, want the current time", got)
	}
}

func TestExpressionErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"", "expression is empty"},
		{"$nope", `column $nope at offset 0 does not exist in s.typed`},
		{"$ii", `(did you mean $i?)`},
		{"upper($s", "expected ',' or ')' but found end of expression"},
		{"uper($s)", "unknown function uper at offset 0 (did you mean upper?)"},
		{"substr($s)", "substr at offset 0 takes 2 to 3 arguments, not 1"},
		{"coalesce(1)", "takes at least 2 arguments"},
		{"1 +", "unexpected end of expression"},
		{"'abc", "unterminated string"},
		{"a + 1", `unknown identifier "a" at offset 0 (columns are written $a)`},
		{"1 ? 2", "unexpected character '?'"},
		{"CASE END", "needs at least one WHEN"},
		{"CASE WHEN 1 THEN 2", "expected END"},
		{"CASE WHEN 1 2 END", "expected THEN"},
		{"operation_indicator($s, 'U', 'I')", "takes three string literals"},
		{"datetime('now', '+1 day')", "takes 1 arguments, not 2"},
		{"datetime('tomorrow')", "neither 'now' nor a date"},
		{"$AR_H_OPERATON", "did you mean $AR_H_OPERATION?"},
		{"$AR_M_SOURCE_COLUMN_NAME", "only defined in column-level expressions"},
		{"$", "must be followed by a column or header name"},
		{"1 2", "unexpected '2' at offset 2"},
		{strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), "nested too deeply"},
		{strings.Repeat("1+", 2000) + "1", "expression too long"},
	} {
		_, err := compileExpr(tc.expr, &typedDef().Tables[0])
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.expr, err, tc.want)
		}
	}
}

// FuzzExpression: parsing never panics, and neither does evaluating what
// parses, on any operation.
func FuzzExpression(f *testing.F) {
	for _, s := range []string{
		"$s || ' ' || $i", "CASE WHEN $i > 5 THEN 'a' ELSE upper($s) END", "substr($s, -3, -2)",
		"round($f * 100 / 3, 2)", "$i IN (1, NULL) OR NOT $b", "datetime($ts)", "coalesce($n, 0) % 0",
		"operation_indicator('D','U','I')", "$AR_H_CHANGE_SEQ || $AR_M_SOURCE_TABLE_NAME", "-9223372036854775808 / -1",
		"abs(-9223372036854775808)", "substr('x', -9223372036854775807, 9223372036854775807)",
		"trim($s, '')", "'1e999' + 0", "$u * $u", "$tm || $d", "1e400 * -1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, op := range []source.Op{source.OpLoad, source.OpInsert, source.OpUpdate, source.OpDelete} {
			tbl, e := exprEnv(t, op)
			ce, err := compileExpr(src, tbl)
			if err != nil {
				return
			}
			v := ce.eval(*e)
			// Conversion may fail (invalid UTF-8 text, say) but must not panic.
			for _, typ := range []tabledefs.Type{tabledefs.TypeString, tabledefs.TypeInt4, tabledefs.TypeNumeric, tabledefs.TypeDateTime} {
				_, _ = coerce(v, &tabledefs.Column{Type: typ, Precision: 10, Scale: 2})
			}
			// NULL rows must not break evaluation either.
			for i := range e.ev.Values {
				e.ev.Values[i] = tabledefs.Null
			}
			ce.eval(*e)
		}
	})
}

func TestTextNumber(t *testing.T) {
	for in, want := range map[string]string{
		"12.5abc": "float:12.5", ".5": "float:0.5", "-3e2x": "float:-300", "e5": "int:0", "+": "int:0",
		"1e": "int:1", " 42 ": "int:42", "1e400": "float:+Inf", "5.": "float:5", "abc": "int:0",
		strings.Repeat("9", 1<<20) + "x": "float:+Inf", // one pass, not quadratic
	} {
		if got := show(textNumber(in)); got != want {
			t.Errorf("textNumber(%.20q) = %s, want %s", in, got, want)
		}
	}
}
