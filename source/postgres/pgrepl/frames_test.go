package pgrepl

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFrameKeepalive(t *testing.T) {
	// 'k', walEnd 0/1505800, serverTime 1 s after the PG epoch, reply 1.
	data := mustHex(t, "6b"+"0000000001505800"+"00000000000f4240"+"01")
	f, err := ParseFrame(data)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := f.(Keepalive)
	if !ok {
		t.Fatalf("got %T, want Keepalive", f)
	}
	want := Keepalive{ServerEnd: 0x1505800, ServerTime: time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC), ReplyNow: true}
	if k != want {
		t.Errorf("got %+v, want %+v", k, want)
	}
}

func TestParseFrameXLogData(t *testing.T) {
	data := mustHex(t, "77"+"0000000001505A28"+"0000000001505A58"+"0000000000000000"+"4200")
	f, err := ParseFrame(data)
	if err != nil {
		t.Fatal(err)
	}
	x, ok := f.(XLogData)
	if !ok {
		t.Fatalf("got %T, want XLogData", f)
	}
	if x.Start != 0x1505A28 || x.ServerEnd != 0x1505A58 || !x.ServerTime.Equal(PGTime(0)) || !bytes.Equal(x.Payload, []byte("B\x00")) {
		t.Errorf("got %+v", x)
	}
}

func TestParseFrameErrors(t *testing.T) {
	for _, data := range []string{"", "6b00", "6b" + "000000000150580000000000000f424001" + "00", "77" + "00", "7a00", "72"} {
		if _, err := ParseFrame(mustHex(t, data)); err == nil {
			t.Errorf("ParseFrame(%s): no error", data)
		}
	}
}

func TestStatusEncoding(t *testing.T) {
	s := Status{Written: 0x10, Flushed: 0x1_00000020, Applied: 0x30,
		At: time.Date(2000, 1, 1, 0, 0, 2, 0, time.UTC), ReplyNow: true}
	got := AppendStatus(nil, s)
	want := mustHex(t, "72"+"0000000000000010"+"0000000100000020"+"0000000000000030"+"00000000001e8480"+"01")
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendStatus = %x\nwant           %x", got, want)
	}
	back, err := ParseStatus(got)
	if err != nil {
		t.Fatal(err)
	}
	if back.Written != s.Written || back.Flushed != s.Flushed || back.Applied != s.Applied || !back.At.Equal(s.At) || !back.ReplyNow {
		t.Errorf("ParseStatus = %+v, want %+v", back, s)
	}
	if _, err := ParseStatus(got[:33]); err == nil {
		t.Error("ParseStatus of a short frame: no error")
	}
}

func TestPGTime(t *testing.T) {
	ts := time.Date(2026, 11, 23, 2, 5, 22, 123456000, time.UTC)
	if got := PGTime(PGMicros(ts)); !got.Equal(ts) {
		t.Errorf("round trip = %v, want %v", got, ts)
	}
	if got := PGMicros(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); got != 0 {
		t.Errorf("PGMicros(epoch) = %d", got)
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{"sluice_slot": true, "A1": true, "": false, "a-b": false, "a b": false,
		"x'; DROP": false, string(make([]byte, 64)): false} {
		if err := ValidName("slot", name); (err == nil) != ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
