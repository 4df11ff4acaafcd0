// Package pinning is vsched's only contact with libvirt: it keeps the
// connection, lists running domains with their vCPU counts and live pins
// (Conn.Domains), and pins vCPUs live with
// PinVcpuFlags(..., DOMAIN_AFFECT_LIVE) (Conn.Apply), skipping pins already
// in place and reporting each pin's outcome. It remembers each vCPU's pins as
// found before vsched first changed them, so Conn.Restore can put them back
// on exit.
//
// A dropped connection (libvirtd restarting) is not fatal: the next call
// reconnects and retries, or returns an error wrapping ErrConnect at once and
// tries again on a later call after a bounded backoff (100 ms to 5 s).
// Conn.Reconnects counts the reconnections so the caller can log them.
//
// Failures wrap the sentinels ErrConnect, ErrDomainGone and ErrPin, with
// libvirt's own error (a libvirt.Error) kept in the chain. libvirt's test
// driver (test:///...) rejects DOMAIN_AFFECT_LIVE in PinVcpuFlags, so on it
// alone pins use DOMAIN_AFFECT_CURRENT, which for a running domain is the
// same thing.
//
// The cgo binding (libvirt.org/go/libvirt, built with -tags libvirt_dlopen)
// and libvirt's []bool cpumap stay inside this package; CPU sets cross its
// boundary as k8s.io/utils/cpuset values. It does not log, and it must not
// import cgroupstats, balancer or any logging package.
package pinning
