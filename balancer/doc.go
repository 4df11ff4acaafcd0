// Package balancer holds vsched's pure balancing policies (classic and
// adaptive) and the host model used by `vsched simulate`.
//
// Data in, a plan out: the package does no I/O, reads no clock, and imports
// neither libvirt nor logrus nor any other vsched package.
package balancer
