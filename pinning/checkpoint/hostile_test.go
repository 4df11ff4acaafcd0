package checkpoint

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobodyUID is the uid of the user `nobody` on Debian.
const nobodyUID = 65534

// mode returns path's permission bits, not following a link.
func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpen_NewDir_0700Lock0600File0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lib", "vsched")
	s := openStore(t, dir)
	if err := s.Record([]Entry{entry(t, uuidA, "vm1", 0, "0", "1")}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{dir: 0o700, filepath.Join(dir, lockName): 0o600, s.Path(): 0o600} {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
}

func TestOpen_TrailingSlash_Dir0700(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vsched")
	openStore(t, dir+"/")
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("state dir mode %v, want 0700", got)
	}
}

func TestOpen_OldLooseModes_Repaired(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vsched")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	writeFile(t, dir, lockName, nil)
	if err := os.Chmod(filepath.Join(dir, lockName), 0o666); err != nil {
		t.Fatal(err)
	}
	openStore(t, dir)
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("state dir mode %v after Open, want 0700", got)
	}
	if got := mode(t, filepath.Join(dir, lockName)); got != 0o600 {
		t.Errorf("lock mode %v after Open, want 0600", got)
	}
}

func TestOpen_SymbolicLinks_RefusedNothingFollowed(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, elsewhere string) string // returns the dir to open
	}{
		{"LockIsALink", func(t *testing.T, dir, elsewhere string) string {
			if err := os.Symlink(filepath.Join(elsewhere, "target"), filepath.Join(dir, lockName)); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"StateIsALink", func(t *testing.T, dir, elsewhere string) string {
			writeFile(t, elsewhere, "target", encode(sample(t)))
			if err := os.Symlink(filepath.Join(elsewhere, "target"), filepath.Join(dir, FileName)); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"DirIsALink", func(t *testing.T, dir, elsewhere string) string {
			link := filepath.Join(filepath.Dir(dir), "link")
			if err := os.Symlink(elsewhere, link); err != nil {
				t.Fatal(err)
			}
			return link
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir, elsewhere := filepath.Join(root, "vsched"), filepath.Join(root, "elsewhere")
			for _, d := range []string{dir, elsewhere} {
				if err := os.Mkdir(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			open := tt.setup(t, dir, elsewhere)
			before := dirNames(t, elsewhere)
			s, err := Open(open)
			if s != nil || !errors.Is(err, ErrStateDir) {
				t.Fatalf("Open = %v, %v; want nil, ErrStateDir", s, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "symbolic link") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line saying a symbolic link was refused", msg)
			}
			if after := dirNames(t, elsewhere); len(after) != len(before) {
				t.Errorf("the link's target directory changed: %v -> %v", before, after)
			}
			if data, err := os.ReadFile(filepath.Join(elsewhere, "target")); err == nil && len(data) > 0 && !bytes.Equal(data, encode(sample(t))) {
				t.Errorf("the link's target was written: %q", data)
			}
		})
	}
}

func TestOpen_ForeignOwner_Refused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file away")
	}
	for _, what := range []string{"Dir", "Lock"} {
		t.Run(what, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "vsched")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			victim := dir
			if what == "Lock" {
				victim = filepath.Join(dir, lockName)
				writeFile(t, dir, lockName, nil)
			}
			if err := os.Chown(victim, nobodyUID, nobodyUID); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			if s != nil || !errors.Is(err, ErrStateDir) {
				t.Fatalf("Open of a state dir with a foreign %s = %v, %v; want nil, ErrStateDir", what, s, err)
			}
			if !strings.Contains(err.Error(), "owned by uid 65534") {
				t.Errorf("error %q does not name the owner", err)
			}
		})
	}
}

// nobodyFlock runs flock(1) as nobody on path; it returns the command's
// error and output.
func nobodyFlock(t *testing.T, path string, hold time.Duration) (*exec.Cmd, error) {
	t.Helper()
	bin, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock(1) not installed")
	}
	cmd := exec.Command(bin, "-n", path, "sleep", strings.TrimSuffix(hold.String(), "s"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyUID, Gid: nobodyUID}}
	return cmd, cmd.Start()
}

func TestOpen_NobodyCannotTakeTheLock(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a command as nobody")
	}
	// The layout vsched made before: a directory anyone may enter and a
	// lock anyone may read, so anyone could flock it.
	root := t.TempDir()
	for _, d := range []string{filepath.Dir(root), root} { // testing's temporary dirs are 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "vsched")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, lockName)
	writeFile(t, dir, lockName, nil)
	// Control: in that layout nobody does take the lock.
	cmd, err := nobodyFlock(t, lock, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("setup: flock as nobody on the old layout: %v; want it taken", err)
	}
	openStore(t, dir).Close() // repairs the modes
	cmd, err = nobodyFlock(t, lock, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(werr, &exit) {
		t.Fatalf("flock as nobody on the repaired lock: %v; want it refused", werr)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after nobody tried the lock: %v", err)
	}
	_ = s.Close()
}
