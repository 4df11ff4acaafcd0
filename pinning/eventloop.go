package pinning

import (
	"sync"
	"time"

	"libvirt.org/go/libvirt"
)

// eventLoop is libvirt's default event loop, registered once per process
// and run by one goroutine for the life of the process. Remote connections
// need it for keepalive and event delivery; the test driver for events.
var eventLoop struct {
	once sync.Once
	err  error
}

// startEventLoop registers libvirt's default event loop implementation and
// starts the goroutine that runs it, the first time it is called. It must
// run before the first connection is opened; Open calls it. It returns the
// registration's error, the same on every call.
func startEventLoop() error {
	eventLoop.once.Do(func() {
		if eventLoop.err = libvirt.EventRegisterDefaultImpl(); eventLoop.err != nil {
			return
		}
		go runEventLoop()
	})
	return eventLoop.err
}

// runEventLoop runs libvirt's default event loop forever. An iteration that
// fails (it should not) is retried after a short pause rather than spun on.
func runEventLoop() {
	for {
		if err := libvirt.EventRunDefaultImpl(); err != nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
}
