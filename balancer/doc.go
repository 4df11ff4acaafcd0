// Package balancer holds vsched's pure balancing policies, classic and
// adaptive: data in (a Snapshot of per-vCPU rates, per-pCPU background
// load, the topology and each vCPU's allowed CPUs), a Plan of moves out.
//
// The package does no I/O, reads no clock, and imports neither libvirt,
// logrus, nor any other vsched package. The simulator that exercises it
// lives in balancer/sim.
//
// Load is handled in integer milli-percent of one pCPU, so that sums are
// exact and a plan is a function of its inputs alone: ties go to the
// lowest pCPU index, then to vCPU identity (domain UUID, vCPU id); no map
// is iterated for a decision. A Plan lists only the pins that change;
// Move.From is Unpinned (-1) for a vCPU that had no single-CPU pin.
//
// Reading order for adaptive: adaptive.go (one Plan call), demand.go and
// memory.go (what a vCPU and a pCPU's background want, and what the policy
// remembers between calls), host.go and state.go (the model), search.go,
// steps.go and target.go (the moves), repack.go (when moves get stuck),
// smt.go (SMT siblings). sets.go is a cache of CPU-set conversions that
// pays at 3,072 vCPUs; classic.go is the seed's policy, on its own.
package balancer
