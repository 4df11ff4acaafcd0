package sim

import (
	"fmt"
	"time"

	"github.com/vsched/vsched/balancer"
)

// snapshot is what the daemon would measure over iteration i.
func (m *model) snapshot(i int) balancer.Snapshot {
	s := balancer.Snapshot{At: time.Duration(i+1) * Interval, Window: Interval,
		VCPUs: make([]balancer.VCPU, 0, len(m.vcpus)), Background: map[int]float64{}}
	for c, g := range m.bgGot {
		if g > 0 {
			s.Background[c] = percent(g)
		}
	}
	for _, v := range m.vcpus {
		if v.at < 0 {
			continue
		}
		pin := m.all
		if !m.allowed[v.vm].IsEmpty() {
			pin = m.allowed[v.vm]
		}
		if v.pin >= 0 {
			pin = m.singles[v.pin]
		}
		s.VCPUs = append(s.VCPUs, balancer.VCPU{
			ID:   balancer.VCPUID{Domain: m.uuids[v.vm], VCPU: v.id},
			Name: fmt.Sprintf("%s/%d", m.sc.VMs[v.vm].Name, v.id),
			PCPU: v.at, Pin: pin, Allowed: m.allowed[v.vm],
			Usage: percent(v.got), Wait: percent(v.wait),
		})
	}
	return s
}

// apply pins a vCPU as mv says; moved reports whether it changes pCPU. A
// move of an unknown vCPU, or outside the host or the VM's cpuset, is an
// error: the policy broke a contract.
func (m *model) apply(mv balancer.Move) (Move, bool, error) {
	first, ok := m.byUUID[mv.ID.Domain]
	if !ok || mv.ID.VCPU < 0 || mv.ID.VCPU >= m.sc.VMs[m.vcpus[first].vm].VCPUs ||
		mv.To < 0 || mv.To >= m.sc.PCPUs || m.vcpus[first+mv.ID.VCPU].at < 0 {
		return Move{}, false, fmt.Errorf("policy planned an impossible move %v", mv)
	}
	v := &m.vcpus[first+mv.ID.VCPU]
	if !m.may(v.vm, mv.To) {
		return Move{}, false, fmt.Errorf("policy planned a move outside the cpuset of %s: %v", m.sc.VMs[v.vm].Name, mv)
	}
	sm := Move{VM: m.sc.VMs[v.vm].Name, VCPU: v.id, From: mv.From, To: mv.To, Reason: mv.Reason}
	moved := v.at != mv.To
	v.pin, v.at = mv.To, mv.To
	return sm, moved, nil
}

// problem is iteration i's placement problem for the judge: every running
// vCPU's useful demand and where it may go, and each pCPU's background.
func (m *model) problem(i int) problem {
	p := problem{base: m.background(i)}
	for _, v := range m.vcpus {
		if v.at < 0 {
			continue
		}
		var mask uint64
		if set := m.allowed[v.vm]; !set.IsEmpty() {
			if m.sc.PCPUs > 64 {
				p.loose = true // counted as unconstrained: a lower bound
			}
			for _, c := range set.List() {
				mask |= 1 << (c % 64)
			}
		}
		p.items = append(p.items, item{load: v.demand, mask: mask})
	}
	return p
}
