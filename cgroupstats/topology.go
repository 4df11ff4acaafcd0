package cgroupstats

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/procfs/sysfs"
	"k8s.io/utils/cpuset"
)

// ErrTopology reports a sysfs topology file that is missing where the
// kernel always has it, unreadable or malformed. The error names the file.
var ErrTopology = errors.New("bad topology file")

// Topology is the host's CPU topology, read from sysfs by ReadTopology.
type Topology struct {
	Online   cpuset.CPUSet   // online CPUs (devices/system/cpu/online)
	Isolated cpuset.CPUSet   // isolcpus ∪ nohz_full: CPUs the kernel reserves
	Nodes    []cpuset.CPUSet // each NUMA node's online CPUs, in node id order; CPU-less nodes left out
	Cores    []cpuset.CPUSet // SMT sibling groups of online CPUs, ordered by their lowest CPU
}

// Paths under the sysfs root.
const (
	cpuDir        = "devices/system/cpu"
	nodeDir       = "devices/system/node"
	onlineFile    = cpuDir + "/online"
	isolatedFile  = cpuDir + "/isolated"
	nohzFullFile  = cpuDir + "/nohz_full"
	siblingsFile  = "topology/thread_siblings_list"
	nodeCPUList   = "cpulist"
	nodeDirPrefix = "node"
	// nohzNone is what nohz_full holds on a NO_HZ_FULL kernel booted
	// without nohz_full=: printk's %*pbl of a NULL mask, "(null)"
	// right-aligned in a field nr_cpu_ids wide ("  (null)\n" on 8 CPUs, as
	// Debian 12's kernel shows on the test host), so it is compared trimmed.
	nohzNone = "(null)"
)

// ReadTopology reads the CPU topology under sysRoot (normally /sys): the
// online CPUs, each NUMA node's CPUs (devices/system/node/nodeN/cpulist;
// a kernel without NUMA has one node of every online CPU), each online
// CPU's SMT siblings (devices/system/cpu/cpuN/topology/thread_siblings_list,
// through prometheus/procfs; offline CPUs have no topology and are
// skipped) and the isolated CPUs (devices/system/cpu/isolated through
// procfs, and devices/system/cpu/nohz_full, absent on kernels without
// NO_HZ_FULL). A missing, unreadable or malformed file is an error that
// wraps ErrTopology and names the file.
func ReadTopology(sysRoot string) (Topology, error) {
	online, err := readCPUSetFile(filepath.Join(sysRoot, onlineFile), false)
	if err != nil {
		return Topology{}, err
	}
	t := Topology{Online: online}
	if t.Nodes, err = readNodes(sysRoot, online); err != nil {
		return Topology{}, err
	}
	if t.Cores, err = readCores(sysRoot, online); err != nil {
		return Topology{}, err
	}
	if t.Isolated, err = readIsolated(sysRoot); err != nil {
		return Topology{}, err
	}
	return t, nil
}

// Equal reports whether t and u describe the same CPUs, nodes, cores and
// isolated CPUs.
func (t Topology) Equal(u Topology) bool {
	eq := func(a, b cpuset.CPUSet) bool { return a.Equals(b) }
	return t.Online.Equals(u.Online) && t.Isolated.Equals(u.Isolated) &&
		slices.EqualFunc(t.Nodes, u.Nodes, eq) && slices.EqualFunc(t.Cores, u.Cores, eq)
}

// topoErr wraps err on path with ErrTopology.
func topoErr(path string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrTopology, path, err)
}

// readCPUSetFile parses a sysfs CPU list file. A missing file is the empty
// set when optional, else an error.
func readCPUSetFile(path string, optional bool) (cpuset.CPUSet, error) {
	b, err := os.ReadFile(path)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return cpuset.New(), nil
	}
	if err != nil {
		return cpuset.New(), topoErr(path, err)
	}
	set, err := parseCPUSet(b)
	if err != nil {
		return cpuset.New(), topoErr(path, err)
	}
	return set, nil
}

// readNodes returns each NUMA node's online CPUs in node id order.
func readNodes(sysRoot string, online cpuset.CPUSet) ([]cpuset.CPUSet, error) {
	dir := filepath.Join(sysRoot, nodeDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []cpuset.CPUSet{online}, nil // a kernel without NUMA
	}
	if err != nil {
		return nil, topoErr(dir, err)
	}
	type node struct {
		id   int
		cpus cpuset.CPUSet
	}
	var nodes []node
	for _, e := range ents {
		id, err := strconv.Atoi(strings.TrimPrefix(e.Name(), nodeDirPrefix))
		if !strings.HasPrefix(e.Name(), nodeDirPrefix) || err != nil || id < 0 {
			continue // has_cpu, online, possible, power, uevent...
		}
		cpus, err := readCPUSetFile(filepath.Join(dir, e.Name(), nodeCPUList), false)
		if err != nil {
			return nil, err
		}
		if cpus = cpus.Intersection(online); cpus.Size() > 0 {
			nodes = append(nodes, node{id, cpus})
		}
	}
	slices.SortFunc(nodes, func(a, b node) int { return a.id - b.id })
	out := make([]cpuset.CPUSet, len(nodes))
	for i, n := range nodes {
		out[i] = n.cpus
	}
	if len(out) == 0 {
		out = []cpuset.CPUSet{online}
	}
	return out, nil
}

// readCores returns the SMT sibling groups of the online CPUs.
func readCores(sysRoot string, online cpuset.CPUSet) ([]cpuset.CPUSet, error) {
	seen := map[int]bool{}
	var cores []cpuset.CPUSet
	for _, cpu := range online.List() {
		if seen[cpu] {
			continue
		}
		dir := filepath.Join(sysRoot, cpuDir, "cpu"+strconv.Itoa(cpu))
		path := filepath.Join(dir, siblingsFile)
		topo, err := sysfs.CPU(dir).Topology()
		if err != nil {
			return nil, topoErr(filepath.Join(dir, "topology"), err)
		}
		sib, err := parseCPUSet([]byte(topo.ThreadSiblingsList))
		if err != nil {
			return nil, topoErr(path, err)
		}
		sib = sib.Intersection(online)
		if !sib.Contains(cpu) {
			return nil, topoErr(path, fmt.Errorf("CPU %d is not among its own siblings %q", cpu, topo.ThreadSiblingsList))
		}
		for _, c := range sib.List() {
			seen[c] = true
		}
		cores = append(cores, sib)
	}
	return cores, nil
}

// readIsolated returns isolcpus ∪ nohz_full. Both files may be absent
// (older kernels, kernels without NO_HZ_FULL): then they add nothing.
func readIsolated(sysRoot string) (cpuset.CPUSet, error) {
	fsys, err := sysfs.NewFS(sysRoot)
	if err != nil {
		return cpuset.New(), topoErr(sysRoot, err)
	}
	iso := cpuset.New()
	ids, err := fsys.IsolatedCPUs()
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return cpuset.New(), topoErr(filepath.Join(sysRoot, isolatedFile), err)
	default:
		cpus := make([]int, len(ids))
		for i, c := range ids {
			cpus[i] = int(c)
		}
		iso = cpuset.New(cpus...)
	}
	p := filepath.Join(sysRoot, nohzFullFile)
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return iso, nil
	case err != nil:
		return cpuset.New(), topoErr(p, err)
	case strings.TrimSpace(string(b)) == nohzNone:
		return iso, nil
	}
	nohz, err := parseCPUSet(b)
	if err != nil {
		return cpuset.New(), topoErr(p, err)
	}
	return iso.Union(nohz), nil
}
