package task

import (
	"bytes"
	"testing"
	"time"
)

func TestCheckpointRoundTrip(t *testing.T) {
	cp := testCheckpoint("t1", 42)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cp.SavedAt = t0
	cp.Stats.Tables = []TableStats{{SchemaName: "s", TableName: "a", FullLoadRows: 7, TableState: TableCompleted, FullLoadEndTime: &t0}}
	b, err := encodeCheckpoint(cp)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"version": 1`, `"task": "t1"`, `"fingerprint": "sha256:`, `"phase": "full-load"`,
		`"source": {`, `"stats": {`, `"saved_at": "2026-01-02T03:04:05Z"`, `"identity": {`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("checkpoint lacks %s:\n%s", key, b)
		}
	}
	back, err := decodeCheckpoint(b, "x")
	if err != nil || posOf(back) != 42 || back.Stats.Tables[0].FullLoadRows != 7 || back.Fingerprint != cp.Fingerprint {
		t.Fatalf("%+v %v", back, err)
	}
	// A checkpoint saved before any position reads back with a nil source.
	cp.Source = nil
	b, _ = encodeCheckpoint(cp)
	if back, err := decodeCheckpoint(b, "x"); err != nil || back.Source != nil {
		t.Fatalf("%+v %v", back, err)
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	b, _ := encodeCheckpoint(testCheckpoint("t1", 3))
	f.Add(b)
	f.Add([]byte(`{"version":1,"source":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := decodeCheckpoint(data, "fuzz")
		if err != nil {
			return
		}
		// Whatever decodes must survive a round trip and a resume check.
		if _, err := encodeCheckpoint(cp); err != nil {
			t.Fatal(err)
		}
		_ = CheckResume(cp, cp.Task, cp.Identity)
	})
}

func FuzzParseStopPosition(f *testing.F) {
	for _, s := range []string{"server_time:2018-02-09T12:12:12", "commit_time:2018-02-09", "x:y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseStopPosition(s)
		if err == nil && s != "" && p.Kind != StopServerTime && p.Kind != StopCommitTime {
			t.Fatalf("%q parsed to kind %q", s, p.Kind)
		}
	})
}
