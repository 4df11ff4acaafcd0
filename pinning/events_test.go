package pinning

import (
	"testing"

	"libvirt.org/go/libvirt"
)

// A domain for the event tests to define, start, destroy and undefine.
const newDomainXML = `<domain type='test'>
  <name>fresh</name>
  <uuid>66666666-6666-4666-8666-666666666666</uuid>
  <memory>65536</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>`

func TestEvents_LifecycleAndMetadata_TokenEach(t *testing.T) {
	c := openTest(t)
	if c.Events() == nil {
		t.Fatal("Events() = nil on the test driver, which has events")
	}
	steps := []struct {
		name string
		do   func(lc *libvirt.Connect) error
	}{
		{"define", func(lc *libvirt.Connect) error {
			d, err := lc.DomainDefineXML(newDomainXML)
			if err == nil {
				_ = d.Free()
			}
			return err
		}},
		{"start", func(lc *libvirt.Connect) error { return onFresh(lc, (*libvirt.Domain).Create) }},
		{"metadata", func(lc *libvirt.Connect) error {
			return onFresh(lc, func(d *libvirt.Domain) error {
				return d.SetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, `<vsched manage="no"/>`,
					MetadataKey, MetadataNS, libvirt.DOMAIN_AFFECT_LIVE)
			})
		}},
		{"destroy", func(lc *libvirt.Connect) error { return onFresh(lc, (*libvirt.Domain).Destroy) }},
		{"undefine", func(lc *libvirt.Connect) error { return onFresh(lc, (*libvirt.Domain).Undefine) }},
	}
	for _, s := range steps {
		drainEvents(c)
		onConn(t, c, s.do)
		waitEvent(t, c, s.name)
	}
}

// onFresh runs f on the domain newDomainXML defines.
func onFresh(lc *libvirt.Connect, f func(d *libvirt.Domain) error) error {
	d, err := lc.LookupDomainByName("fresh")
	if err != nil {
		return err
	}
	defer func() { _ = d.Free() }()
	return f(d)
}

func TestEvents_AfterReconnect_TokenThenCallbacksRegisteredAgain(t *testing.T) {
	c := openTest(t)
	killConn(t, c)
	drainEvents(c)
	if _, err := c.Domains(); err != nil { // reconnects
		t.Fatalf("Domains: %v", err)
	}
	waitEvent(t, c, "reconnecting") // domains may have changed while down
	destroy(t, c, "duo")
	waitEvent(t, c, "destroy on the new connection")
}

func TestEvents_WithoutEvents_Nil(t *testing.T) {
	c := openTest(t, WithoutEvents())
	if ch := c.Events(); ch != nil {
		t.Errorf("Events() = %v with WithoutEvents, want nil", ch)
	}
	destroy(t, c, "duo") // no callback registered: nothing to send to
}

func TestNotify_Coalesces_NeverBlocks(t *testing.T) {
	c := openTest(t)
	drainEvents(c)
	for range 3 {
		c.notify()
	}
	got := 0
	for {
		select {
		case <-c.Events():
			got++
			continue
		default:
		}
		break
	}
	if got != 1 {
		t.Errorf("%d tokens after 3 notifications, want 1", got)
	}
}
