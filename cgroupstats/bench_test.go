package cgroupstats

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	benchDomains = 250
	benchVCPUs   = 4
	benchTotal   = benchDomains * benchVCPUs
)

var benchLayouts = []Layout{LayoutHybrid, LayoutV2Systemd}

// warmSampler returns a Sampler over a synthetic 1,000-vCPU tree that has
// sampled once (every domain resolved, every file open).
func warmSampler(b *testing.B, l Layout) (*Sampler, []Domain, *Sample) {
	doms, s, _, _ := synthetic(b, l, benchDomains, benchVCPUs)
	var smp Sample
	if err := s.Sample(doms, &smp); err != nil {
		b.Fatal(err)
	}
	for _, ds := range smp.Domains {
		if ds.Err != nil {
			b.Fatal(ds.Err)
		}
	}
	return s, doms, &smp
}

func reportPerVCPU(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchTotal, "ns/vCPU")
}

// BenchmarkSample1000 is one steady-state Sample of 1,000 vCPUs.
func BenchmarkSample1000(b *testing.B) {
	for _, l := range benchLayouts {
		b.Run(l.String(), func(b *testing.B) {
			s, doms, smp := warmSampler(b, l)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Sample(doms, smp); err != nil {
					b.Fatal(err)
				}
			}
			reportPerVCPU(b)
		})
	}
}

// BenchmarkPreadFloor1000 is a bare pread of the very same open
// descriptors Sample reads, without parsing: the floor for Sample.
func BenchmarkPreadFloor1000(b *testing.B) {
	for _, l := range benchLayouts {
		b.Run(l.String(), func(b *testing.B) {
			s, _, _ := warmSampler(b, l)
			fds := []int{s.procStatFD}
			for _, st := range s.domains {
				for _, v := range st.vcpus {
					for _, fd := range v.fds {
						if fd >= 0 {
							fds = append(fds, fd)
						}
					}
				}
			}
			buf := make([]byte, 4096)
			b.ReportAllocs()
			for b.Loop() {
				for _, fd := range fds {
					if _, err := unix.Pread(fd, buf, 0); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportPerVCPU(b)
		})
	}
}

// BenchmarkNaiveReadFile1000 reads the same files with os.ReadFile
// (open, read, close each time), for contrast.
func BenchmarkNaiveReadFile1000(b *testing.B) {
	for _, l := range benchLayouts {
		b.Run(l.String(), func(b *testing.B) {
			s, _, _ := warmSampler(b, l)
			paths := []string{s.procStatPath}
			for _, st := range s.domains {
				for _, v := range st.vcpus {
					for _, p := range v.paths {
						if p != "" {
							paths = append(paths, p)
						}
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range paths {
					if _, err := os.ReadFile(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportPerVCPU(b)
		})
	}
}
