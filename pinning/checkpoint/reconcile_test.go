package checkpoint

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

func TestReconcile(t *testing.T) {
	live := Live{
		uuidA: {0: set(t, "1"), 1: set(t, "0-1"), 2: set(t, "3"), 3: set(t, "2")},
	}
	tests := []struct {
		name string
		e    Entry
		want Status
		live string
	}{
		{"LiveIsVschedsPin_Restorable", entry(t, uuidA, "vm1", 0, "0-1", "1"), Restorable, "1"},
		{"LiveIsOriginal_Unchanged", entry(t, uuidA, "vm1", 1, "0-1", "1"), Unchanged, "0-1"},
		{"OriginalEqualsSetEqualsLive_Unchanged", entry(t, uuidA, "vm1", 2, "3", "3"), Unchanged, "3"},
		{"LiveIsNeither_Repinned", entry(t, uuidA, "vm1", 3, "0-1", "1"), Repinned, "2"},
		{"LiveIsVschedsPreviousPin_Restorable", withPrevious(t, entry(t, uuidA, "vm1", 0, "0-1", "0"), "1"), Restorable, "1"},
		{"LiveIsNeitherNorPrevious_Repinned", withPrevious(t, entry(t, uuidA, "vm1", 3, "0-1", "1"), "3"), Repinned, "2"},
		{"NoSuchDomain_DomainGone", entry(t, uuidB, "vm2", 0, "0-1", "1"), DomainGone, ""},
		{"DomainRunsVCPUNotOnline_VCPUOffline", entry(t, uuidA, "vm1", 7, "0-1", "1"), VCPUOffline, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reconcile([]Entry{tt.e}, live)
			want := []Verdict{{Entry: tt.e, Status: tt.want, Live: set(t, tt.live)}}
			if diff := cmp.Diff(want, got, cpusetEqual); diff != "" {
				t.Errorf("Reconcile mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReconcile_KeepsOrderOneVerdictPerEntry(t *testing.T) {
	es := []Entry{entry(t, uuidB, "vm2", 0, "0", "1"), entry(t, uuidA, "vm1", 0, "0", "1")}
	got := Reconcile(es, Live{uuidA: {0: cpuset.New(1)}})
	if len(got) != 2 || got[0].Status != DomainGone || got[1].Status != Restorable {
		t.Errorf("Reconcile = %+v, want [domain gone, restorable]", got)
	}
}

func TestStatus_Forget(t *testing.T) {
	want := map[Status]bool{Restorable: false, Unchanged: true, DomainGone: true, Repinned: true, VCPUOffline: false, DomainInactive: false}
	got := map[Status]bool{}
	for s := range want {
		got[s] = s.Forget()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Forget mismatch (-want +got):\n%s", diff)
	}
}
