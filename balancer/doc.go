// Package balancer holds vsched's pure balancing policies (classic and
// adaptive) and the host model used by `vsched simulate`.
//
// Data in, a plan out: the package does no I/O, reads no clock, and imports
// neither libvirt nor logrus nor any other vsched package.
//
// A Policy compares two Snapshots taken an interval apart. Load is handled
// in integer milli-percent of one pCPU so that sums are exact and a plan is
// a function of its inputs alone (ties go to the lowest CPU id, then to
// (domain, vCPU index); no map is iterated for a decision). A Plan lists
// only the pins that change; Move.From is Unpinned (-1) for a vCPU that had
// no single-CPU pin, and classic's "pin-in-place" is a Move to the pCPU the
// vCPU last ran on with Reason ReasonPinInPlace.
//
// Simulate runs a policy over a Scenario (LoadScenario reads one strictly)
// in the host model described in DESIGN.md and returns a Result in the
// `vsched simulate` JSON shape. Its best_spread is exact when LPT meets a
// lower bound or a branch and bound over the demands finishes (hosts of up
// to 16 pCPUs); beyond that it is a sound lower bound, so "balanced" is
// never claimed too early.
package balancer
