package cgroupstats

import (
	"bytes"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OnlineWatch notices CPU hotplug cheaply: it keeps
// devices/system/cpu/online open and compares each pread of it with the
// last. The loop calls Changed every cycle and re-reads the whole Topology
// only when it reports a change. It is not safe for concurrent use.
type OnlineWatch struct {
	path      string
	fd        int
	last, buf []byte
}

// NewOnlineWatch opens devices/system/cpu/online under sysRoot and reads it
// once. Errors wrap ErrTopology and name the file.
func NewOnlineWatch(sysRoot string) (*OnlineWatch, error) {
	p := filepath.Join(sysRoot, onlineFile)
	fd, err := openRead(p)
	if err != nil {
		return nil, topoErr(p, err)
	}
	w := &OnlineWatch{path: p, fd: fd, buf: make([]byte, 256)}
	if _, err := w.Changed(); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return w, nil
}

// Changed reports whether the online CPUs differ from the previous call's
// (or NewOnlineWatch's) reading. It allocates nothing unless the file grew.
func (w *OnlineWatch) Changed() (bool, error) {
	n, err := preadAll(w.fd, &w.buf)
	if err != nil {
		return false, topoErr(w.path, err)
	}
	if bytes.Equal(w.buf[:n], w.last) {
		return false, nil
	}
	w.last = append(w.last[:0], w.buf[:n]...)
	return true, nil
}

// Close closes the kept-open file.
func (w *OnlineWatch) Close() error {
	if w.fd < 0 {
		return nil
	}
	err := unix.Close(w.fd)
	w.fd = -1
	if err != nil {
		return fmt.Errorf("close %s: %w", w.path, err)
	}
	return nil
}
