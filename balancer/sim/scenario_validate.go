package sim

import (
	"fmt"
	"math"
	"strings"
)

// Validate checks a scenario built in code the way LoadScenario checks one
// read from JSON, and returns a *ScenarioError naming the first bad field.
func (sc *Scenario) Validate() error {
	switch {
	case strings.TrimSpace(sc.Name) == "":
		return bad("name", "must not be empty")
	case sc.PCPUs < 1 || sc.PCPUs > maxPCPUs:
		return bad("pcpus", "%d out of range 1-%d", sc.PCPUs, maxPCPUs)
	case sc.Iterations < 1 || sc.Iterations > maxIterations:
		return bad("iterations", "%d out of range 1-%d", sc.Iterations, maxIterations)
	case len(sc.VMs) == 0:
		return bad("vms", "want at least one VM")
	}
	if err := sc.validateTopology(); err != nil {
		return err
	}
	if err := sc.validateBackground(); err != nil {
		return err
	}
	seen := make(map[string]int, len(sc.VMs))
	for i := range sc.VMs {
		vm, p := &sc.VMs[i], index("vms", i)
		if j, dup := seen[vm.Name]; dup {
			return bad(p+".name", "%q already used by vms[%d]", vm.Name, j)
		}
		seen[vm.Name] = i
		if err := sc.validateVM(vm, p); err != nil {
			return err
		}
	}
	return nil
}

func (sc *Scenario) validateVM(vm *VMSpec, p string) error {
	switch {
	case strings.TrimSpace(vm.Name) == "" || strings.Contains(vm.Name, "/"):
		return bad(p+".name", "want a non-empty name without '/'")
	case vm.VCPUs < 1 || vm.VCPUs > maxVCPUs:
		return bad(p+".vcpus", "%d out of range 1-%d", vm.VCPUs, maxVCPUs)
	case len(vm.Pin) != vm.VCPUs:
		return bad(p+".pin", "%d entries, want %d (vcpus)", len(vm.Pin), vm.VCPUs)
	case vm.Start < 0 || vm.Start >= sc.Iterations:
		return bad(p+".start", "%d out of range 0-%d", vm.Start, sc.Iterations-1)
	case vm.Stop <= vm.Start || vm.Stop > sc.Iterations:
		return bad(p+".stop", "%d out of range %d-%d", vm.Stop, vm.Start+1, sc.Iterations)
	}
	set, err := sc.cpuList(vm.CPUSet, p+".cpuset", true)
	if err != nil {
		return err
	}
	for j, c := range vm.Pin {
		if c < -1 || c >= sc.PCPUs {
			return bad(index(p+".pin", j), "%d out of range 0-%d (or -1 for unpinned)", c, sc.PCPUs-1)
		}
		if c >= 0 && vm.CPUSet != "" && !set.Contains(c) {
			return bad(index(p+".pin", j), "%d outside the VM's cpuset %s", c, set)
		}
	}
	if err := checkLoads(vm.Load, vm.VCPUs, p+".load"); err != nil {
		return err
	}
	return sc.checkPhases(vm.Phases, vm.VCPUs, p)
}

// checkPhases checks phases of n loads each, under path.
func (sc *Scenario) checkPhases(phases []Phase, n int, path string) error {
	for j, ph := range phases {
		pp := index(join(path, "phases"), j)
		if ph.At < 0 || ph.At >= sc.Iterations {
			return bad(pp+".at", "%d out of range 0-%d", ph.At, sc.Iterations-1)
		}
		if j > 0 && ph.At <= phases[j-1].At {
			return bad(pp+".at", "%d not after the previous phase's %d", ph.At, phases[j-1].At)
		}
		if err := checkLoads(ph.Load, n, pp+".load"); err != nil {
			return err
		}
	}
	return nil
}

func checkLoads(l []float64, n int, p string) error { return checkLoadsN(l, n, p, "vcpus") }

// checkLoadsN checks n loads of 0-100; what names the count's field.
func checkLoadsN(l []float64, n int, p, what string) error {
	if len(l) != n {
		return bad(p, "%d entries, want %d (%s)", len(l), n, what)
	}
	for j, x := range l {
		if math.IsNaN(x) || x < 0 || x > 100 {
			return bad(index(p, j), "%v out of range 0-100 (percent of one pCPU)", x)
		}
	}
	return nil
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
