package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

func dom(uuid, name string, id int, pins ...cpuset.CPUSet) pinning.Domain {
	d := pinning.Domain{ID: id, Name: name, UUID: uuid}
	for i, p := range pins {
		d.VCPUs = append(d.VCPUs, pinning.VCPU{ID: i, Pin: p})
	}
	return d
}

type verdictRow struct {
	Kind, Name string
	Forget     bool
}

func rows(vs []verdict) []verdictRow {
	out := []verdictRow{}
	for _, v := range vs {
		out = append(out, verdictRow{v.kind, v.name, v.forget})
	}
	return out
}

func TestOwnership_Reconcile(t *testing.T) {
	c := cpuset.New
	entry := func(vcpu int, orig, set cpuset.CPUSet) checkpoint.Entry {
		return checkpoint.Entry{UUID: "u1", Name: "vm1", VCPU: vcpu, Original: orig, Set: set}
	}
	withPrev := func(e checkpoint.Entry, prev cpuset.CPUSet) checkpoint.Entry { e.Previous = prev; return e }
	tests := []struct {
		name     string
		listings [][]pinning.Domain
		entries  []checkpoint.Entry
		inactive map[string]bool
		want     []verdictRow // of the last listing
		operator []balancer.VCPUID
	}{
		{
			name:     "PinStillVschedsSet_NoVerdict",
			listings: [][]pinning.Domain{{dom("u1", "vm1", 1, c(1), c(0))}},
			entries:  []checkpoint.Entry{entry(0, c(0, 1), c(1))},
			want:     []verdictRow{},
		},
		{
			name:     "PinBackOnOriginal_EntryForgottenNotOperator",
			listings: [][]pinning.Domain{{dom("u1", "vm1", 1, c(0, 1))}},
			entries:  []checkpoint.Entry{entry(0, c(0, 1), c(1))},
			want:     []verdictRow{{verdictReverted, "vm1", true}},
		},
		{
			name:     "PinNeitherFoundNorSet_OperatorsEntryForgotten",
			listings: [][]pinning.Domain{{dom("u1", "vm1", 1, c(3))}},
			entries:  []checkpoint.Entry{entry(0, c(0, 1), c(1))},
			want:     []verdictRow{{verdictOperator, "vm1", true}},
			operator: []balancer.VCPUID{{Domain: "u1", VCPU: 0}},
		},
		{
			name:     "UntouchedVCPURepinnedBetweenListings_Operators",
			listings: [][]pinning.Domain{{dom("u1", "vm1", 1, c(0, 1), c(0, 1))}, {dom("u1", "vm1", 1, c(0, 1), c(0))}},
			want:     []verdictRow{{verdictOperator, "vm1", false}},
			operator: []balancer.VCPUID{{Domain: "u1", VCPU: 1}},
		},
		{
			name:     "OperatorPinsBackToTheOriginal_Operators",
			listings: [][]pinning.Domain{{dom("u1", "vm1", 1, c(1))}, {dom("u1", "vm1", 1, c(0, 1))}},
			entries:  []checkpoint.Entry{entry(0, c(0, 1), c(1))},
			want:     []verdictRow{{verdictOperator, "vm1", true}},
			operator: []balancer.VCPUID{{Domain: "u1", VCPU: 0}},
		},
		{
			name:     "DomainGone_EntryForgotten",
			listings: [][]pinning.Domain{{dom("u2", "other", 5, c(0))}},
			entries:  []checkpoint.Entry{entry(0, c(0, 1), c(1))},
			want:     []verdictRow{{verdictGone, "vm1", true}},
		},
		{
			name:     "PinIsVschedsPrevious_StillVschedsNoVerdict", // died between the write and the pin
			listings: [][]pinning.Domain{{dom("u1", "vm1", 1, c(1))}},
			entries:  []checkpoint.Entry{withPrev(entry(0, c(0, 1), c(0)), c(1))},
			want:     []verdictRow{},
		},
		{
			name:     "DomainInactive_EntryKeptSaidOnce",
			listings: [][]pinning.Domain{{}, {}},
			entries:  []checkpoint.Entry{entry(0, c(0, 1), c(1))},
			inactive: map[string]bool{"u1": true},
			want:     []verdictRow{},
		},
		{
			name:     "DomainInactive_FirstListingSaysItKept",
			listings: [][]pinning.Domain{{}},
			entries:  []checkpoint.Entry{entry(0, c(0, 1), c(1))},
			inactive: map[string]bool{"u1": true},
			want:     []verdictRow{{verdictInactive, "vm1", false}},
		},
		{
			name:     "DomainRestarted_OperatorMarksEnd",
			listings: [][]pinning.Domain{{dom("u1", "vm1", 1, c(0, 1))}, {dom("u1", "vm1", 1, c(0))}, {dom("u1", "vm1", 2, c(1))}},
			want:     []verdictRow{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOwnership()
			var got []verdict
			for _, ls := range tt.listings {
				got = o.reconcile(ls, tt.entries, tt.inactive)
			}
			if diff := cmp.Diff(tt.want, rows(got)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
			var ops []balancer.VCPUID
			for id := range o.operator {
				ops = append(ops, id)
			}
			if diff := cmp.Diff(tt.operator, ops); diff != "" {
				t.Errorf("operator's vCPUs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnership_PinnedByVsched_NotTakenForTheOperators(t *testing.T) {
	o := newOwnership()
	o.reconcile([]pinning.Domain{dom("u1", "vm1", 1, cpuset.New(0, 1))}, nil, nil)
	id := balancer.VCPUID{Domain: "u1", VCPU: 0}
	o.pinned(id, cpuset.New(1))
	entries := []checkpoint.Entry{{UUID: "u1", Name: "vm1", VCPU: 0, Original: cpuset.New(0, 1), Set: cpuset.New(1)}}
	if got := o.reconcile([]pinning.Domain{dom("u1", "vm1", 1, cpuset.New(1))}, entries, nil); len(got) != 0 {
		t.Fatalf("verdicts after vsched's own pin: %+v, want none", got)
	}
	if o.isOperator(id) {
		t.Fatal("vsched's own pin taken for the operator's")
	}
}

func TestOwnership_PinThatNeverTook_StaleStillVscheds(t *testing.T) {
	o := newOwnership()
	first := []checkpoint.Entry{{UUID: "u1", Name: "vm1", VCPU: 0, Original: cpuset.New(0, 1), Set: cpuset.New(1)}}
	o.reconcile([]pinning.Domain{dom("u1", "vm1", 1, cpuset.New(1))}, first, nil)
	// vsched records Set 3, the pin's reply is lost and the pin never took.
	second := []checkpoint.Entry{{UUID: "u1", Name: "vm1", VCPU: 0, Original: cpuset.New(0, 1), Set: cpuset.New(3)}}
	got := o.reconcile([]pinning.Domain{dom("u1", "vm1", 1, cpuset.New(1))}, second, nil)
	if diff := cmp.Diff([]verdictRow{{verdictStale, "vm1", false}}, rows(got)); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if o.isOperator(balancer.VCPUID{Domain: "u1", VCPU: 0}) {
		t.Error("a pin that never took was taken for the operator's")
	}
}
