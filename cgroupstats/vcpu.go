package cgroupstats

import (
	"errors"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
	"k8s.io/utils/cpuset"
)

// Indexes of a vCPU's kept-open files.
const (
	fSchedstat = iota
	fStat
	fStatus
	fUsage
	nFiles
)

var taskFiles = [fUsage]string{"schedstat", "stat", "status"}

// vcpuState is one vCPU's resolved thread and open descriptors.
type vcpuState struct {
	vcpu, tid int
	kind      usageKind
	paths     [nFiles]string // for errors; paths[fUsage] is "" without a usage file
	fds       [nFiles]int
	transient bool     // out of descriptors: open, read and close each time
	mask      []uint64 // affinity of the last read
	scratch   []uint64 // affinity being parsed
	affinity  cpuset.CPUSet
}

func newVCPUState(n int) vcpuState {
	return vcpuState{vcpu: n, fds: [nFiles]int{-1, -1, -1, -1}, affinity: cpuset.New()}
}

// open opens the thread's task files under <proc>/<pid>/task/<tid>/ and
// the vCPU's cgroup usage file, if any.
func (v *vcpuState) open(procRoot string, pid int) error {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "task", strconv.Itoa(v.tid))
	for i, name := range taskFiles {
		v.paths[i] = filepath.Join(dir, name)
	}
	for i, p := range v.paths {
		if p == "" {
			continue
		}
		fd, err := openRead(p)
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			// Past the open-file limit (three or four per vCPU): read
			// this vCPU the slow way rather than not at all.
			v.close()
			v.transient = true
			return nil
		}
		if err != nil {
			v.close()
			return fileErr(p, err)
		}
		v.fds[i] = fd
	}
	return nil
}

// close closes the open descriptors; it may be called more than once.
func (v *vcpuState) close() {
	for i, fd := range v.fds {
		if fd >= 0 {
			_ = unix.Close(fd)
			v.fds[i] = -1
		}
	}
}

// read re-reads every open file with pread at offset 0 into buf and fills
// out. In steady state it allocates nothing: the affinity set is rebuilt
// only when the mask changed.
func (v *vcpuState) read(buf *[]byte, out *VCPUStat) error {
	out.VCPU, out.TID = v.vcpu, v.tid
	n, err := v.readFile(fSchedstat, buf)
	if err == nil {
		out.RunNs, out.WaitNs, err = parseSchedstat((*buf)[:n])
	}
	if err != nil {
		return fileErr(v.paths[fSchedstat], err)
	}
	if n, err = v.readFile(fStat, buf); err == nil {
		out.LastCPU, err = parseTaskStat((*buf)[:n])
	}
	if err != nil {
		return fileErr(v.paths[fStat], err)
	}
	if n, err = v.readFile(fStatus, buf); err == nil {
		v.scratch, err = parseStatusAffinity((*buf)[:n], v.scratch)
	}
	if err != nil {
		return fileErr(v.paths[fStatus], err)
	}
	if !sameMask(v.scratch, v.mask) {
		v.mask = append(v.mask[:0], v.scratch...)
		v.affinity = cpuset.New(maskCPUs(v.mask)...)
	}
	out.Affinity = v.affinity
	out.CgroupUsageNs = 0
	if v.paths[fUsage] == "" {
		return nil
	}
	if n, err = v.readFile(fUsage, buf); err == nil {
		out.CgroupUsageNs, err = parseUsage(v.kind, (*buf)[:n])
	}
	if err != nil {
		return fileErr(v.paths[fUsage], err)
	}
	return nil
}

// readFile reads file i into buf: pread on the kept-open descriptor, or
// open, read and close when the vCPU is transient.
func (v *vcpuState) readFile(i int, buf *[]byte) (int, error) {
	if !v.transient {
		return preadAll(v.fds[i], buf)
	}
	fd, err := openRead(v.paths[i])
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	return preadAll(fd, buf)
}
