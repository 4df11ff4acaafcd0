package main

import "testing"

// FuzzParseCPUList: --cpus and the kernel's isolated-CPU file never panic
// the parser, and whatever parses prints back to a list that parses to the
// same set.
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0", "0-3", "2-7,12", "0-1,3\n", " 5 ", "", "3-1", "1,,2", "0-", "-1", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := parseCPUList(s)
		if err != nil {
			return
		}
		again, err := parseCPUList(set.String())
		if err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, set, err)
		}
		if !again.Equals(set) {
			t.Fatalf("%q parsed to %s, which parses to %s", s, set, again)
		}
	})
}
