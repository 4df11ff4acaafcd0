package cgroupstats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// Sampler reads domain and pCPU statistics from a cgroup root and a proc
// root. It keeps the files of every sampled vCPU open between samples.
// Its methods are safe for concurrent use (Sample calls are serialised).
type Sampler struct {
	mu         sync.Mutex
	cgroupRoot string
	procRoot   string
	mode       string
	systemd    bool
	hier       []hierarchy
	fs         procfs.FS

	procStatPath string
	procStatFD   int
	sysAffinity  bool   // procRoot is this process's own procfs: affinity by syscall
	qemuRunDir   string // libvirt's QEMU state directory (NAME.pid); "" when not given
	buf          []byte // one reused read buffer for every file
	gen          uint64
	domains      map[domainKey]*domainState
}

// domainKey caches a resolution: an ID is only reused by libvirt after a
// restart, and then the name pins it down.
type domainKey struct {
	id   int
	name string
}

// New returns a Sampler for the cgroup tree at cgroupRoot (normally
// /sys/fs/cgroup) and the proc file system at procRoot (normally /proc).
// It checks that both exist and look right, detects the cgroup mode and
// whether libvirt's cgroups sit under systemd's machine.slice, and opens
// <procRoot>/stat. Errors wrap ErrRoot and name the path.
func New(cgroupRoot, procRoot string, opts ...Option) (*Sampler, error) {
	for _, dir := range []string{cgroupRoot, procRoot} {
		fi, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRoot, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%w: %s: not a directory", ErrRoot, dir)
		}
	}
	statPath := filepath.Join(procRoot, "stat")
	if !isFile(statPath) {
		return nil, fmt.Errorf("%w: %s: not a proc root (no stat file)", ErrRoot, procRoot)
	}
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRoot, procRoot, err)
	}
	mode, err := detectMode(cgroupRoot)
	if err != nil {
		return nil, err
	}
	s := &Sampler{
		cgroupRoot: cgroupRoot, procRoot: procRoot, mode: mode,
		hier: hierarchies(cgroupRoot, mode), fs: fs,
		procStatPath: statPath, buf: make([]byte, 4096),
		domains: make(map[domainKey]*domainState),
	}
	s.sysAffinity = ownProc(procRoot)
	for _, o := range opts {
		o(s)
	}
	for _, h := range s.hier {
		if isDir(filepath.Join(h.dir, "machine.slice")) {
			s.systemd = true
		}
	}
	if s.procStatFD, err = openRead(statPath); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRoot, err)
	}
	// A first read proves the file parses before any domain depends on it.
	if _, err := s.readCPUs(nil); err != nil {
		_ = unix.Close(s.procStatFD)
		return nil, fmt.Errorf("%w: %w", ErrRoot, err)
	}
	return s, nil
}

// Mode returns the cgroup mode found at the root: "v1", "v2" or "hybrid".
func (s *Sampler) Mode() string { return s.mode }

// Systemd reports whether a machine.slice (systemd placement of libvirt's
// domains) exists in one of the sampled hierarchies. Both placements are
// searched either way; this is for logs.
func (s *Sampler) Systemd() bool { return s.systemd }

// Close closes every kept-open descriptor. The Sampler must not be used
// afterwards.
func (s *Sampler) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, d := range s.domains {
		d.close()
		delete(s.domains, k)
	}
	if s.procStatFD < 0 {
		return nil
	}
	err := unix.Close(s.procStatFD)
	s.procStatFD = -1
	if err != nil {
		return fmt.Errorf("close %s: %w", s.procStatPath, err)
	}
	return nil
}

// ownProc reports whether procRoot is the procfs of this process's PID
// namespace (its "self" names this process). Only then do thread ids under
// it name this kernel's threads, so that the affinity may be read with
// sched_getaffinity(2) instead of parsing each thread's status file.
func ownProc(procRoot string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(procRoot, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return false
	}
	self, err := os.Readlink(filepath.Join(procRoot, "self"))
	return err == nil && self == strconv.Itoa(os.Getpid())
}

// openRead opens path read-only for pread; the error names the path.
func openRead(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// preadAll reads the whole file behind fd from offset 0 into *buf, growing
// *buf (and only then allocating) when the file does not fit.
func preadAll(fd int, buf *[]byte) (int, error) {
	for {
		n, err := unix.Pread(fd, *buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n < len(*buf) {
			return n, nil
		}
		*buf = make([]byte, 2*len(*buf))
	}
}

// Transient returns how many sampled vCPUs are read with open, read and
// close each time because the open-file limit left no room to keep their
// files open. Zero is the normal case; raise RLIMIT_NOFILE otherwise.
func (s *Sampler) Transient() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.domains {
		for i := range st.vcpus {
			if st.vcpus[i].transient {
				n++
			}
		}
	}
	return n
}
