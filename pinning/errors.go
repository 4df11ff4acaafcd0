package pinning

import (
	"errors"
	"fmt"

	"libvirt.org/go/libvirt"
)

// ErrConnect is wrapped by errors that mean libvirt could not be reached:
// the first connection in Open, a dropped connection that could not be
// re-established in this call, or a closed Conn. The caller may simply try
// again next cycle.
var ErrConnect = errors.New("cannot connect to libvirt")

// ErrDomainGone is wrapped by errors about a domain that no longer exists or
// no longer runs; the caller should drop it until the next Domains call.
var ErrDomainGone = errors.New("domain is gone")

// ErrPin is wrapped by errors about a pin libvirt refused or that was invalid
// before reaching libvirt (no UUID, an empty set, a CPU the host does not
// have, a vCPU the domain does not have online).
var ErrPin = errors.New("cannot pin vCPU")

// ErrPinChanged is wrapped by the error of a Pin whose vCPU's live pin is
// no longer its From: someone else re-pinned it, and it was left alone.
var ErrPinChanged = errors.New("vCPU re-pinned since planned")

// ErrTimeout is wrapped by errors about a libvirt call that did not return
// within the Conn's deadline (WithTimeout), and by calls refused at once
// because such a call is still waiting for libvirt. The blocked call
// finishes in the background; later calls work again once it has.
var ErrTimeout = errors.New("libvirt call timed out")

// ErrDomainXML is wrapped by errors about a domain description (libvirt's
// live XML) that could not be parsed.
var ErrDomainXML = errors.New("cannot parse domain XML")

// lvError gives a libvirt.Error a one-line message (libvirt's own Message,
// without the "virError(Code=..., Domain=...)" framing) while keeping it
// reachable with errors.As.
type lvError struct{ err libvirt.Error }

func (e lvError) Error() string { return e.err.Message }
func (e lvError) Unwrap() error { return e.err }

// clean wraps a libvirt.Error in lvError and returns any other error as is.
func clean(err error) error {
	var lv libvirt.Error
	if errors.As(err, &lv) {
		return lvError{lv}
	}
	return err
}

// lvCode returns the libvirt error code of err, or ERR_OK if err is not a
// libvirt.Error.
func lvCode(err error) libvirt.ErrorNumber {
	var lv libvirt.Error
	if errors.As(err, &lv) {
		return lv.Code
	}
	return libvirt.ERR_OK
}

// connLostCode reports whether a libvirt error code by itself means that the
// connection is unusable. Codes that are also raised for other reasons
// (ERR_SYSTEM_ERROR from a failed sched_setaffinity, ERR_INTERNAL_ERROR) are
// confirmed with IsAlive by the caller instead.
func connLostCode(code libvirt.ErrorNumber) bool {
	switch code {
	case libvirt.ERR_NO_CONNECT, libvirt.ERR_INVALID_CONN, libvirt.ERR_RPC:
		return true
	}
	return false
}

// connectError wraps err (from dialing uri) in ErrConnect, on one line.
func connectError(uri string, err error) error {
	return fmt.Errorf("%w at %s: %w", ErrConnect, uri, clean(err))
}
