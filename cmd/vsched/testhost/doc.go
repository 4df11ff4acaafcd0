// Package testhost holds the production-shaped tier: end-to-end tests that
// run inside the test host VM (scripts/testhost.sh), a Debian 12 machine with
// systemd, pure cgroup v2, 2 sockets of SMT cores on 2 NUMA nodes, libvirtd,
// and vsched installed from its .deb as vsched.service. The tests, built with
// -tags testhost into one binary (make test-host), drive the service with
// systemctl, apt and dpkg, start real boot-sector guests (scripts/guest.sh)
// and judge placement from /proc and sysfs, never from vsched's own report.
// Outside that VM they refuse to run. It has no code of its own.
package testhost
