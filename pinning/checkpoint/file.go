package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	if err := tmp.Chmod(0o600); err != nil {
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

// makeDir creates the state directory (0700; missing parents 0755) and
// checks it: a real directory, not a symbolic link, owned by the effective
// user. One that others may read or enter is made 0700: in a directory
// others can enter, any local user could open the lock and take its flock,
// which locks vsched out.
func makeDir(dir string) error {
	dir = filepath.Clean(dir) // "dir/" names dir, not a parent to create
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("%w %s: %w", ErrStateDir, dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w %s: %w", ErrStateDir, dir, err)
	}
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrStateDir, dir, noFollowError(err))
	}
	defer f.Close()
	if err := owned(f, dir, 0o700); err != nil {
		return fmt.Errorf("%w %s: %w", ErrStateDir, dir, err)
	}
	return nil
}

// owned checks that f (the file at path) is the effective user's, and
// makes its permission bits perm if they are not.
func owned(f *os.File, path string, perm fs.FileMode) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not by vsched's uid %d: refused (chown it, or use another directory)", path, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm() != perm {
		return f.Chmod(perm)
	}
	return nil
}

// noFollowError names a symbolic link that O_NOFOLLOW refused.
func noFollowError(err error) error {
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w (a symbolic link or not a directory: refused, links are not followed)", err)
	}
	return err
}

// readFile reads the checkpoint without following a symbolic link and only
// if it is a regular file (a FIFO would block the read).
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: refused, links are not followed", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	return io.ReadAll(f)
}

// lockDir takes an exclusive flock on dir/state.lock without waiting. The
// kernel drops it when the process dies, so a SIGKILL never leaves a stale
// lock. The lock is opened without following a symbolic link, must be a
// regular file of the effective user's, and is made 0600: a user who can
// open it could hold its flock.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%w %s: %s is a symbolic link: refused, links are not followed", ErrStateDir, dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrStateDir, dir, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%w %s: %s is not a regular file", ErrStateDir, dir, path)
	}
	if err := owned(f, path, 0o600); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w %s: %w", ErrStateDir, dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked (stop the running vsched first; fuser -v %s names the holder)", ErrLocked, path, path)
		}
		return nil, fmt.Errorf("%w %s: lock %s: %w", ErrStateDir, dir, path, err)
	}
	return f, nil
}
