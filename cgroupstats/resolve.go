package cgroupstats

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// domainDir is a domain's cgroup directory in one hierarchy.
type domainDir struct {
	dir string
	h   hierarchy
}

// candidates returns the directories libvirt may have made for the domain
// under one hierarchy, most recent layout first:
//
//	machine/qemu-ID-NAME.libvirt-qemu                   (no systemd)
//	machine.slice/machine-qemu\x2dID\x2dNAME.scope/libvirt  (systemd, libvirt >= 7.1)
//	machine.slice/machine-qemu\x2dID\x2dNAME.scope          (systemd, before 7.1)
func candidates(base string, d Domain) []string {
	scope := filepath.Join(base, "machine.slice", ScopeName(d.ID, d.Name))
	return []string{
		filepath.Join(base, "machine", noSystemdDir(d.ID, d.Name)),
		filepath.Join(scope, "libvirt"),
		scope,
	}
}

// findDomainDirs returns the domain's cgroup directory in each hierarchy
// where it exists, preferring hierarchies in order. When libvirt's naming
// differs from MachineName (other versions cut or filter names
// differently), the machine and machine.slice directories are scanned for
// an entry of the domain's ID, which is unique among running domains.
func (s *Sampler) findDomainDirs(d Domain) []domainDir {
	var found []domainDir
	for _, h := range s.hier {
		if dir := findIn(h.dir, d); dir != "" {
			found = append(found, domainDir{dir, h})
		}
	}
	return found
}

func findIn(base string, d Domain) string {
	for _, c := range candidates(base, d) {
		if isDir(c) && !isDir(filepath.Join(c, "libvirt")) {
			return c
		}
	}
	id := strconv.Itoa(d.ID)
	if dir := scanFor(filepath.Join(base, "machine"), "qemu-"+id+"-", ".libvirt-qemu"); dir != "" {
		return dir
	}
	dir := scanFor(filepath.Join(base, "machine.slice"), `machine-qemu\x2d`+id+`\x2d`, ".scope")
	if dir != "" && isDir(filepath.Join(dir, "libvirt")) {
		return filepath.Join(dir, "libvirt")
	}
	return dir
}

// scanFor returns the first directory in parent whose name has the prefix
// and suffix, or "".
func scanFor(parent, prefix, suffix string) string {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() && strings.HasPrefix(n, prefix) && strings.HasSuffix(n, suffix) {
			return filepath.Join(parent, n)
		}
	}
	return ""
}

// vcpuDir returns the first of dirs that has a vcpuN subdirectory, with that
// subdirectory, or false.
func vcpuDir(dirs []domainDir, n int) (domainDir, string, bool) {
	name := "vcpu" + strconv.Itoa(n)
	for _, d := range dirs {
		if p := filepath.Join(d.dir, name); isDir(p) {
			return d, p, true
		}
	}
	return domainDir{}, "", false
}

// findQEMUByCmdline scans <proc>/*/cmdline for the QEMU of the domain:
// libvirt passes "-uuid UUID" and "-name guest=NAME,...". It is the last
// resort when the domain has no cgroup at all.
func (s *Sampler) findQEMUByCmdline(d Domain) (int, error) {
	ents, err := os.ReadDir(s.procRoot)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRoot, err)
	}
	var want []string
	if d.UUID != "" {
		want = append(want, "\x00-uuid\x00"+d.UUID+"\x00")
	}
	want = append(want, "\x00guest="+d.Name+",", "\x00guest="+d.Name+"\x00")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.procRoot, e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, w := range want {
			if strings.Contains(string(b), w) {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: domain %d %q: no cgroup under %s and no QEMU process in %s",
		ErrNoCgroup, d.ID, d.Name, s.cgroupRoot, s.procRoot)
}
