package sim

import (
	"strconv"
	"strings"

	"k8s.io/utils/cpuset"
)

// cpuList parses a CPU list ("0-3,8") whose CPUs must all be on the host;
// "" is the empty set, which only optional fields (allowEmpty) accept.
func (sc *Scenario) cpuList(s, path string, allowEmpty bool) (cpuset.CPUSet, error) {
	if s == "" {
		if allowEmpty {
			return cpuset.New(), nil
		}
		return cpuset.New(), bad(path, "want a non-empty CPU list")
	}
	for _, part := range strings.Split(s, ",") {
		for _, n := range strings.SplitN(part, "-", 2) {
			// Bound each number before cpuset.Parse expands a range.
			if c, err := strconv.Atoi(strings.TrimSpace(n)); err == nil && (c < 0 || c >= sc.PCPUs) {
				return cpuset.New(), bad(path, "CPU %d out of range 0-%d", c, sc.PCPUs-1)
			}
		}
	}
	set, err := cpuset.Parse(s)
	if err != nil {
		return set, bad(path, "want a CPU list such as \"0-3,8\": %v", err)
	}
	if set.IsEmpty() {
		return set, bad(path, "want a non-empty CPU list")
	}
	if l := set.List(); l[len(l)-1] >= sc.PCPUs {
		return set, bad(path, "CPU %d out of range 0-%d", l[len(l)-1], sc.PCPUs-1)
	}
	return set, nil
}

// validateTopology checks that nodes and cores name host CPUs, each CPU
// in at most one node and one core.
func (sc *Scenario) validateTopology() error {
	if sc.Topology == nil {
		return nil
	}
	for _, f := range []struct {
		key  string
		sets []string
	}{{"nodes", sc.Topology.Nodes}, {"cores", sc.Topology.Cores}} {
		seen := cpuset.New()
		for i, s := range f.sets {
			p := index("topology."+f.key, i)
			set, err := sc.cpuList(s, p, false)
			if err != nil {
				return err
			}
			if both := seen.Intersection(set); !both.IsEmpty() {
				return bad(p, "CPUs %s already in an earlier entry", both)
			}
			seen = seen.Union(set)
		}
	}
	return nil
}

// validateBackground checks one load per pCPU, in every phase.
func (sc *Scenario) validateBackground() error {
	if sc.Background == nil {
		return nil
	}
	if err := checkLoadsN(sc.Background.Load, sc.PCPUs, "background.load", "pcpus"); err != nil {
		return err
	}
	for j, ph := range sc.Background.Phases {
		if len(ph.Load) != sc.PCPUs {
			return bad(index("background.phases", j)+".load", "%d entries, want %d (pcpus)", len(ph.Load), sc.PCPUs)
		}
	}
	return sc.checkPhases(sc.Background.Phases, sc.PCPUs, "background")
}
