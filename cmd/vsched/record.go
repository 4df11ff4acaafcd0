package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/vsched/vsched/balancer"
)

// maxPlotFrames bounds what --plot keeps, whatever the run's length.
const maxPlotFrames = 4096

// recorder keeps, for --plot only, each cycle's per-pCPU usage (from
// /proc/stat) and demand (its vCPUs' run plus wait, and its background), and
// the moves made. It holds at most max frames: when full it drops every
// other frame and from then on keeps one cycle in two (then four, ...), so
// a run of months still plots whole in bounded memory.
type recorder struct {
	start  time.Time
	max    int
	stride int // keep one cycle in stride
	skip   int // cycles to skip before the next kept one
	frames []frame
	marks  []plotMark
}

type frame struct {
	x             float64
	usage, demand map[int]float64
}

func newRecorder(maxFrames int) *recorder { return &recorder{max: max(maxFrames, 2), stride: 1} }

func (r *recorder) since(t time.Time) float64 {
	if r.start.IsZero() {
		r.start = t
	}
	return t.Sub(r.start).Seconds()
}

// add records one cycle's window at time t.
func (r *recorder) add(t time.Time, w window) {
	x := r.since(t)
	if r.skip > 0 {
		r.skip--
		return
	}
	r.skip = r.stride - 1
	f := frame{x: x, usage: make(map[int]float64, len(w.pcpu)), demand: make(map[int]float64, len(w.pcpu))}
	for _, c := range w.pcpu {
		f.usage[c.CPU], f.demand[c.CPU] = c.Usage, c.Demand
	}
	if len(r.frames) == r.max {
		half := r.frames[:0]
		for i := 0; i < len(r.frames); i += 2 {
			half = append(half, r.frames[i])
		}
		r.frames = half
		r.stride *= 2
	}
	r.frames = append(r.frames, f)
	if len(r.marks) > r.max {
		r.marks = slices.Delete(r.marks, 0, len(r.marks)-r.max)
	}
}

// mark records one move at time t.
func (r *recorder) mark(t time.Time, mv balancer.Move) {
	r.marks = append(r.marks, plotMark{X: r.since(t), Label: fmt.Sprintf("%s %d>%d", mv.Name, mv.From, mv.To)})
}

// series assembles the recording; a pCPU missing from a frame reads 0.
func (r *recorder) series() usageSeries {
	s := usageSeries{Title: "vsched: per-pCPU usage and demand", XLabel: "seconds", Moves: r.marks}
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
