package balancer

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/cpuset"
)

// DefaultThreshold is the default imbalance, in percentage points of one
// pCPU, that a policy tolerates between the busiest and the freest pCPU.
const DefaultThreshold = 10.0

// Unpinned is the Move.From value of a vCPU that was not pinned to a single
// pCPU before the move (its affinity held more than one CPU).
const Unpinned = -1

// Reasons a Move carries; they are constants so that logs and metrics can
// group on them.
const (
	// ReasonPinInPlace pins an unpinned vCPU to the pCPU it last ran on.
	ReasonPinInPlace = "pin-in-place"
	// ReasonBusiestToFreest is classic's one move per cycle.
	ReasonBusiestToFreest = "busiest-to-freest"
	// ReasonLowersSpread is an adaptive move that lowers the demand spread.
	ReasonLowersSpread = "lowers-spread"
	// ReasonSwap is one half of an adaptive exchange of two vCPUs.
	ReasonSwap = "swap"
	// ReasonUnstack moves a busy vCPU off a core whose SMT siblings are
	// both busy, onto a whole idle core of the same NUMA node.
	ReasonUnstack = "unstack-siblings"
)

// ErrUnknownPolicy is returned by PolicyByName for a name it does not know.
var ErrUnknownPolicy = errors.New("unknown policy")

// VCPUID identifies a vCPU everywhere: its domain's UUID and its vCPU id
// (an id libvirt reports as online; ids need not be 0..n-1).
type VCPUID struct {
	// Domain is the domain's UUID.
	Domain string
	// VCPU is the vCPU id inside the domain.
	VCPU int
}

// Compare orders identities by domain UUID, then vCPU id: the package's
// tie-break.
func (id VCPUID) Compare(o VCPUID) int {
	return cmp.Or(cmp.Compare(id.Domain, o.Domain), cmp.Compare(id.VCPU, o.VCPU))
}

// String formats the identity as "uuid/vcpu".
func (id VCPUID) String() string { return fmt.Sprintf("%s/%d", id.Domain, id.VCPU) }

// VCPU is one virtual CPU as the caller measured it over a window.
type VCPU struct {
	// ID is the vCPU's identity; unique in a Snapshot.
	ID VCPUID
	// Name is "domname/0", for humans and logs only.
	Name string
	// PCPU is the pCPU it ran on last (its pin when pinned to one CPU).
	PCPU int
	// Pin is its current affinity.
	Pin cpuset.CPUSet
	// Allowed is where it may be pinned (the operator's range ∩
	// Config.CPUs); empty means Config.CPUs.
	Allowed cpuset.CPUSet
	// Usage is its run time over the window, in percent of one pCPU.
	Usage float64
	// Wait is its run-queue wait over the window, in percent of one pCPU.
	Wait float64
	// Fixed marks a vCPU never moved or pinned (excluded, opted out, the
	// operator's pin); its load still counts where it runs.
	Fixed bool
}

// Snapshot is what the caller measured over one window, rates computed
// once.
type Snapshot struct {
	// At is the time since the daemon (or simulation) started at the end
	// of the window: data, not a clock read.
	At time.Duration
	// Window is the length of time the rates cover.
	Window time.Duration
	// VCPUs lists the vCPUs in any order.
	VCPUs []VCPU
	// Background is, per pCPU, load that is not a vCPU's (emulator and I/O
	// threads, host processes), in percent of that pCPU.
	Background map[int]float64
}

// Topology is the host's layout: NUMA nodes and SMT sibling groups. Either
// may be empty (one node; no SMT).
type Topology struct {
	// Nodes lists each NUMA node's CPUs.
	Nodes []cpuset.CPUSet
	// Cores lists each core's SMT siblings.
	Cores []cpuset.CPUSet
}

// Config is what a policy is asked to respect.
type Config struct {
	// Threshold is the tolerated spread in percentage points of one pCPU
	// (negative counts as 0).
	Threshold float64
	// CPUs are the pCPUs to balance over; an empty set plans nothing.
	CPUs cpuset.CPUSet
	// Topology is the host's NUMA and SMT layout.
	Topology Topology
	// Cooldown is the least time between two moves of the same vCPU (0:
	// the policy's default).
	Cooldown time.Duration
}

// Move re-pins one vCPU to a single pCPU.
type Move struct {
	// ID is the vCPU moved.
	ID VCPUID
	// Name is its human name, from VCPU.Name.
	Name string
	// From is the pCPU it was pinned to, or Unpinned; To is its new
	// single-CPU pin.
	From, To int
	// Reason is one of the Reason constants.
	Reason string
}

// String formats the move for humans, e.g. "vm1/0 2->3 (lowers-spread)".
func (m Move) String() string {
	from := fmt.Sprint(m.From)
	if m.From == Unpinned {
		from = "unpinned"
	}
	return fmt.Sprintf("%s %s->%d (%s)", m.Name, from, m.To, m.Reason)
}

// Plan is the list of pins that change; applying it in order is enough.
type Plan struct {
	// Moves holds one entry per vCPU whose pin changes, best move first.
	Moves []Move
}

// Policy turns a window's measurements into a plan. A policy may keep
// memory across calls; it is deterministic for the same sequence of
// inputs and reads no clock.
type Policy interface {
	// Name returns the policy's command-line name.
	Name() string
	// Plan returns the pins to change.
	Plan(s Snapshot, cfg Config) Plan
}

// PolicyNames returns the names PolicyByName accepts, the default first.
func PolicyNames() []string { return []string{"adaptive", "classic"} }

// PolicyByName returns a new policy called name ("classic" or "adaptive").
func PolicyByName(name string) (Policy, error) {
	switch name {
	case "adaptive":
		return NewAdaptive(), nil
	case "classic":
		return NewClassic(), nil
	}
	return nil, fmt.Errorf("%w %q (want adaptive or classic)", ErrUnknownPolicy, name)
}
