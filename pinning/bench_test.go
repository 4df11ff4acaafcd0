package pinning

import (
	"testing"

	"k8s.io/utils/cpuset"
)

// The test driver answers in-process, so these measure vsched's own cost
// and the binding's (XML parsing included), not libvirtd's RPC round trips.

func BenchmarkDomains(b *testing.B) {
	c := openTest(b)
	for b.Loop() {
		if _, err := c.Domains(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApply_NoOp(b *testing.B) {
	c := openTest(b)
	pins := []Pin{{UUID: quadUUID, VCPU: 0, CPUs: cpuset.New(0)}, {UUID: duoUUID, VCPU: 1, CPUs: cpuset.New(2, 3)}}
	for b.Loop() {
		if r := c.Apply(pins); r[0].Err != nil || r[0].Changed {
			b.Fatal(r)
		}
	}
}

func BenchmarkApply_Move(b *testing.B) {
	c := openTest(b)
	to := []cpuset.CPUSet{cpuset.New(1), cpuset.New(2)}
	i := 0
	for b.Loop() {
		if r := c.Apply([]Pin{{UUID: quadUUID, VCPU: 0, CPUs: to[i%2]}}); r[0].Err != nil || !r[0].Changed {
			b.Fatal(r)
		}
		i++
	}
}
