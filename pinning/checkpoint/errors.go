package checkpoint

import (
	"errors"
	"fmt"
)

// ErrStateDir is wrapped by errors about a state directory that cannot be
// created, read or written (a missing parent that cannot be made, a file
// where the directory should be, permissions, a read-only file system). The
// message names the path.
var ErrStateDir = errors.New("unusable state directory")

// ErrLocked is wrapped by Open's error when another process (a running
// vsched) holds the state directory's lock.
var ErrLocked = errors.New("state directory in use by another vsched")

// ErrInvalidEntry is wrapped by Record's error for an entry without a UUID,
// with a negative vCPU id, or with an empty or impossible pin.
var ErrInvalidEntry = errors.New("invalid checkpoint entry")

// ErrCorrupt is wrapped by every *CorruptError: the file could not be used
// and was set aside.
var ErrCorrupt = errors.New("corrupt checkpoint")

// ErrChecksum is wrapped by a *CorruptError whose file parsed but whose
// checksum does not match its content.
var ErrChecksum = errors.New("checksum mismatch")

// ErrVersion is wrapped by a *CorruptError whose file has no version or a
// version this vsched does not read.
var ErrVersion = errors.New("unsupported version")

// CorruptError reports a checkpoint file Open could not use and renamed
// aside; Open still returns an empty, usable Store with it. It is a warning
// for the caller to log in one line, not a reason to stop.
type CorruptError struct {
	// Path is the checkpoint file's path.
	Path string
	// SetAside is where the file was moved.
	SetAside string
	// Err says what was wrong: ErrChecksum, ErrVersion, ErrInvalidEntry or
	// the JSON decoder's error (truncated or garbled text).
	Err error
}

// Error returns one line naming both paths and the reason. The caller adds
// what it does next (the daemon starts with no recorded pins).
func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s %s: %v; set aside as %s", ErrCorrupt, e.Path, e.Err, e.SetAside)
}

// Unwrap returns ErrCorrupt and the reason, for errors.Is.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }
