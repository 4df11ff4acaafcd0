// Package balancer holds vsched's pure balancing policies, classic and
// adaptive: data in (a Snapshot of per-vCPU rates, per-pCPU background
// load, the topology and each vCPU's allowed CPUs), a Plan of moves out.
//
// The package does no I/O, reads no clock, and imports neither libvirt,
// logrus, nor any other vsched package but the leaf cpumask. The
// simulator that exercises it lives in balancer/sim.
//
// Load is handled in integer milli-percent of one pCPU, so that sums are
// exact and a plan is a function of its inputs alone: ties go to the
// lowest pCPU index, then to vCPU identity (domain UUID, vCPU id); no map
// is iterated for a decision. A Plan lists only the pins that change;
// Move.From is Unpinned (-1) for a vCPU that had no single-CPU pin.
//
// Reading order for adaptive, three files, each top to bottom:
// search.go (one Plan call: estimate demand, search moves that lower the
// spread, the cheapest first among equals, stop within the threshold or
// when nothing helps; the adoption rule; SMT unstacking), placement.go
// (the model: the layout of pCPUs and vCPUs, a placement and what judges
// it: its spread, whether a vCPU may go to a pCPU, what a move costs) and
// demand.go (what a vCPU and a pCPU's background want, and what the
// policy remembers between calls). types.go is the public API; classic.go
// is the seed's policy, on its own.
package balancer
