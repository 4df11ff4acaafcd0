package cgroupstats

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/utils/cpuset"
)

// seed adds every captured testdata file and extra strings to f.
func seed(f *testing.F, extra ...string) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
	for _, e := range extra {
		f.Add([]byte(e))
	}
}

func FuzzParseSchedstat(f *testing.F) {
	seed(f, "1 2 3\n", "18446744073709551615 0 0\n")
	f.Fuzz(func(t *testing.T, b []byte) { _, _, _ = parseSchedstat(b) })
}

func FuzzParseTaskStat(f *testing.F) {
	seed(f, "1 (a) b) S 2\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		if cpu, err := parseTaskStat(b); err == nil && cpu < 0 {
			t.Errorf("negative CPU %d", cpu)
		}
	})
}

func FuzzParseStatusAffinity(f *testing.F) {
	seed(f, "\nCpus_allowed_list:\t0-3,7\n")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseStatusAffinity(b, nil) })
}

// FuzzParseCPUList also checks against the project's CPU-set type: what
// this parser accepts, cpuset.Parse accepts with the same CPUs.
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,8,10-11", "1,", "5-2", "00-01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mask, err := parseCPUList(b, nil)
		if err != nil {
			return
		}
		want, perr := cpuset.Parse(string(bytes.TrimRight(b, " \t\n")))
		if perr != nil {
			t.Fatalf("parseCPUList(%q) accepted what cpuset.Parse rejects: %v", b, perr)
		}
		if got := cpuset.New(maskCPUs(mask)...); !got.Equals(want) {
			t.Fatalf("parseCPUList(%q) = %v, cpuset.Parse = %v", b, got, want)
		}
	})
}

func FuzzParseCgroupCPUStat(f *testing.F) {
	seed(f, "usage_usec 1\n")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseCgroupCPUStat(b) })
}

func FuzzParseCpuacctUsage(f *testing.F) {
	seed(f, "12\n")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseCpuacctUsage(b) })
}

func FuzzParseProcStat(f *testing.F) {
	seed(f, "cpu  1 2 3 4\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n", "cpu0 1")
	f.Fuzz(func(t *testing.T, b []byte) {
		cpus, _, err := parseProcStat(b, nil)
		for _, c := range cpus {
			if err == nil && c.CPU < 0 {
				t.Errorf("negative CPU %d", c.CPU)
			}
		}
	})
}

func FuzzParseIntList(f *testing.F) {
	seed(f, "1\n2\n", "kvm\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		ids, err := parseIntList(b)
		for _, id := range ids {
			if err == nil && id < 0 {
				t.Errorf("negative id %d", id)
			}
		}
	})
}
