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
// Reading order for adaptive: adaptive.go (one Plan call), demand.go
// (what a vCPU wants), host.go and state.go (the model), search.go (the
// moves), smt.go (SMT siblings).
package balancer
