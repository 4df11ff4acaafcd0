package cgroupstats

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// affinityWords is the initial size of an affinity mask in 64-bit words:
// 1,024 CPUs. getAffinity grows it when the kernel has more CPU ids.
const affinityWords = 16

// getAffinity reads thread tid's CPU affinity into mask with
// sched_getaffinity(2): no file, no text. mask is cleared first and grown
// (the only allocation) when the kernel's CPU mask is larger; it is
// returned. ESRCH means the thread is gone.
func getAffinity(tid int, mask []uint64) ([]uint64, error) {
	if len(mask) == 0 {
		mask = make([]uint64, affinityWords)
	}
	for {
		clear(mask)
		_, _, e := unix.RawSyscall(unix.SYS_SCHED_GETAFFINITY, uintptr(tid),
			uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0])))
		switch {
		case e == 0:
			return mask, nil
		case errors.Is(e, unix.EINVAL) && len(mask)*64 < maxCPU:
			mask = make([]uint64, 2*len(mask)) // more CPU ids than the mask holds
		default:
			return mask, e
		}
	}
}
