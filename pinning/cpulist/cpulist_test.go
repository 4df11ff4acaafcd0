package cpulist

import (
	"strings"
	"testing"

	"k8s.io/utils/cpuset"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string // a part of the error, "" for none
	}{
		{"", "", ""},
		{" ", "", ""},
		{"3", "3", ""},
		{"0-3,8", "0-3,8", ""},
		{"2-7,12", "2-7,12", ""},
		{"0-1,3\n", "0-1,3", ""}, // as the kernel's files end
		{" 5 ", "5", ""},
		{"0-7,^3,^5-6", "0-2,4,7", ""},
		{"^2,0-3", "0-1,3", ""},
		{" 1 , 2 ", "1-2", ""},
		{"1,1,1", "1", ""},
		{"^1", "", ""},
		{"8191", "8191", ""},
		{"0,", "", "missing CPU number"},
		{",0", "", "missing CPU number"},
		{"1,,2", "", "missing CPU number"},
		{"0-", "", "missing CPU number"},
		{"a", "", `"a" is not a CPU number`},
		{"3-1", "", "range 3-1 runs backwards"},
		{"-1", "", "missing CPU number"},
		{"1-2-3", "", `"2-3" is not a CPU number`},
		{"8192", "", "CPU 8192 out of range 0-8191"},
		{"0-999999999", "", "out of range"},
		{"99999999999999999999", "", "CPU 99999999999999999999 out of range 0-8191"},
		{"0-64,^3-63", "0-2,64", ""},
		{"63-64", "63-64", ""},
		{"0-8191,^1-8190", "0,8191", ""},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Parse(%q): %v", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Parse(%q) = %s, %v; want an error with %q", tt.in, got, err, tt.wantErr)
		case err == nil && got.String() != tt.want:
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got.String(), tt.want)
		}
	}
}

// FuzzParse: no input panics the parser or names a CPU outside 0..Max,
// and whatever parses prints back (cpuset's canonical form) to a list
// that parses to the same set.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,8", "2-7,12", "0-1,3\n", " 5 ", "0-7,^3", "3-1", "1,,2", "0-", "-1",
		"1-2-3", "^0-65536", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if err != nil {
			return
		}
		if l := set.List(); len(l) > 0 && (l[0] < 0 || l[len(l)-1] > Max) {
			t.Fatalf("Parse(%q) = %s: out of 0-%d", s, set, Max)
		}
		again, err := Parse(set.String())
		if err != nil || !again.Equals(set) {
			t.Fatalf("Parse(%q) = %s, which parses back as %s, %v", s, set, again, err)
		}
		if plain, err := cpuset.Parse(set.String()); err != nil || !plain.Equals(set) {
			t.Fatalf("Parse(%q) = %s, which cpuset.Parse reads as %s, %v", s, set, plain, err)
		}
	})
}

// TestParse_LongList_Bounded: a list repeating the widest range 20,000
// times (140 kB) is read in a fixed bitmap, not expanded CPU by CPU.
func TestParse_LongList_Bounded(t *testing.T) {
	long := strings.Repeat("0-8191,", 20000) + "^5"
	var set cpuset.CPUSet
	allocs := testing.AllocsPerRun(1, func() {
		var err error
		if set, err = Parse(long); err != nil {
			t.Fatal(err)
		}
	})
	if set.Size() != 8191 || set.Contains(5) {
		t.Errorf("Parse(long) has %d CPUs (5 in it: %v), want 8191 without 5", set.Size(), set.Contains(5))
	}
	// the set itself: one map of 8,191 CPUs and its list; not one per item
	if allocs > 200 {
		t.Errorf("Parse(long) made %.0f allocations", allocs)
	}
}
