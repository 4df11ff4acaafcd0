package sim

import (
	"errors"
	"fmt"
)

// ErrScenario marks every scenario that cannot be loaded; the concrete
// error is a *ScenarioError naming the field.
var ErrScenario = errors.New("invalid scenario")

// ScenarioError is a scenario problem at one field, such as
// "vms[2].pin[0]: 7 out of range 0-3".
type ScenarioError struct {
	// Field is the JSON path of the offending field ("" for the whole
	// document, e.g. malformed JSON).
	Field string
	// Msg says what is wrong with it.
	Msg string
}

// Error implements error.
func (e *ScenarioError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrScenario) hold.
func (e *ScenarioError) Unwrap() error { return ErrScenario }

func bad(field, format string, args ...any) error {
	return &ScenarioError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Scenario is a host and its guests for the simulator, as read from JSON.
type Scenario struct {
	// Name names the scenario in the output.
	Name string `json:"name"`
	// PCPUs is the number of physical CPUs, numbered from 0.
	PCPUs int `json:"pcpus"`
	// Iterations is the number of intervals to simulate.
	Iterations int `json:"iterations"`
	// Topology is the host's NUMA nodes and SMT cores (optional).
	Topology *TopologySpec `json:"topology,omitempty"`
	// Background is load that is not a vCPU's (optional).
	Background *BackgroundSpec `json:"background,omitempty"`
	// VMs are the guests.
	VMs []VMSpec `json:"vms"`
}

// TopologySpec is a host's layout, each set in CPU-list form ("0-3,8").
type TopologySpec struct {
	// Nodes lists each NUMA node's CPUs.
	Nodes []string `json:"nodes,omitempty"`
	// Cores lists each core's SMT siblings.
	Cores []string `json:"cores,omitempty"`
}

// BackgroundSpec is per-pCPU load that is not a vCPU's (emulator and I/O
// threads, host processes), in percent of each pCPU. It runs where it is
// whatever the plan, as one more consumer of its pCPU.
type BackgroundSpec struct {
	// Load is each pCPU's background demand (pcpus entries, 0 to 100).
	Load []float64 `json:"load"`
	// Phases change it from a given iteration on.
	Phases []Phase `json:"phases,omitempty"`
}

// VMSpec is one guest of a scenario.
type VMSpec struct {
	// Name is the domain name, unique in the scenario.
	Name string `json:"name"`
	// VCPUs is the number of vCPUs.
	VCPUs int `json:"vcpus"`
	// Pin is each vCPU's initial pCPU, or -1 for unpinned (placed on the
	// least-loaded pCPU when the VM starts); all -1 when omitted.
	Pin []int `json:"pin"`
	// Load is each vCPU's demand in percent of one pCPU (0 to 100).
	Load []float64 `json:"load"`
	// Phases change the demand from a given iteration on.
	Phases []Phase `json:"phases,omitempty"`
	// Start is the first iteration the VM runs in (default 0).
	Start int `json:"start"`
	// Stop is the first iteration it no longer runs in (default: the
	// scenario's Iterations, i.e. the whole run).
	Stop int `json:"stop"`
	// CPUSet is the domain's <vcpu cpuset> in CPU-list form: its vCPUs run
	// and may be pinned only there ("" : anywhere).
	CPUSet string `json:"cpuset,omitempty"`
	// Spin makes the guest a spin-waiter: on a pCPU whose demand exceeds
	// 100%, each of its busy vCPUs stays runnable the whole interval, so
	// it competes as a burner would and reads run plus wait of 100%,
	// though its useful demand stays Load.
	Spin bool `json:"spin,omitempty"`
}

// Phase sets a VM's per-vCPU demand, or the background's per-pCPU load,
// from iteration At on.
type Phase struct {
	// At is the first iteration with the new demand.
	At int `json:"at"`
	// Load is each vCPU's (or pCPU's) demand in percent of one pCPU.
	Load []float64 `json:"load"`
}

// loadAt returns the VM's demand at iteration i.
func (vm *VMSpec) loadAt(i int) []float64 { return phaseAt(vm.Load, vm.Phases, i) }

// phaseAt returns the load in force at iteration i.
func phaseAt(l []float64, phases []Phase, i int) []float64 {
	for _, p := range phases {
		if p.At <= i {
			l = p.Load
		}
	}
	return l
}
