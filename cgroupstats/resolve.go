package cgroupstats

import (
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
