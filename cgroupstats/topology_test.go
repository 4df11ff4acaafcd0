package cgroupstats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

// sysHost describes a host's sysfs CPU topology, as the kernel shows it.
type sysHost struct {
	cpus     int               // possible CPUs, cpu0..cpuN-1
	online   string            // devices/system/cpu/online
	siblings func(int) string  // thread_siblings_list of an online CPU
	core     func(int) int     // core_id
	pkg      func(int) int     // physical_package_id
	nodes    map[string]string // node name -> cpulist
	isolated string            // devices/system/cpu/isolated ("" line when none)
	nohzFull *string           // devices/system/cpu/nohz_full, nil when absent
}

// files renders h in the layout and format of a Linux 6.x sysfs: every
// online CPU has its topology directory, an offline one only "online 0".
func (h sysHost) files(t testing.TB) map[string]string {
	t.Helper()
	online, err := cpuset.Parse(h.online)
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]string{
		"devices/system/cpu/online":     h.online + "\n",
		"devices/system/cpu/possible":   fmt.Sprintf("0-%d\n", h.cpus-1),
		"devices/system/cpu/present":    fmt.Sprintf("0-%d\n", h.cpus-1),
		"devices/system/cpu/kernel_max": "8191\n",
		"devices/system/cpu/isolated":   h.isolated + "\n",
	}
	if off := cpuset.New(seq(h.cpus)...).Difference(online); off.Size() > 0 {
		f["devices/system/cpu/offline"] = off.String() + "\n"
	} else {
		f["devices/system/cpu/offline"] = "\n"
	}
	if h.nohzFull != nil {
		f["devices/system/cpu/nohz_full"] = *h.nohzFull
	}
	for c := range h.cpus {
		dir := fmt.Sprintf("devices/system/cpu/cpu%d/", c)
		if c > 0 {
			f[dir+"online"] = "0\n"
		}
		if !online.Contains(c) {
			continue
		}
		if c > 0 {
			f[dir+"online"] = "1\n"
		}
		pkgCPUs := cpuset.New()
		for _, o := range online.List() {
			if h.pkg(o) == h.pkg(c) {
				pkgCPUs = pkgCPUs.Union(cpuset.New(o))
			}
		}
		top := dir + "topology/"
		f[top+"thread_siblings_list"] = h.siblings(c) + "\n"
		f[top+"core_cpus_list"] = h.siblings(c) + "\n"
		f[top+"core_id"] = fmt.Sprintf("%d\n", h.core(c))
		f[top+"physical_package_id"] = fmt.Sprintf("%d\n", h.pkg(c))
		f[top+"core_siblings_list"] = pkgCPUs.String() + "\n"
		f[top+"package_cpus_list"] = pkgCPUs.String() + "\n"
		f[top+"die_id"] = "0\n"
		f[top+"cluster_id"] = "65535\n"
	}
	f["devices/system/node/online"] = "0-" + fmt.Sprint(len(h.nodes)-1) + "\n"
	f["devices/system/node/possible"] = f["devices/system/node/online"]
	f["devices/system/node/has_cpu"] = f["devices/system/node/online"]
	for name, list := range h.nodes {
		f["devices/system/node/"+name+"/cpulist"] = list + "\n"
		f["devices/system/node/"+name+"/distance"] = "10 21\n"
	}
	return f
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func sets(lists ...string) []cpuset.CPUSet {
	out := make([]cpuset.CPUSet, len(lists))
	for i, l := range lists {
		out[i] = mustParse(l)
	}
	return out
}

func strp(s string) *string { return &s }

// twoSocketSMT is a two-socket Intel host, 8 cores per socket, SMT2: Linux
// numbers the second threads after all first threads, so CPU n's sibling is
// n+16, and node 1 holds 8-15 and 24-31.
var twoSocketSMT = sysHost{
	cpus: 32, online: "0-31",
	siblings: func(c int) string { return fmt.Sprintf("%d,%d", c%16, c%16+16) },
	core:     func(c int) int { return c % 8 },
	pkg:      func(c int) int { return c % 16 / 8 },
	nodes:    map[string]string{"node0": "0-7,16-23", "node1": "8-15,24-31"},
	// The kernel pads "(null)" to nr_cpu_ids characters.
	isolated: "", nohzFull: strp(fmt.Sprintf("%32s\n", "(null)")),
}

// amdAdjacent is an AMD host (one socket, 8 cores, SMT2, NPS2: two NUMA
// nodes) whose firmware numbers the two threads of a core adjacently.
var amdAdjacent = sysHost{
	cpus: 16, online: "0-15",
	siblings: func(c int) string { return fmt.Sprintf("%d-%d", c&^1, c|1) },
	core:     func(c int) int { return c / 2 },
	pkg:      func(int) int { return 0 },
	nodes:    map[string]string{"node0": "0-7", "node1": "8-15"},
	isolated: "",
}

