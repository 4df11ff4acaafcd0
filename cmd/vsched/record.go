package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/vsched/vsched/balancer"
)

// recorder keeps, for --plot, each cycle's per-pCPU usage (from /proc/stat)
// and vCPU demand (run plus run-queue wait of the vCPUs that last ran
// there), and the moves made.
type recorder struct {
	start  time.Time
	frames []frame
	marks  []plotMark
}

type frame struct {
	x             float64
	usage, demand map[int]float64
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) since(t time.Time) float64 {
	if r.start.IsZero() {
		r.start = t
	}
	return t.Sub(r.start).Seconds()
}

// add records one cycle at time t.
func (r *recorder) add(t time.Time, pcpu []cpuUsage, rates map[vcpuKey]vcpuRate) {
	f := frame{x: r.since(t), usage: map[int]float64{}, demand: map[int]float64{}}
	for _, c := range pcpu {
		f.usage[c.cpu] = c.usage
		f.demand[c.cpu] += 0 // a pCPU with no vCPU has demand 0, not a gap
	}
	for _, v := range rates {
		f.demand[v.pcpu] += v.usage + v.wait
	}
	r.frames = append(r.frames, f)
}

// mark records one move at time t.
func (r *recorder) mark(t time.Time, mv balancer.Move) {
	r.marks = append(r.marks, plotMark{X: r.since(t), Label: fmt.Sprintf("%s/%d %d>%d", mv.Domain, mv.VCPU, mv.From, mv.To)})
}

// series assembles the recording; a pCPU missing from a frame reads 0.
func (r *recorder) series() usageSeries {
	s := usageSeries{Title: "vsched: per-pCPU usage and vCPU demand", XLabel: "seconds", Moves: r.marks}
	var cpus []int
	for _, f := range r.frames {
		for cpu := range f.usage {
			if !slices.Contains(cpus, cpu) {
				cpus = append(cpus, cpu)
			}
		}
	}
	slices.Sort(cpus)
	for _, cpu := range cpus {
		u, d := make([]float64, len(r.frames)), make([]float64, len(r.frames))
		for i, f := range r.frames {
			u[i], d[i] = f.usage[cpu], f.demand[cpu]
		}
		s.PCPU, s.Demand = append(s.PCPU, u), append(s.Demand, d)
		s.Names = append(s.Names, fmt.Sprintf("pCPU %d", cpu))
	}
	for _, f := range r.frames {
		s.X = append(s.X, f.x)
	}
	return s
}

// write draws the recording to an SVG file.
func (r *recorder) write(path string) error { return writeUsagePlot(path, r.series()) }
