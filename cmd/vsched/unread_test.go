package main

import (
	"errors"
	"testing"

	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning"
)

// unreadPinner is the real connection with the XML of some domains
// unreadable, as pinning lists a domain libvirt cannot give the XML of
// (pinning's own tests make the test driver fail it): Unread set,
// Unmanaged, no operator settings, vCPUs and pins from libvirt's vCPU info.
type unreadPinner struct {
	*pinning.Conn
	unread map[string]bool
}

var errPayload = errors.New("live XML: Unable to encode message payload")

func (p *unreadPinner) Domains() ([]pinning.Domain, error) {
	doms, err := p.Conn.Domains()
	for i := range doms {
		if d := &doms[i]; p.unread[d.Name] {
			d.Unread, d.Unmanaged, d.CPUSet, d.NodeSet = errPayload, true, cpuset.New(), cpuset.New()
		}
	}
	return doms, err
}

func TestLoop_DomainXMLUnreadable_WarnedOnceLoadCountsNeverPinnedRecoveryLogged(t *testing.T) {
	h := newSynthHost(t)
	p := &unreadPinner{Conn: h.conn, unread: map[string]bool{"guest-001": true}}
	l := h.newLoop(testOptions(), p)
	for range 4 { // a listing every cycle
		h.step(busyOnCPU0())
		cycle(l)
	}
	got := h.pins()
	if got["guest-001/0"] != "0" || got["guest-001/1"] != "0" {
		t.Errorf("guest-001 (XML unreadable) pinned to %s and %s, want both left on 0", got["guest-001/0"], got["guest-001/1"])
	}
	for _, m := range loggedMoves(t, &h.log) {
		if m.Domain == "guest-001" {
			t.Errorf("move of a domain whose XML is unreadable: %+v", m)
		}
	}
	// Its two busy vCPUs still load pCPU0, so guest-000's leave it.
	if got["guest-000/0"] == "0" || got["guest-000/1"] == "0" || got["guest-000/0"] == got["guest-000/1"] {
		t.Errorf("guest-000 on %s and %s, want both off pCPU0 (guest-001's load there counts) and apart",
			got["guest-000/0"], got["guest-000/1"])
	}
	warned := logEntries(t, &h.log, "domain XML unreadable: its load counts, its vCPUs are not pinned until it reads again")
	if len(warned) != 1 || warned[0]["domain"] != "guest-001" || warned[0]["level"] != "warning" || warned[0]["vcpus"] != 2.0 {
		t.Errorf("unreadable warnings %v, want one for guest-001 with its 2 vCPUs, over 4 listings", warned)
	}

	delete(p.unread, "guest-001")
	h.step(busyOnCPU0())
	cycle(l)
	h.step(busyOnCPU0())
	cycle(l)
	if back := logEntries(t, &h.log, "domain XML read again: managed as its settings say"); len(back) != 1 || back[0]["domain"] != "guest-001" {
		t.Errorf("recovery entries %v, want one for guest-001", back)
	}
}

// noVCPUs also strips the unreadable domains' vCPUs, as pinning lists them
// when libvirt's vCPU info fails too.
type noVCPUs struct{ *unreadPinner }

func (p noVCPUs) Domains() ([]pinning.Domain, error) {
	doms, err := p.unreadPinner.Domains()
	for i := range doms {
		if doms[i].Unread != nil {
			doms[i].VCPUs = nil
		}
	}
	return doms, err
}

func TestLibvirtSide_DomainPinnedThenXMLUnreadable_OriginalsKeptAndRestored(t *testing.T) {
	h := newSynthHost(t)
	p := &unreadPinner{Conn: h.conn, unread: map[string]bool{}}
	l := h.newLoop(testOptions(), p)
	for range 3 {
		h.step(busyOnCPU0())
		cycle(l)
	}
	before := len(h.store.Entries())
	pinnedOf := func() int {
		n := 0
		for _, e := range h.store.Entries() {
			if e.Name == "guest-001" {
				n++
			}
		}
		return n
	}
	if pinnedOf() == 0 {
		t.Fatalf("no guest-001 vCPU checkpointed after balancing (%d entries, pins %v); the test needs one", before, h.pins())
	}
	// Its XML becomes unreadable, first with its vCPU info, then without.
	p.unread["guest-001"] = true
	for _, side := range []pinner{p, noVCPUs{p}} {
		l.lv.p = side
		for range 3 {
			l.lv.list()
		}
		if got := len(h.store.Entries()); got != before {
			t.Fatalf("checkpoint has %d entries after listings of an unreadable guest-001 (%T), want the %d recorded kept",
				got, side, before)
		}
	}
	outs, err := restoreFromCheckpoint(h.store, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if !o.Restored {
			t.Errorf("restore of %s/%d: %s, want restored", o.Entry.Name, o.Entry.VCPU, o.line())
		}
	}
	if got := h.pins(); got["guest-001/0"] != "0" || got["guest-001/1"] != "0" {
		t.Errorf("guest-001 after restore on %s and %s, want its originals 0", got["guest-001/0"], got["guest-001/1"])
	}
}
