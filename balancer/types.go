package balancer

import (
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
	// ReasonRepack is an adaptive move from a re-pack of the crowded pCPUs,
	// used when single moves and swaps get stuck above the threshold.
	ReasonRepack = "repack"
)

// ErrUnknownPolicy is returned by PolicyByName for a name it does not know.
var ErrUnknownPolicy = errors.New("unknown policy")

// VCPU is one virtual CPU as the sampler saw it.
type VCPU struct {
	// Domain is the libvirt domain name; with Index it identifies the vCPU.
	Domain string
	// Index is the vCPU number inside the domain.
	Index int
	// PCPU is the physical CPU the vCPU last ran on.
	PCPU int
	// RunNs is the cumulative time the vCPU ran, in nanoseconds.
	RunNs uint64
	// WaitNs is the cumulative time the vCPU waited in a run queue, in
	// nanoseconds (schedstat's second field).
	WaitNs uint64
	// Pin is the vCPU's current affinity: a single CPU when pinned, more
	// when unpinned.
	Pin cpuset.CPUSet
	// Fixed marks a vCPU the policy must not move or pin (a domain the
	// user excluded, or one moved moments ago); its load still counts on
	// the pCPU it runs on.
	Fixed bool
}

// Snapshot is one sample of every vCPU on the host.
type Snapshot struct {
	// VCPUs lists the vCPUs in any order; (Domain, Index) must be unique.
	VCPUs []VCPU
}

// Config is what a policy is asked to respect.
type Config struct {
	// Threshold is the tolerated spread in percentage points of one pCPU
	// (DefaultThreshold when the caller has no opinion; negative counts as 0).
	Threshold float64
	// CPUs are the pCPUs to balance over; an empty set plans nothing.
	CPUs cpuset.CPUSet
}

// Move re-pins one vCPU to a single pCPU.
type Move struct {
	// Domain and VCPU name the vCPU.
	Domain string
	VCPU   int
	// From is the pCPU the vCPU was pinned to, or Unpinned; To is its new
	// single-CPU pin. A pin-in-place has From == Unpinned and To == the pCPU
	// the vCPU last ran on.
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
	return fmt.Sprintf("%s/%d %s->%d (%s)", m.Domain, m.VCPU, from, m.To, m.Reason)
}

// Plan is the list of pins that change; applying it in order is enough.
type Plan struct {
	// Moves holds one entry per vCPU whose pin changes, best move first.
	Moves []Move
}

// Policy turns two samples into a plan. Implementations are pure and
// deterministic: the same inputs give the same plan.
type Policy interface {
	// Name returns the policy's command-line name.
	Name() string
	// Plan compares prev and cur, taken interval apart, and returns the
	// pins to change.
	Plan(prev, cur Snapshot, interval time.Duration, cfg Config) Plan
}

// PolicyNames returns the names PolicyByName accepts, the default first.
func PolicyNames() []string { return []string{"adaptive", "classic"} }

// PolicyByName returns the policy called name ("classic" or "adaptive").
func PolicyByName(name string) (Policy, error) {
	switch name {
	case "adaptive":
		return NewAdaptive(), nil
	case "classic":
		return NewClassic(), nil
	}
	return nil, fmt.Errorf("%w %q (want adaptive or classic)", ErrUnknownPolicy, name)
}