// offlineCPUs is a 4-core SMT2 host (siblings n and n+4) with CPUs 5 and 6
// taken offline: their siblings 1 and 2 list only themselves, the offline
// CPUs have no topology directory, and the node lists online CPUs only.
// It boots with isolcpus=2 nohz_full=3,7.
var offlineCPUs = sysHost{
	cpus: 8, online: "0-4,7",
	siblings: func(c int) string {
		return map[int]string{0: "0,4", 4: "0,4", 1: "1", 2: "2", 3: "3,7", 7: "3,7"}[c]
	},
	core:     func(c int) int { return c % 4 },
	pkg:      func(int) int { return 0 },
	nodes:    map[string]string{"node0": "0-4,7"},
	isolated: "2", nohzFull: strp("3,7\n"),
}

// debianTestHost is the project's test host (scripts/testhost.sh): Debian
// 12's kernel 6.1 on 2 sockets x 2 cores x 2 threads, booted without
// nohz_full=, whose nohz_full reads "  (null)\n" (captured there: "(null)"
// padded to 8 CPUs).
var debianTestHost = sysHost{
	cpus: 8, online: "0-7",
	siblings: func(c int) string { return fmt.Sprintf("%d-%d", c&^1, c|1) },
	core:     func(c int) int { return c % 4 / 2 },
	pkg:      func(c int) int { return c / 4 },
	nodes:    map[string]string{"node0": "0-3", "node1": "4-7"},
	isolated: "", nohzFull: strp("  (null)\n"),
}

func TestReadTopology_RealLayouts(t *testing.T) {
	tests := []struct {
		name string
		host sysHost
		want Topology
	}{
		{"TwoSocketSMT_SiblingsNAndNPlus16_TwoNodes", twoSocketSMT, Topology{
			Online: mustParse("0-31"), Isolated: cpuset.New(),
			Nodes: sets("0-7,16-23", "8-15,24-31"),
			Cores: sets("0,16", "1,17", "2,18", "3,19", "4,20", "5,21", "6,22", "7,23",
				"8,24", "9,25", "10,26", "11,27", "12,28", "13,29", "14,30", "15,31"),
		}},
		{"AMDAdjacentSiblings_PairsOfNeighbours", amdAdjacent, Topology{
			Online: mustParse("0-15"), Isolated: cpuset.New(),
			Nodes: sets("0-7", "8-15"),
			Cores: sets("0-1", "2-3", "4-5", "6-7", "8-9", "10-11", "12-13", "14-15"),
		}},
		{"Debian12TestHost_PaddedNullNohzFull_NothingIsolated", debianTestHost, Topology{
			Online: mustParse("0-7"), Isolated: cpuset.New(),
			Nodes: sets("0-3", "4-7"),
			Cores: sets("0-1", "2-3", "4-5", "6-7"),
		}},
		{"OfflineCPUs_SkippedIsolatedIsIsolcpusAndNohzFull", offlineCPUs, Topology{
			Online: mustParse("0-4,7"), Isolated: mustParse("2-3,7"),
			Nodes: sets("0-4,7"),
			Cores: sets("0,4", "1", "2", "3,7"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadTopology(writeTree(t, tc.host.files(t)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpSet); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !got.Equal(tc.want) {
				t.Error("Equal is false on equal topologies")
			}
		})
	}
}

var cmpSet = cmp.Comparer(func(a, b cpuset.CPUSet) bool { return a.Equals(b) })

func TestReadTopology_NoNUMA_OneNodeOfAllOnline(t *testing.T) {
	files := amdAdjacent.files(t)
	for k := range files {
		if strings.HasPrefix(k, "devices/system/node/") {
			delete(files, k)
		}
	}
	got, err := ReadTopology(writeTree(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sets("0-15"), got.Nodes, cmpSet); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}
}

func TestReadTopology_BadFile_ErrTopologyNamesFile(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		write *string // nil: remove the file
	}{
		{"OnlineMalformed", "devices/system/cpu/online", strp("0-x\n")},
		{"OnlineMissing", "devices/system/cpu/online", nil},
		{"NodeListMalformed", "devices/system/node/node1/cpulist", strp("8-15,\n")},
		{"SiblingsMalformed", "devices/system/cpu/cpu3/topology/thread_siblings_list", strp("3-\n")},
		{"SiblingsMissing", "devices/system/cpu/cpu3/topology/thread_siblings_list", nil},
		{"SiblingsWithoutTheCPU", "devices/system/cpu/cpu3/topology/thread_siblings_list", strp("4,20\n")},
		{"NohzFullMalformed", "devices/system/cpu/nohz_full", strp("1-0\n")},
		{"IsolatedMalformed", "devices/system/cpu/isolated", strp("a\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, twoSocketSMT.files(t))
			p := filepath.Join(root, tc.file)
			var err error
			if tc.write == nil {
				err = os.Remove(p)
			} else {
				err = os.WriteFile(p, []byte(*tc.write), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = ReadTopology(root)
			if !errors.Is(err, ErrTopology) {
				t.Fatalf("err = %v, want ErrTopology", err)
			}
			if want := p; !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, does not name %s", err, want)
			}
		})
	}
}

func TestReadTopology_Unreadable_ErrTopology(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file: no permission error to provoke")
	}
	root := writeTree(t, twoSocketSMT.files(t))
	p := filepath.Join(root, "devices/system/cpu/online")
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTopology(root); !errors.Is(err, ErrTopology) || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want ErrTopology naming %s", err, p)
	}
}

