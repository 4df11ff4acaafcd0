package cgroupstats

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Option configures a Sampler in New.
type Option func(*Sampler)

// WithQEMURunDir names libvirt's QEMU state directory (normally
// /run/libvirt/qemu), where libvirt writes NAME.pid for each running
// domain. It is the last resort for a domain whose cgroup names no
// process; without it such a domain is ErrNoCgroup.
func WithQEMURunDir(dir string) Option {
	return func(s *Sampler) { s.qemuRunDir = dir }
}

// libvirtPID returns the QEMU process of a domain whose cgroup names none:
// the pid libvirt wrote to <run dir>/NAME.pid, and only when that process
// is still the domain's. Its command line must carry the domain's
// "-uuid UUID" (or, without a UUID, "guest=NAME"), so a pid file left from
// an earlier life whose pid went to another process does not count; and
// when the domain has cgroup directories, the process must sit in one of
// them. A command line alone proves nothing: any process can take a
// guest's argv, so the command lines of /proc are never searched.
func (s *Sampler) libvirtPID(d Domain, dirs []domainDir) (int, error) {
	fail := func(format string, args ...any) (int, error) {
		return 0, fmt.Errorf("%w: domain %d %q: no cgroup process under %s, and %s",
			ErrNoCgroup, d.ID, d.Name, s.cgroupRoot, fmt.Sprintf(format, args...))
	}
	if s.qemuRunDir == "" {
		return fail("no libvirt run directory to read its pid from")
	}
	if d.Name == "" || d.Name == "." || d.Name == ".." || strings.ContainsRune(d.Name, '/') {
		return fail("its name is no pid file name")
	}
	pidFile := filepath.Join(s.qemuRunDir, d.Name+".pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fail("%v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return fail("%s: not a pid: %q", pidFile, bytes.TrimSpace(b))
	}
	proc := filepath.Join(s.procRoot, strconv.Itoa(pid))
	cmdline, err := os.ReadFile(filepath.Join(proc, "cmdline"))
	if err != nil {
		return fail("%s names process %d: %v", pidFile, pid, err)
	}
	if !qemuOf(cmdline, d) {
		return fail("%s names process %d, whose command line is not the domain's QEMU (stale pid file)", pidFile, pid)
	}
	if len(dirs) > 0 {
		cg, err := os.ReadFile(filepath.Join(proc, "cgroup"))
		if err != nil {
			return fail("%s names process %d: %v", pidFile, pid, err)
		}
		if !inDomainCgroup(cg, dirs) {
			return fail("%s names process %d, which is not in the domain's cgroup", pidFile, pid)
		}
	}
	return pid, nil
}

// qemuOf reports whether cmdline (NUL-separated, from /proc/PID/cmdline)
// is the QEMU libvirt started for d: "-uuid UUID" when d has a UUID, else
// "-name guest=NAME[,...]".
func qemuOf(cmdline []byte, d Domain) bool {
	c := "\x00" + string(cmdline)
	if !strings.HasSuffix(c, "\x00") {
		c += "\x00"
	}
	if d.UUID != "" {
		return strings.Contains(c, "\x00-uuid\x00"+d.UUID+"\x00")
	}
	return strings.Contains(c, "\x00guest="+d.Name+",") || strings.Contains(c, "\x00guest="+d.Name+"\x00")
}

// inDomainCgroup reports whether a process's /proc/PID/cgroup places it
// in, or below, one of the domain's cgroup directories.
func inDomainCgroup(cgroupFile []byte, dirs []domainDir) bool {
	for _, path := range parseProcCgroup(cgroupFile) {
		for _, dd := range dirs {
			rel, err := filepath.Rel(dd.h.dir, dd.dir)
			if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				continue
			}
			want := filepath.Clean("/" + rel)
			if path == want || strings.HasPrefix(path, want+"/") {
				return true
			}
		}
	}
	return false
}

// parseProcCgroup returns the cgroup paths of /proc/PID/cgroup, one
// "ID:CONTROLLERS:PATH" line per hierarchy (cgroup v2's is "0::PATH"),
// cleaned and absolute. Lines of another shape are skipped.
func parseProcCgroup(b []byte) []string {
	var out []string
	for line := range strings.SplitSeq(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		out = append(out, filepath.Clean(parts[2]))
	}
	return out
}
