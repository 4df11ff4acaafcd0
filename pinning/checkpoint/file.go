package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// tmpPattern matches the temporary files writeFile creates; a crash can
// leave one behind, and Open removes it unread.
const tmpPattern = FileName + ".tmp-*"

// lockName is the lock file's name in the state directory.
const lockName = "state.lock"

// writeFile replaces the checkpoint with data atomically: a reader (or a
// restart after a crash or power loss at any point) finds either the old
// file or the new one, whole. The temporary file is removed on failure.
func (s *Store) writeFile(data []byte) (err error) {
	tmp, err := os.CreateTemp(s.dir, tmpPattern)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := s.rename(tmp.Name(), s.path); err != nil {
		return err
	}
	return syncDir(s.dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// probe checks that dir takes a new file, as every write needs: it catches
// a read-only file system or missing permissions at Open, not at the first
// pin.
func probe(dir string) error {
	f, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return err
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// setAside renames a bad checkpoint to path.corrupt-<UTC time>, adding -2,
// -3... if that name is taken, and returns the new path.
func setAside(path string) (string, error) {
	base := path + ".corrupt-" + time.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); err != nil { // free, or unknowable: Rename will tell
			break
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, syncDir(filepath.Dir(path))
}

// lockDir takes an exclusive flock on dir/state.lock without waiting. The
// kernel drops it when the process dies, so a SIGKILL never leaves a stale
// lock.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrStateDir, dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked (stop the running vsched first)", ErrLocked, path)
		}
		return nil, fmt.Errorf("%w %s: lock %s: %w", ErrStateDir, dir, path, err)
	}
	return f, nil
}
