package pinning

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/cpuset"
)

func TestToCPUMap(t *testing.T) {
	tests := []struct {
		name    string
		set     cpuset.CPUSet
		n       int
		want    []bool
		wantErr error
	}{
		{"OneCPU_OneTrue", cpuset.New(2), 4, []bool{false, false, true, false}, nil},
		{"FirstAndLast_BothEndsTrue", cpuset.New(0, 7), 8, []bool{true, false, false, false, false, false, false, true}, nil},
		{"AllCPUs_AllTrue", cpuset.New(0, 1, 2), 3, []bool{true, true, true}, nil},
		{"PastEighthCPU_MapLongerThanOneByte", cpuset.New(9), 10, []bool{false, false, false, false, false, false, false, false, false, true}, nil},
		{"EmptySet_ErrPin", cpuset.New(), 4, nil, ErrPin},
		{"CPUEqualToHostCount_ErrPin", cpuset.New(1, 4), 4, nil, ErrPin},
		{"NegativeCPU_ErrPin", cpuset.New(-1), 4, nil, ErrPin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toCPUMap(tt.set, tt.n)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("toCPUMap(%v, %d) error = %v, want %v", tt.set, tt.n, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("toCPUMap(%v, %d) mismatch (-want +got):\n%s", tt.set, tt.n, diff)
			}
		})
	}
}

func TestFromCPUMap(t *testing.T) {
	tests := []struct {
		name string
		m    []bool
		want string
	}{
		{"NoneSet_Empty", []bool{false, false}, ""},
		{"NilMap_Empty", nil, ""},
		{"OneSet_ThatCPU", []bool{false, true, false}, "1"},
		{"RunsAndGaps_CPUList", []bool{true, true, true, false, true, false, false, true, true}, "0-2,4,7-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromCPUMap(tt.m).String(); got != tt.want {
				t.Errorf("fromCPUMap(%v) = %q, want %q", tt.m, got, tt.want)
			}
		})
	}
}

func TestCPUMap_RoundTripKeepsSet(t *testing.T) {
	for _, s := range []string{"0", "3", "0-7", "1,3,5", "0,63", "8-15"} {
		set, err := cpuset.Parse(s)
		if err != nil {
			t.Fatalf("Parse(%s): %v", s, err)
		}
		m, err := toCPUMap(set, 64)
		if err != nil {
			t.Fatalf("toCPUMap(%s): %v", s, err)
		}
		if got := fromCPUMap(m); !got.Equals(set) {
			t.Errorf("round trip of %s = %s", s, got)
		}
	}
}
