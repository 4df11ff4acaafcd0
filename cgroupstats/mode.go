package cgroupstats

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/cgroups/v3"
	"golang.org/x/sys/unix"
)

const realCgroupRoot = "/sys/fs/cgroup"

// Cgroup modes, as Sampler.Mode reports them.
const (
	modeV1     = "v1"
	modeV2     = "v2"
	modeHybrid = "hybrid"
)

// hierarchy is one cgroup tree that may hold domain cgroups.
type hierarchy struct {
	dir      string
	threaded bool // cgroup v2: a vcpuN cgroup lists its thread in cgroup.threads, else in tasks
}

// threadsFile returns the file listing a cgroup's threads in h.
func (h hierarchy) threadsFile() string {
	if h.threaded {
		return "cgroup.threads"
	}
	return "tasks"
}

// v1AcctNames are the directory names the cpuacct controller is mounted
// under: alone on hosts without systemd, co-mounted with cpu by systemd.
var v1AcctNames = []string{"cpuacct", "cpu,cpuacct", "cpuacct,cpu"}

// detectMode returns the cgroup mode of root. containerd/cgroups' Mode()
// statfs-es the fixed path /sys/fs/cgroup (and caches the answer for the
// life of the process), so it is only asked when root is that path. Any
// other root (a fixture tree, a host root mounted elsewhere) is judged by
// statfs of root itself and then by its layout: cgroup.controllers at the
// top is v2, unified/cgroup.controllers is hybrid, v1 controller
// directories alone are v1.
func detectMode(root string) (string, error) {
	if filepath.Clean(root) == realCgroupRoot {
		switch cgroups.Mode() {
		case cgroups.Unified:
			return modeV2, nil
		case cgroups.Hybrid:
			return modeHybrid, nil
		case cgroups.Legacy:
			return modeV1, nil
		}
		return "", fmt.Errorf("%w: %s: no cgroup file system mounted", ErrRoot, root)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return modeV2, nil
	}
	switch {
	case isFile(filepath.Join(root, "cgroup.controllers")):
		return modeV2, nil
	case isFile(filepath.Join(root, "unified", "cgroup.controllers")):
		return modeHybrid, nil
	case v1AcctDir(root) != "" || isDir(filepath.Join(root, "cpu")):
		return modeV1, nil
	}
	return "", fmt.Errorf("%w: %s: not a cgroup root (no cgroup.controllers, unified/ or cpu/cpuacct hierarchy)", ErrRoot, root)
}

// hierarchies lists, in order of preference, the trees to look for domain
// cgroups in: cgroup v2 first, then cpuacct, then cpu.
func hierarchies(root, mode string) []hierarchy {
	var hs []hierarchy
	switch mode {
	case modeV2:
		return []hierarchy{{root, true}}
	case modeHybrid:
		hs = append(hs, hierarchy{filepath.Join(root, "unified"), true})
	}
	if acct := v1AcctDir(root); acct != "" {
		hs = append(hs, hierarchy{acct, false})
	}
	if cpu := filepath.Join(root, "cpu"); isDir(cpu) {
		hs = append(hs, hierarchy{cpu, false})
	}
	return hs
}

// v1AcctDir returns the cpuacct hierarchy under root, or "".
func v1AcctDir(root string) string {
	for _, n := range v1AcctNames {
		if d := filepath.Join(root, n); isFile(filepath.Join(d, "cpuacct.usage")) {
			return d
		}
	}
	return ""
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
