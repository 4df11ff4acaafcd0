package cgroupstats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/cpumask"
)

// Indexes of a vCPU's task files under <proc>/<pid>/task/<tid>/.
const (
	fSchedstat = iota // run and wait ns: read every cycle, kept open
	fStat             // start time and last CPU: read only when not pinned to one CPU, opened on first need
	fStatus           // affinity, only when the proc root is not this process's own (fixture trees)
	nFiles
)

var taskFiles = [nFiles]string{"schedstat", "stat", "status"}

// vcpuState is one vCPU's resolved thread and its open descriptors.
type vcpuState struct {
	id, tid   int
	start     uint64 // the thread's start time (stat field 22), read after schedstat was opened
	paths     [nFiles]string
	fds       [nFiles]int
	transient bool     // out of descriptors: open, read and close each time
	mask      []uint64 // affinity of the last read
	scratch   []uint64 // affinity being read
	affinity  cpuset.CPUSet
	single    int    // the one CPU of the affinity, or -1
	run, wait uint64 // last schedstat values, to catch counters going backwards
	seen      bool
	budget    *fdBudget // the Sampler's count of kept-open descriptors
}

func newVCPUState(id, tid int, budget *fdBudget) vcpuState {
	return vcpuState{id: id, tid: tid, fds: [nFiles]int{-1, -1, -1}, affinity: cpuset.New(), single: -1, budget: budget}
}

// keep opens file i to keep it open. It returns false, having made the
// vCPU transient (every file opened by path on each read, its kept files
// closed), when the descriptor budget or the open-file limit is reached.
func (v *vcpuState) keep(i int) (bool, error) {
	if !v.budget.take() {
		v.close()
		v.transient = true
		return false, nil
	}
	fd, err := openRead(v.paths[i])
	if err != nil {
		v.budget.give()
		if isFDLimit(err) {
			v.close()
			v.transient = true
			return false, nil
		}
		return false, err
	}
	v.fds[i] = fd
	return true, nil
}

// open opens the thread's schedstat (and its status when statusAffinity)
// and then reads its start time from stat. The order matters: a later
// pread of the kept-open schedstat proves the thread it was opened on was
// still alive after the start time was read, so the start time is that
// thread's even if its TID were reused in between.
func (v *vcpuState) open(procRoot string, pid int, statusAffinity bool) error {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "task", strconv.Itoa(v.tid))
	for i, name := range taskFiles {
		v.paths[i] = filepath.Join(dir, name)
	}
	for _, i := range []int{fSchedstat, fStatus} {
		if i == fStatus && !statusAffinity {
			continue
		}
		// Past the open-file limit the vCPU is read the slow way rather
		// than not at all.
		ok, err := v.keep(i)
		if err != nil {
			v.close()
			return fileErr(v.paths[i], err)
		}
		if !ok {
			break
		}
	}
	b, err := os.ReadFile(v.paths[fStat])
	if err == nil {
		v.start, _, err = parseTaskStat(b)
	}
	if err != nil {
		v.close()
		return fileErr(v.paths[fStat], err)
	}
	return nil
}

// close closes the open descriptors; it may be called more than once.
func (v *vcpuState) close() {
	for i, fd := range v.fds {
		if fd >= 0 {
			_ = unix.Close(fd)
			v.fds[i] = -1
			v.budget.give()
		}
	}
}

// read fills out for one cycle: the affinity (sched_getaffinity, no text),
// run and wait from schedstat, and the last CPU from stat only when the
// thread is not pinned to exactly one CPU (a thread pinned to one CPU ran
// there). In steady state it allocates nothing: the affinity set is rebuilt
// only when the mask changed.
//
// A replaced thread never yields a delta: the kept-open schedstat fails
// with ESRCH once its thread is gone, whatever thread later gets the TID;
// the affinity is read before schedstat, so a schedstat read that succeeds
// proves the TID still named that thread; stat, opened by path, must show
// the start time read at open; and counters going backwards mean another
// thread. Each reports ErrVanished.
func (v *vcpuState) read(buf *[]byte, sysAffinity bool, out *VCPUStat) error {
	out.VCPU, out.TID, out.Start = v.id, v.tid, v.start
	var err error
	if sysAffinity {
		if v.scratch, err = getAffinity(v.tid, v.scratch); err != nil {
			return fileErr(filepath.Dir(v.paths[fSchedstat]), fmt.Errorf("sched_getaffinity: %w", err)) // ESRCH: gone
		}
	} else {
		n, err := v.readFile(fStatus, buf)
		if err == nil {
			v.scratch, err = parseStatusAffinity((*buf)[:n], v.scratch)
		}
		if err != nil {
			return fileErr(v.paths[fStatus], err)
		}
	}
	if !cpumask.Equal(v.scratch, v.mask) {
		v.mask = append(v.mask[:0], v.scratch...)
		v.affinity = cpuset.New(cpumask.CPUs(v.mask)...)
		v.single = cpumask.Single(v.mask)
	}
	out.Affinity = v.affinity

	n, err := v.readFile(fSchedstat, buf)
	if err == nil {
		out.RunNs, out.WaitNs, err = parseSchedstat((*buf)[:n])
	}
	if err == nil && v.seen && (out.RunNs < v.run || out.WaitNs < v.wait) {
		err = errReplaced
	}
	if err != nil {
		return fileErr(v.paths[fSchedstat], err)
	}
	v.run, v.wait, v.seen = out.RunNs, out.WaitNs, true

	if v.single >= 0 && !v.transient {
		out.LastCPU = v.single
		return nil
	}
	// Unpinned, or transient (every file opened by path): stat gives the
	// last CPU and proves the TID still names the thread first opened.
	var start uint64
	if n, err = v.readFile(fStat, buf); err == nil {
		start, out.LastCPU, err = parseTaskStat((*buf)[:n])
	}
	if err == nil && start != v.start {
		err = errReplaced
	}
	if err != nil {
		return fileErr(v.paths[fStat], err)
	}
	if v.single >= 0 {
		out.LastCPU = v.single
	}
	return nil
}

// readFile reads file i into buf: pread on the kept-open descriptor
// (opening it on first need), or open, read and close when the vCPU is
// transient or the open-file limit is reached now.
func (v *vcpuState) readFile(i int, buf *[]byte) (int, error) {
	if !v.transient && v.fds[i] < 0 {
		if _, err := v.keep(i); err != nil {
			return 0, err
		}
	}
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

// isFDLimit reports whether err is the open-file limit (per process or
// system-wide).
func isFDLimit(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE)
}
