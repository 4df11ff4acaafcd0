package balancer

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
	// VMs are the guests.
	VMs []VMSpec `json:"vms"`
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
}

// Phase sets a VM's per-vCPU demand from iteration At on.
type Phase struct {
	// At is the first iteration with the new demand.
	At int `json:"at"`
	// Load is each vCPU's demand in percent of one pCPU.
	Load []float64 `json:"load"`
}

// loadAt returns the VM's demand at iteration i.
func (vm *VMSpec) loadAt(i int) []float64 {
	l := vm.Load
	for _, p := range vm.Phases {
		if p.At <= i {
			l = p.Load
		}
	}
	return l
}
