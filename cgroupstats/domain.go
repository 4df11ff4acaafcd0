package cgroupstats

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
)

// domainState is one domain's resolution: its QEMU process, cgroup and
// vCPU threads with their open files. It is the slow path's result, kept
// until the domain disappears from the list, its vCPU ids change or one of
// its threads vanishes.
type domainState struct {
	gen    uint64 // last Sample that saw the domain
	pid    int
	cgroup string
	ids    []int // the vCPU ids resolved, as the caller passed them
	vcpus  []vcpuState
}

func (st *domainState) close() {
	for i := range st.vcpus {
		st.vcpus[i].close()
	}
}

// resolve is the slow path: it finds the domain's cgroup directories, each
// vCPU's thread (from its vcpuN cgroup, else from thread names), the QEMU
// process, checks each thread once through procfs and opens its files.
func (s *Sampler) resolve(d Domain) (*domainState, error) {
	keptFDs.refresh()
	dirs := s.findDomainDirs(d)
	st := &domainState{ids: slices.Clone(d.VCPUs), vcpus: make([]vcpuState, 0, len(d.VCPUs))}
	if len(dirs) > 0 {
		st.cgroup = dirs[0].dir
	}
	var byComm map[int]int
	for _, id := range d.VCPUs {
		if id < 0 {
			return nil, fmt.Errorf("%w: domain %d %q: negative vCPU id %d", ErrNoCgroup, d.ID, d.Name, id)
		}
		if dd, vdir, ok := vcpuDir(dirs, id); ok {
			tid, err := s.pickThread(filepath.Join(vdir, dd.h.threadsFile()), id)
			if err == nil {
				st.vcpus = append(st.vcpus, newVCPUState(id, tid, &keptFDs))
				continue
			}
			if !errors.Is(err, errNoThread) {
				return nil, err
			}
		}
		if byComm == nil {
			if err := s.fillPID(st, d, dirs); err != nil {
				return nil, err
			}
			var err error
			if byComm, err = s.threadsByComm(st.pid); err != nil {
				return nil, err
			}
		}
		tid, ok := byComm[id]
		if !ok {
			return nil, fmt.Errorf("%w: domain %d %q: no thread for vCPU %d (no vcpu%d cgroup under %s, no thread named \"CPU %d/KVM\" in %s)",
				ErrNoCgroup, d.ID, d.Name, id, id, s.cgroupRoot, id, filepath.Join(s.procRoot, strconv.Itoa(st.pid), "task"))
		}
		st.vcpus = append(st.vcpus, newVCPUState(id, tid, &keptFDs))
	}
	if st.pid == 0 && len(st.vcpus) > 0 {
		if pid, err := s.tgid(st.vcpus[0].tid); err == nil {
			st.pid = pid
		}
	}
	if err := s.fillPID(st, d, dirs); err != nil {
		return nil, err
	}
	for i := range st.vcpus {
		v := &st.vcpus[i]
		err := s.crossCheck(st.pid, v.tid)
		if err == nil {
			err = v.open(s.procRoot, st.pid, !s.sysAffinity)
		}
		if err != nil {
			st.close()
			return nil, err
		}
	}
	return st, nil
}

// fillPID sets st.pid from the cgroup or the command lines if still unset.
func (s *Sampler) fillPID(st *domainState, d Domain, dirs []domainDir) error {
	if st.pid != 0 {
		return nil
	}
	pid, err := s.domainPID(d, dirs)
	if err != nil {
		return err
	}
	st.pid = pid
	return nil
}
