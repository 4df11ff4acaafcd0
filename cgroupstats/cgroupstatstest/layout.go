package cgroupstatstest

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vsched/vsched/cgroupstats"
)

// Layout is one of the cgroup layouts libvirt produces, for synthetic trees.
type Layout int

// The layouts WriteSyntheticTree can build.
const (
	// LayoutHybrid is cgroup v1 plus cgroup2 at unified/, no systemd (this
	// project's hosts): unified/machine/qemu-ID-NAME.libvirt-qemu/vcpuN.
	LayoutHybrid Layout = iota
	// LayoutV2Systemd is cgroup v2 with systemd, libvirt >= 7.1:
	// machine.slice/machine-qemu\x2dID\x2dNAME.scope/libvirt/vcpuN.
	LayoutV2Systemd
	// LayoutV2SystemdPre71 is cgroup v2 with systemd before libvirt 7.1:
	// machine.slice/machine-qemu\x2dID\x2dNAME.scope/vcpuN.
	LayoutV2SystemdPre71
	// LayoutV2 is cgroup v2 without systemd: machine/qemu-ID-NAME.libvirt-qemu/vcpuN.
	LayoutV2
	// LayoutV1Systemd is cgroup v1 with systemd: cpu and cpuacct co-mounted
	// at cpu,cpuacct/, machine.slice/machine-qemu\x2dID\x2dNAME.scope/libvirt/vcpuN.
	LayoutV1Systemd
	// LayoutV1 is cgroup v1 without systemd, cpu/ and cpuacct/ mounted
	// apart: cpuacct/machine/qemu-ID-NAME.libvirt-qemu/vcpuN.
	LayoutV1
)

var layoutNames = [...]string{"hybrid", "v2-systemd", "v2-systemd-pre7.1", "v2", "v1-systemd", "v1"}

// String returns the layout's short name, e.g. "v2-systemd".
func (l Layout) String() string {
	if l < 0 || int(l) >= len(layoutNames) {
		return fmt.Sprintf("Layout(%d)", int(l))
	}
	return layoutNames[l]
}

// Layouts returns every layout, in declaration order.
func Layouts() []Layout {
	return []Layout{LayoutHybrid, LayoutV2Systemd, LayoutV2SystemdPre71, LayoutV2, LayoutV1Systemd, LayoutV1}
}

// CPUs is the number of pCPUs of a synthetic host.
const CPUs = 4

// WriteSyntheticTree writes under dir a cgroup root (dir/cgroup) in the
// given layout and a proc root (dir/proc) for domains guests of
// vcpusPerDomain vCPUs each, and returns the domains and both roots. Every
// file is a regular file with real-format contents, so a Sampler reads it
// with the same pread path as the kernel's. Domain i has ID i+1 and name
// "guest-NNN" (a '-' exercises systemd's \x2d escaping); the last vCPU's
// cgroup also lists a kvm-nx-lpage-re kernel thread, as on a real host.
func WriteSyntheticTree(dir string, layout Layout, domains, vcpusPerDomain int) ([]cgroupstats.Domain, string, string, error) {
	if int(layout) < 0 || int(layout) >= len(layoutNames) || domains < 0 || vcpusPerDomain < 0 {
		return nil, "", "", fmt.Errorf("synthetic tree: bad arguments %v, %d, %d", layout, domains, vcpusPerDomain)
	}
	t := &tree{files: map[string]string{}, links: map[string]string{}}
	t.cgroupRoot(layout)
	t.procStat()
	doms := make([]cgroupstats.Domain, domains)
	for i := range doms {
		d := cgroupstats.Domain{ID: i + 1, Name: fmt.Sprintf("guest-%03d", i),
			UUID: fmt.Sprintf("%08x-5a1e-4c0d-9e8f-%012x", i+1, i+1), VCPUs: ids(vcpusPerDomain)}
		pid := PID(i, vcpusPerDomain)
		t.qemu(d, pid)
		t.domainCgroup(layout, d, pid)
		doms[i] = d
	}
	if err := WriteFiles(dir, t.files, t.links); err != nil {
		return nil, "", "", err
	}
	return doms, filepath.Join(dir, "cgroup"), filepath.Join(dir, "proc"), nil
}

// tree is a set of files and symbolic links, by path relative to a root.
type tree struct {
	files map[string]string
	links map[string]string // path -> link target
}

// WriteFiles writes files (path relative to dir -> contents) and symbolic
// links (path -> target) under dir, making directories as needed.
func WriteFiles(dir string, files, links map[string]string) error {
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	for rel, target := range links {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(target, p); err != nil {
			return err
		}
	}
	return nil
}

// ids returns the vCPU ids 0..n-1.
func ids(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// PID returns the QEMU process id of synthetic domain i (0-based) when every
// domain has vcpus vCPUs.
func PID(i, vcpus int) int { return 10000 + i*(vcpus+8) }
