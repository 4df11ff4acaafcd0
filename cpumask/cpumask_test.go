package cpumask

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name   string
		ranges [][2]int
		want   []int
		single int
	}{
		{"Empty_NoCPUs", nil, nil, -1},
		{"OneCPU_IsSingle", [][2]int{{5, 5}}, []int{5}, 5},
		{"HighCPU_IsSingle", [][2]int{{Max, Max}}, []int{Max}, Max},
		{"RangeAcrossWords_AllSet", [][2]int{{62, 66}}, []int{62, 63, 64, 65, 66}, -1},
		{"TwoWords_NotSingle", [][2]int{{1, 1}, {130, 130}}, []int{1, 130}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := make([]uint64, Words(Max+1))
			for _, r := range tc.ranges {
				SetRange(m, r[0], r[1])
			}
			if diff := cmp.Diff(tc.want, CPUs(m)); diff != "" {
				t.Errorf("CPUs (-want +got):\n%s", diff)
			}
			if got := Single(m); got != tc.single {
				t.Errorf("Single = %d, want %d", got, tc.single)
			}
			one := make([]uint64, 1)
			for _, c := range tc.want {
				if !Has(m, c) {
					t.Errorf("Has(%d) = false after setting it", c)
				}
				if c < 64 {
					Set(one, c)
				}
			}
			if Has(m, -1) || Has(one, 64) {
				t.Error("Has reports a CPU outside the mask")
			}
			if !Equal(m[:1], one) || !Equal(one, m[:1]) {
				t.Errorf("Equal(%x, %x) = false for the same first word", m[:1], one)
			}
		})
	}
}

func TestEqual_TrailingZerosIgnored(t *testing.T) {
	if !Equal([]uint64{3}, []uint64{3, 0, 0}) {
		t.Error("trailing zero words made masks differ")
	}
	if Equal([]uint64{3}, []uint64{3, 1}) {
		t.Error("a CPU in the second word was ignored")
	}
}
