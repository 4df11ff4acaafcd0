// Package pinning is vsched's only contact with libvirt. It keeps the
// connection, lists the running domains (Conn.Domains) with what vsched
// needs of each: UUID, online vCPU ids and their live pins, the operator's
// CPU range (<vcpu cpuset>, a strict <numatune> nodeset) and the opt-out
// mark <vsched manage="no"/> in its metadata; pins vCPUs live
// (Conn.Apply), skipping pins already in place and reporting each pin's
// outcome; and tells the caller when domains may have changed
// (Conn.Events). It keeps no memory of pins: the pins vsched found live in
// the checkpoint (package pinning/checkpoint).
//
// A vCPU is (domain UUID, vCPU id). vCPU ids are the ids libvirt reports
// online (a disabled vCPU leaves a gap) and pins find their domain by UUID.
// Each domain is read from its live XML (one virDomainGetXMLDesc) and
// virDomainGetVcpuPinInfo.
//
// libvirt cannot hang the caller: Open registers libvirt's default event
// loop (once per process) and runs it in a goroutine, every connection has
// keepalive, and every operation is bounded by a deadline (WithTimeout).
// An operation that overruns returns ErrTimeout while the blocked C call
// finishes in the background; until it does, new calls fail at once. A
// dropped connection (libvirtd restarting) is not fatal: the next call
// reconnects, re-registers the event callbacks and retries, or returns an
// error wrapping ErrConnect at once and tries again on a later call after a
// bounded backoff (100 ms to 5 s).
//
// Failures wrap the sentinels ErrConnect, ErrTimeout, ErrDomainGone, ErrPin
// and ErrDomainXML, with libvirt's own error (a libvirt.Error) kept in the
// chain. libvirt's test driver (test:///...) rejects DOMAIN_AFFECT_LIVE in
// PinVcpuFlags, so on it alone pins use DOMAIN_AFFECT_CURRENT, which for a
// running domain is the same thing.
//
// The cgo binding (libvirt.org/go/libvirt, built with -tags libvirt_dlopen)
// and libvirt's []bool cpumap stay inside this package; CPU sets cross its
// boundary as k8s.io/utils/cpuset values. It does not log, and it must not
// import cgroupstats, balancer or any logging package.
package pinning
