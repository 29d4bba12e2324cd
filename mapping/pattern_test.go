package mapping

import "testing"

func TestPatternMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"%", "", true},
		{"%", "anything", true},
		{"emp", "emp", true},
		{"emp", "Emp", false}, // case-sensitive
		{"emp", "empl", false},
		{"emp%", "employee", true},
		{"emp%", "emp", true},
		{"%loyee", "employee", true},
		{"%loy%", "employee", true},
		{"e%e", "employee", true},
		{"e%e", "employer", false},
		{"e_p", "emp", true},
		{"e_p", "ep", false},
		{"e_p", "eémp", false},
		{"e_p", "eép", true}, // _ is one character, not one byte
		{"tmp[_]%", "tmp_x", true},
		{"tmp[_]%", "tmpx", false},
		{"tmp_%", "tmpx", true},
		{"[ab]%", "apple", true},
		{"[ab]%", "cherry", false},
		{"t[a-c]b", "tbb", true},
		{"t[a-c]b", "tdb", false},
		{"t[^a-c]b", "tdb", true},
		{"t[!a-c]b", "tab", false},
		{"[%]x", "%x", true},
		{"[%]x", "ax", false},
		{"%a%b%c", "xaxbxc", true},
		{"%a%b%c", "xaxcxb", false},
		{"%%", "x", true},
		{"a%", "", false},
	} {
		p, err := compilePattern(tc.pat)
		if err != nil {
			t.Fatalf("%q: %v", tc.pat, err)
		}
		if got := p.match(tc.name); got != tc.want {
			t.Errorf("%q match %q = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
}

func TestPatternExact(t *testing.T) {
	for _, tc := range []struct {
		pat   string
		exact bool
		lit   string
	}{
		{"employee", true, "employee"},
		{"tmp[_]x", true, "tmp_x"},
		{"emp%", false, ""},
		{"e_p", false, ""},
		{"[ab]", false, ""},
	} {
		p, err := compilePattern(tc.pat)
		if err != nil {
			t.Fatal(err)
		}
		if p.hasWildcard() == tc.exact || (tc.exact && p.literal() != tc.lit) {
			t.Errorf("%q: exact=%v literal=%q", tc.pat, !p.hasWildcard(), p.literal())
		}
	}
}

func TestPatternErrors(t *testing.T) {
	for _, pat := range []string{"a[bc", "[]", "[z-a]"} {
		if _, err := compilePattern(pat); err == nil {
			t.Errorf("%q compiled", pat)
		}
	}
}
