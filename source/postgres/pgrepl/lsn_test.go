package pgrepl

import "testing"

func TestParseLSN(t *testing.T) {
	tests := []struct {
		in      string
		want    LSN
		wantErr bool
	}{
		{"0/0", 0, false},
		{"16/B374D848", 0x16_B374D848, false},
		{"16/b374d848", 0x16_B374D848, false},
		{"FFFFFFFF/FFFFFFFF", ^LSN(0), false},
		{"0/1505A58", 0x1505A58, false},
		{"", 0, true},
		{"12", 0, true},
		{"/1", 0, true},
		{"1/", 0, true},
		{"1/2/3", 0, true},
		{"100000000/0", 0, true},
		{"+1/0", 0, true},
		{"g/0", 0, true},
		{" 1/0", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseLSN(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseLSN(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseLSN(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestLSNString(t *testing.T) {
	for _, tt := range []struct {
		l    LSN
		want string
	}{{0, "0/0"}, {0x16_B374D848, "16/B374D848"}, {0x1505A58, "0/1505A58"}, {^LSN(0), "FFFFFFFF/FFFFFFFF"}} {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("%d.String() = %q, want %q", uint64(tt.l), got, tt.want)
		}
		back, err := ParseLSN(tt.want)
		if err != nil || back != tt.l {
			t.Errorf("ParseLSN(%q) = %v, %v; want %d", tt.want, back, err, uint64(tt.l))
		}
	}
}