func TestTopologyEqual_DiffersOnAnyField(t *testing.T) {
	base, err := ReadTopology(writeTree(t, twoSocketSMT.files(t)))
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Topology){
		"Online":   func(t *Topology) { t.Online = mustParse("0-30") },
		"Isolated": func(t *Topology) { t.Isolated = cpuset.New(1) },
		"Nodes":    func(t *Topology) { t.Nodes = t.Nodes[:1] },
		"Cores":    func(t *Topology) { t.Cores = append([]cpuset.CPUSet{cpuset.New(0)}, t.Cores[1:]...) },
	} {
		u := base
		u.Nodes, u.Cores = append([]cpuset.CPUSet(nil), base.Nodes...), append([]cpuset.CPUSet(nil), base.Cores...)
		change(&u)
		if base.Equal(u) {
			t.Errorf("%s changed: Equal still true", name)
		}
	}
}

func TestOnlineWatch_NoticesHotplug(t *testing.T) {
	root := writeTree(t, offlineCPUs.files(t))
	w, err := NewOnlineWatch(root)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	steps := []struct {
		online string // "" leaves the file alone
		want   bool
	}{{"", false}, {"0-5,7\n", true}, {"", false}, {"0-7\n", true}, {"0-7\n", false}}
	for i, st := range steps {
		if st.online != "" {
			if err := os.WriteFile(filepath.Join(root, onlineFile), []byte(st.online), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := w.Changed()
		if err != nil || got != st.want {
			t.Errorf("step %d (%q): Changed = %v, %v; want %v", i, st.online, got, err, st.want)
		}
	}
}

// This host's own sysfs, read live: the sets must agree with each other
// and with the kernel's online list.
func TestRealKernel_ReadTopology_ThisHost(t *testing.T) {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		t.Skipf("no sysfs: %v", err)
	}
	want, err := cpuset.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadTopology("/sys")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Online.Equals(want) {
		t.Errorf("Online = %v, kernel says %v", got.Online, want)
	}
	for name, groups := range map[string][]cpuset.CPUSet{"Nodes": got.Nodes, "Cores": got.Cores} {
		union, n := cpuset.New(), 0
		for _, g := range groups {
			union, n = union.Union(g), n+g.Size()
		}
		if !union.Equals(want) || n != want.Size() {
			t.Errorf("%s = %v: not a partition of the online CPUs %v", name, groups, want)
		}
	}
	if !got.Isolated.IsSubsetOf(cpuset.New(seq(8192)...)) {
		t.Errorf("Isolated = %v", got.Isolated)
	}
	again, err := ReadTopology("/sys")
	if err != nil || !again.Equal(got) {
		t.Errorf("second read %v, %v: want Equal to the first", again, err)
	}
}

func mustParse(s string) cpuset.CPUSet {
	set, err := cpuset.Parse(s)
	if err != nil {
		panic(err)
	}
	return set
}

// BenchmarkReadTopology256 is a full topology read of a two-socket 256-CPU
// SMT2 host's sysfs (a fixture on tmpfs: the kernel's share is not in it).
func BenchmarkReadTopology256(b *testing.B) {
	host := sysHost{
		cpus: 256, online: "0-255",
		siblings: func(c int) string { return fmt.Sprintf("%d,%d", c%128, c%128+128) },
		core:     func(c int) int { return c % 64 },
		pkg:      func(c int) int { return c % 128 / 64 },
		nodes:    map[string]string{"node0": "0-63,128-191", "node1": "64-127,192-255"},
	}
	root := writeTree(b, host.files(b))
	for b.Loop() {
		t, err := ReadTopology(root)
		if err != nil || len(t.Cores) != 128 {
			b.Fatal(err, len(t.Cores))
		}
	}
}
