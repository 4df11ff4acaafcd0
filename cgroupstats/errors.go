package cgroupstats

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrRoot reports a cgroup or proc root that is missing, unreadable or does
// not look like one. The error names the path.
var ErrRoot = errors.New("bad root")

// ErrVanished reports a domain, thread or cgroup that went away between two
// reads. It is a normal race with a stopping or reconfigured guest: the loop
// logs it at debug and skips the domain for this sample.
var ErrVanished = errors.New("vanished")

// ErrNoCgroup reports a domain for which neither a cgroup nor a QEMU process
// could be found.
var ErrNoCgroup = errors.New("no cgroup")

// ErrParse reports a kernel file whose contents could not be parsed.
var ErrParse = errors.New("malformed kernel file")

// parseReason is the unwrapped failure of a parser; callers add ErrParse and
// the path with fileErr so parsers stay allocation-free on success.
type parseReason string

func (r parseReason) Error() string { return string(r) }

// errReplaced reports a thread whose identity changed under a kept TID:
// another start time, or counters that went backwards. It wraps into
// ErrVanished.
var errReplaced = errors.New("thread replaced (start time or counters differ)")

// isGone reports whether an I/O error means the file's object is gone:
// ESRCH for a dead task's open /proc file, ENODEV for a removed cgroup's
// open file, ENOENT when the path no longer exists.
func isGone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) ||
		errors.Is(err, unix.ENODEV) || errors.Is(err, errReplaced)
}

// fileErr wraps an error on path with the fitting sentinel: ErrVanished for
// a gone object, ErrParse for a parse failure, and otherwise the I/O error
// alone (errors.Is still finds fs.ErrPermission and friends). It is only
// called on failure, so its allocations do not touch the steady state.
func fileErr(path string, err error) error {
	var pr parseReason
	switch {
	case errors.As(err, &pr):
		return fmt.Errorf("%w: %s: %s", ErrParse, path, string(pr))
	case isGone(err):
		return fmt.Errorf("%w: %s: %w", ErrVanished, path, err)
	default:
		return fmt.Errorf("read %s: %w", path, err)
	}
}
