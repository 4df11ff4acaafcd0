package cgroupstats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// errNoThread means a vcpuN cgroup lists no usable vCPU thread; the caller
// falls back to thread names.
var errNoThread = errors.New("no vCPU thread in cgroup")

// parseVCPUComm returns N for a QEMU vCPU thread name, "CPU N/KVM" or
// "CPU N/TCG" (QEMU names its threads because libvirt passes
// debug-threads=on).
func parseVCPUComm(comm string) (int, bool) {
	comm = strings.TrimSuffix(comm, "\n")
	rest, ok := strings.CutPrefix(comm, "CPU ")
	if !ok {
		return 0, false
	}
	num, accel, ok := strings.Cut(rest, "/")
	if !ok || accel != "KVM" && accel != "TCG" {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// comm returns a thread's name through procfs, or "" when it is gone.
func (s *Sampler) comm(tid int) string {
	p, err := s.fs.Proc(tid)
	if err != nil {
		return ""
	}
	c, err := p.Comm()
	if err != nil {
		return ""
	}
	return c
}

// pickThread reads a vcpuN cgroup's thread list (cgroup.threads or tasks)
// and returns vCPU n's thread. The last vCPU's cgroup also holds KVM's
// kernel thread "kvm-nx-lpage-re" (kvm-nx-lpage-recovery, cut to 15
// characters), which is skipped: a thread named "CPU n/..." wins, else the
// only thread that is not a kvm- kernel thread.
func (s *Sampler) pickThread(path string, n int) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fileErr(path, err)
	}
	tids, err := parseIntList(b)
	if err != nil {
		return 0, fileErr(path, err)
	}
	var others []int
	for _, tid := range tids {
		c := s.comm(tid)
		if m, ok := parseVCPUComm(c); ok && m == n {
			return tid, nil
		}
		if c != "" && !strings.HasPrefix(c, "kvm-") {
			others = append(others, tid)
		}
	}
	if len(others) == 1 {
		return others[0], nil
	}
	return 0, fmt.Errorf("%w: %s", errNoThread, path)
}

// threadsByComm maps vCPU numbers to thread ids from the names of the
// QEMU process's threads: the fallback when there is no vcpuN cgroup.
func (s *Sampler) threadsByComm(pid int) (map[int]int, error) {
	threads, err := s.fs.AllThreads(pid)
	if err != nil {
		return nil, fileErr(filepath.Join(s.procRoot, strconv.Itoa(pid), "task"), err)
	}
	byVCPU := make(map[int]int)
	for _, t := range threads {
		c, err := t.Comm()
		if err != nil {
			continue
		}
		if n, ok := parseVCPUComm(c); ok {
			byVCPU[n] = t.PID
		}
	}
	return byVCPU, nil
}

// tgid returns the process a thread belongs to, from its status (procfs).
func (s *Sampler) tgid(tid int) (int, error) {
	p, err := s.fs.Proc(tid)
	if err != nil {
		return 0, fileErr(filepath.Join(s.procRoot, strconv.Itoa(tid)), err)
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, fileErr(filepath.Join(s.procRoot, strconv.Itoa(tid), "status"), err)
	}
	return st.TGID, nil
}

// domainPID finds the QEMU process of a domain without a usable vCPU
// thread: the first pid of the domain cgroup's (or its emulator cgroup's)
// cgroup.procs, else the pid libvirt wrote for it (libvirtPID).
func (s *Sampler) domainPID(d Domain, dirs []domainDir) (int, error) {
	for _, dd := range dirs {
		for _, p := range []string{
			filepath.Join(dd.dir, "cgroup.procs"),
			filepath.Join(dd.dir, "emulator", "cgroup.procs"),
		} {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if pids, err := parseIntList(b); err == nil && len(pids) > 0 {
				return pids[0], nil
			}
		}
	}
	return s.libvirtPID(d, dirs)
}

// crossCheck reads the thread once through procfs on the slow path: its
// stat, schedstat and status must parse, and it must still belong to pid
// (a reused TID belongs to another process).
func (s *Sampler) crossCheck(pid, tid int) error {
	dir := filepath.Join(s.procRoot, strconv.Itoa(pid), "task", strconv.Itoa(tid))
	t, err := s.fs.Thread(pid, tid)
	if err != nil {
		return fileErr(dir, err)
	}
	if _, err := t.Stat(); err != nil {
		return crossErr(dir, "stat", err)
	}
	if _, err := t.Schedstat(); err != nil {
		return crossErr(dir, "schedstat", err)
	}
	st, err := t.NewStatus()
	if err != nil {
		return crossErr(dir, "status", err)
	}
	if st.TGID != pid {
		return fmt.Errorf("%w: %s: thread now belongs to process %d", ErrVanished, dir, st.TGID)
	}
	return nil
}

func crossErr(dir, file string, err error) error {
	if isGone(err) {
		return fileErr(filepath.Join(dir, file), err)
	}
	return fmt.Errorf("%w: %s: %w", ErrParse, filepath.Join(dir, file), err)
}
