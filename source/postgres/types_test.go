package postgres

import (
	"testing"

	"github.com/sluicedata/sluice/tabledefs"
)

func TestDMSColumn(t *testing.T) {
	tests := []struct {
		typ, typtype string
		typmod       int32
		o            TypeOptions
		want         tabledefs.Column
	}{
		{"int4", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeInt4}},
		{"int2", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeInt2}},
		{"int8", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeInt8}},
		{"numeric", "b", (10<<16 | 2) + 4, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeNumeric, Precision: 10, Scale: 2}},
		{"numeric", "b", (39<<16 | 2) + 4, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 41}},
		{"numeric", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeNumeric, Precision: 28, Scale: 6}},
		{"numeric", "b", -1, TypeOptions{MapUnboundedNumericAsString: true}, tabledefs.Column{Type: tabledefs.TypeString}},
		{"float4", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeReal4}},
		{"float8", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeReal8}},
		{"money", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeNumeric, Precision: 38, Scale: 4}},
		{"bool", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 5}},
		{"bool", "b", -1, TypeOptions{MapBooleanAsBoolean: true}, tabledefs.Column{Type: tabledefs.TypeBoolean}},
		{"bpchar", "b", 9, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 20}},
		{"varchar", "b", 14, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 40}},
		{"varchar", "b", 20000, TypeOptions{MapLongVarcharAs: "nclob"}, tabledefs.Column{Type: tabledefs.TypeClob}},
		{"varchar", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString}},
		{"text", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeClob}},
		{"jsonb", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeClob}},
		{"bytea", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeBlob}},
		{"timestamp", "b", 3, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeDateTime, Scale: 3}},
		{"timestamptz", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeDateTime, Scale: 6}},
		{"date", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeDate}},
		{"time", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeTime, Scale: 6}},
		{"interval", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 128}},
		{"inet", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 50}},
		{"uuid", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 36}},
		{"_int4", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeClob}},
		{"mood", "e", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 64}},
		{"point", "b", -1, TypeOptions{}, tabledefs.Column{Type: tabledefs.TypeString, Length: 255}},
	}
	for _, tt := range tests {
		if got := ColumnFor(tt.typ, tt.typtype, tt.typmod, tt.o); got != tt.want {
			t.Errorf("ColumnFor(%s, %d, %+v) = %+v, want %+v", tt.typ, tt.typmod, tt.o, got, tt.want)
		}
	}
}

func TestDecodeText(t *testing.T) {
	col := func(ty tabledefs.Type, scale int) *tabledefs.Column {
		return &tabledefs.Column{Name: "c", Type: ty, Scale: scale, Precision: 38}
	}
	tests := []struct {
		c       *tabledefs.Column
		oid     uint32
		in      string
		want    string // AppendText rendering
		wantErr bool
	}{
		{col(tabledefs.TypeInt4, 0), 23, "-42", "-42", false},
		{col(tabledefs.TypeInt4, 0), 23, "x", "", true},
		{&tabledefs.Column{Type: tabledefs.TypeString, Length: 5}, oidBool, "t", "true", false},
		{&tabledefs.Column{Type: tabledefs.TypeString, Length: 5}, oidBool, "f", "false", false},
		{col(tabledefs.TypeBoolean, 0), oidBool, "t", "true", false},
		{col(tabledefs.TypeBlob, 0), oidBytea, `\x00ff10`, "00FF10", false},
		{col(tabledefs.TypeBlob, 0), oidBytea, `\000`, "", true},
		{&tabledefs.Column{Type: tabledefs.TypeString, Length: 20}, oidBpchar, "ab   ", "ab", false},
		{&tabledefs.Column{Type: tabledefs.TypeNumeric, Precision: 38, Scale: 4}, oidMoney, "-$1,234.50", "-1234.5000", false},
		{col(tabledefs.TypeDateTime, 6), oidTimestamptz, "2024-01-02 03:04:05.5+00", "2024-01-02 03:04:05.500000", false},
		{col(tabledefs.TypeDateTime, 6), 1114, "2024-01-02 03:04:05.5", "2024-01-02 03:04:05.500000", false},
		{col(tabledefs.TypeTime, 6), oidTimetz, "01:00:00+02", "23:00:00.000000", false},
		{col(tabledefs.TypeTime, 6), oidTimetz, "23:30:00-01:30", "01:00:00.000000", false},
		{col(tabledefs.TypeTime, 6), oidTimetz, "23:30:00-xx", "", true},
		{col(tabledefs.TypeDate, 0), 1082, "2024-02-29", "2024-02-29", false},
		{col(tabledefs.TypeReal8, 0), 701, "Infinity", "+Inf", false},
	}
	for _, tt := range tests {
		v, err := decodeText(tt.c, tt.oid, tt.in, true)
		if (err != nil) != tt.wantErr {
			t.Errorf("decodeText(%s, %d, %q) error = %v, wantErr %v", tt.c.Type, tt.oid, tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got := string(tabledefs.AppendText(nil, v, tt.c)); got != tt.want {
			t.Errorf("decodeText(%s, %d, %q) = %q, want %q", tt.c.Type, tt.oid, tt.in, got, tt.want)
		}
	}
}

func TestPosition(t *testing.T) {
	p := position{Phase: phaseCDC, Slot: "s", Publication: "p", LSN: "0/1538AC0", Tx: "0/1539680", TxSeq: 500}
	raw := p.encode()
	if string(raw) != `{"v":1,"phase":"cdc","slot":"s","publication":"p","lsn":"0/1538AC0","tx":"0/1539680","tx_seq":500}` {
		t.Fatalf("encode = %s", raw)
	}
	back, err := decodePosition(raw)
	if err != nil || back.lsn() != 0x1538AC0 || back.TxSeq != 500 {
		t.Fatalf("decode = %+v, %v", back, err)
	}
	for _, bad := range []string{`{}`, `{"v":2,"phase":"cdc","lsn":"0/1"}`, `{"v":1,"phase":"cdc"}`, `{"v":1,"phase":"x"}`,
		`{"v":1,"phase":"cdc","lsn":"0/1","tx":"zz"}`, `not json`} {
		if _, err := decodePosition([]byte(bad)); err == nil {
			t.Errorf("decodePosition(%s): no error", bad)
		}
	}
}
