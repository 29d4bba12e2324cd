package pgrepl

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/pgoutput")

// fixtureDir is shared with the integration test, which can add fixtures
// captured from a real server (PGOUTPUT_CAPTURE=1).
const fixtureDir = "../../../testdata/pgoutput"

func text(s string) TupleColumn { return TupleColumn{Kind: TupleText, Data: []byte(s)} }

var epochPlus1s = time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want Message
	}{
		{"begin", "42" + "0000000001505A28" + "00000000000f4240" + "000002d6",
			Begin{FinalLSN: 0x1505A28, CommitTime: epochPlus1s, Xid: 726}},
		{"commit", "43" + "00" + "0000000001505A28" + "0000000001505A58" + "00000000000f4240",
			Commit{CommitLSN: 0x1505A28, EndLSN: 0x1505A58, CommitTime: epochPlus1s}},
		{"origin", "4f" + "0000000001505A28" + hex.EncodeToString([]byte("node_a\x00")),
			Origin{CommitLSN: 0x1505A28, Name: "node_a"}},
		{"relation", "52" + "00004000" + hex.EncodeToString([]byte("public\x00items\x00")) + "64" + "0002" +
			"01" + hex.EncodeToString([]byte("id\x00")) + "00000017" + "ffffffff" +
			"00" + hex.EncodeToString([]byte("name\x00")) + "00000019" + "ffffffff",
			Relation{ID: 16384, Namespace: "public", Name: "items", ReplicaIdentity: 'd', Columns: []RelationColumn{
				{Key: true, Name: "id", TypeOID: 23, TypeMod: -1}, {Name: "name", TypeOID: 25, TypeMod: -1}}}},
		{"type", "59" + "00004001" + hex.EncodeToString([]byte("public\x00mood\x00")),
			Type{OID: 16385, Namespace: "public", Name: "mood"}},
		{"insert", "49" + "00004000" + "4e" + "0003" + "74" + "00000001" + "31" + "6e" + "74" + "00000005" + hex.EncodeToString([]byte("apple")),
			Insert{RelationID: 16384, New: Tuple{text("1"), {Kind: TupleNull}, text("apple")}}},
		{"update-no-old", "55" + "00004000" + "4e" + "0002" + "74" + "00000001" + "31" + "75",
			Update{RelationID: 16384, New: Tuple{text("1"), {Kind: TupleUnchanged}}}},
		{"update-key", "55" + "00004000" + "4b" + "0002" + "74" + "00000001" + "34" + "6e" + "4e" + "0002" + "74" + "00000002" + "3430" + "74" + "00000000",
			Update{RelationID: 16384, OldKind: OldKey, Old: Tuple{text("4"), {Kind: TupleNull}}, New: Tuple{text("40"), text("")}}},
		{"update-full", "55" + "00004000" + "4f" + "0001" + "74" + "00000001" + "61" + "4e" + "0001" + "74" + "00000001" + "62",
			Update{RelationID: 16384, OldKind: OldFull, Old: Tuple{text("a")}, New: Tuple{text("b")}}},
		{"delete-key", "44" + "00004000" + "4b" + "0002" + "74" + "00000001" + "32" + "6e",
			Delete{RelationID: 16384, OldKind: OldKey, Old: Tuple{text("2"), {Kind: TupleNull}}}},
		{"truncate", "54" + "00000002" + "03" + "00004000" + "00004002",
			Truncate{Options: TruncateCascade | TruncateRestartIdentity, RelationIDs: []uint32{16384, 16386}}},
		{"message", "4d" + "01" + "0000000001505A28" + hex.EncodeToString([]byte("sluice\x00")) + "00000002" + "6869",
			LogicalMessage{Transactional: true, LSN: 0x1505A28, Prefix: "sluice", Content: []byte("hi")}},
		{"binary-value", "49" + "00000001" + "4e" + "0001" + "62" + "00000002" + "0001",
			Insert{RelationID: 1, New: Tuple{{Kind: TupleBinary, Data: []byte{0, 1}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := mustHex(t, tt.hex)
			got, err := Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode = %#v\nwant     %#v", got, tt.want)
			}
			enc, err := Append(nil, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, payload) {
				t.Errorf("Append = %x\nwant     %x", enc, payload)
			}
			// Decode copies: scribbling on the buffer must not change the message.
			for i := range payload {
				payload[i] = 0xEE
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("the decoded message aliases the payload")
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, hex, want string }{
		{"empty", "", "empty message"},
		{"unknown", "5a00", "unknown message type"},
		{"short begin", "42000000", "truncated"},
		{"long begin", "42" + "0000000001505A28" + "00000000000f4240" + "000002d6" + "00", "trailing"},
		{"unterminated", "4f" + "0000000001505A28" + "6e6f", "unterminated"},
		{"insert marker", "49" + "00004000" + "4b" + "0000", "want 'N'"},
		{"delete marker", "44" + "00004000" + "4e" + "0000", "want 'K' or 'O'"},
		{"update marker", "55" + "00004000" + "4b" + "0000" + "4b" + "0000", "want 'N'"},
		{"tuple kind", "49" + "00004000" + "4e" + "0001" + "78", "unknown tuple column kind"},
		{"value too long", "49" + "00004000" + "4e" + "0001" + "74" + "7fffffff" + "31", "exceeds the message"},
		{"value length max", "49" + "00004000" + "4e" + "0001" + "74" + "ffffffff", "exceeds the message"},
		{"huge column count", "49" + "00004000" + "4e" + "ffff" + "6e", "truncated"},
		{"huge relation", "52" + "00004000" + "7000" + "7400" + "64" + "ffff", "truncated"},
		{"huge truncate", "54" + "ffffffff" + "00", "do not fit"},
		{"message length", "4d" + "01" + "0000000001505A28" + "7000" + "ffffffff", "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(mustHex(t, tt.hex))
			if err == nil {
				t.Fatalf("Decode = %#v, want an error containing %q", m, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestGolden decodes every testdata/pgoutput/*.hex fixture (one message per
// line; '#' starts a comment) and compares a readable rendering with the
// matching .golden file.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures in " + fixtureDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			for i, line := range strings.Split(string(raw), "\n") {
				line, _, _ = strings.Cut(line, "#")
				line = strings.Join(strings.Fields(line), "")
				if line == "" {
					continue
				}
				payload, err := hex.DecodeString(line)
				if err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				m, err := Decode(payload)
				if err != nil {
					fmt.Fprintf(&out, "error: %v\n", err)
					continue
				}
				out.WriteString(Render(m))
				out.WriteByte('\n')
			}
			golden := strings.TrimSuffix(f, ".hex") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("decoded %s:\n%s\nwant:\n%s", f, out.String(), want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	seeds := []string{
		"42" + "0000000001505A28" + "00000000000f4240" + "000002d6",
		"43" + "00" + "0000000001505A28" + "0000000001505A58" + "00000000000f4240",
		"52" + "00004000" + "7000" + "7400" + "64" + "0001" + "01" + "6900" + "00000017" + "ffffffff",
		"49" + "00004000" + "4e" + "0003" + "74" + "00000001" + "31" + "6e" + "75",
		"55" + "00004000" + "4b" + "0001" + "74" + "00000001" + "34" + "4e" + "0001" + "6e",
		"44" + "00004000" + "4f" + "0001" + "6e",
		"54" + "00000001" + "00" + "00004000",
		"4d" + "00" + "0000000001505A28" + "7000" + "00000001" + "41",
		"4f" + "0000000001505A28" + "6100",
		"59" + "00004001" + "7000" + "7400",
	}
	// Every message of the golden fixtures, captured ones included.
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.hex"))
	for _, name := range files {
		raw, _ := os.ReadFile(name)
		for _, line := range strings.Split(string(raw), "\n") {
			line, _, _ = strings.Cut(line, "#")
			seeds = append(seeds, strings.Join(strings.Fields(line), ""))
		}
	}
	for _, s := range seeds {
		if b, err := hex.DecodeString(s); err == nil && len(b) > 0 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := Decode(payload)
		if err != nil {
			return
		}
		// Whatever decodes must survive an encode/decode round trip.
		enc, err := Append(nil, m)
		if err != nil {
			t.Fatalf("Append(%#v): %v", m, err)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding %x: %v", enc, err)
		}
		if Render(m) != Render(m2) {
			t.Fatalf("round trip changed the message:\n%s\n%s", Render(m), Render(m2))
		}
	})
}
