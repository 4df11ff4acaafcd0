package cgroupstats

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cpumask"
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
		if _, cpu, err := parseTaskStat(b); err == nil && (cpu < 0 || cpu >= maxCPU) {
			t.Errorf("CPU %d out of range", cpu)
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
		if got := cpuset.New(cpumask.CPUs(mask)...); !got.Equals(want) {
			t.Fatalf("parseCPUList(%q) = %v, cpuset.Parse = %v", b, got, want)
		}
	})
}

func FuzzParseProcStat(f *testing.F) {
	seed(f, "cpu  1 2 3 4\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n", "cpu0 1", procStatN(256))
	f.Fuzz(func(t *testing.T, b []byte) {
		cpus, _, err := parseProcStat(b, nil)
		for _, c := range cpus {
			if err == nil && (c.CPU < 0 || c.CPU >= maxCPU) {
				t.Errorf("CPU %d out of range", c.CPU)
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

// FuzzParseCPUSet is the sysfs cpulist parser (online, nodeN/cpulist,
// thread_siblings_list, nohz_full): it must never panic and, on success,
// agree with cpuset.Parse.
func FuzzParseCPUSet(f *testing.F) {
	for _, s := range []string{"0-63\n", "0,64\n", "0-1,4-5\n", "\n", "7\n", "3-1\n", "0-16384\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseCPUSet(b)
		if err != nil {
			return
		}
		want, perr := cpuset.Parse(string(bytes.TrimRight(b, " \t\n")))
		if perr != nil || !got.Equals(want) {
			t.Fatalf("parseCPUSet(%q) = %v; cpuset.Parse = %v, %v", b, got, want, perr)
		}
	})
}

// procStatN returns a real-format /proc/stat of n CPUs (see
// cgroupstatstest.ProcStat, which tests outside the package use).
func procStatN(n int) string {
	var b strings.Builder
	b.WriteString("cpu  15921 0 5690 34284 309 0 77 32 0 0\n")
	for c := range n {
		fmt.Fprintf(&b, "cpu%d %d 0 %d %d 38 0 12 10 0 0\n", c, 7737+c, 2704+c, 17655+c)
	}
	b.WriteString("intr 491704 0 0 14 0 0 56 33\nctxt 868808\nbtime 1795633144\nprocesses 11568\n" +
		"procs_running 1\nprocs_blocked 0\nsoftirq 163509 0 14856 5 14394 67630 0 907 21335 0 44382\n")
	return b.String()
}

func FuzzParseProcCgroup(f *testing.F) {
	seed(f, "0::/machine/qemu-3-vm.libvirt-qemu/emulator\n", "4:cpu,cpuacct:/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt/emulator\n", "::", "0::")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range parseProcCgroup(b) {
			if !strings.HasPrefix(p, "/") || strings.Contains(p, "\n") {
				t.Fatalf("path %q: want absolute, one line", p)
			}
		}
	})
}
