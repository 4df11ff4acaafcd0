package main

import (
	"fmt"
	"time"

	"github.com/vsched/vsched/balancer"
)

// recorder keeps per-pCPU usage over the daemon's run and the moves it
// made, for --plot.
type recorder struct {
	start time.Time
	cpus  []int
	x     []float64
	usage map[int][]float64
	marks []plotMark
}

func newRecorder() *recorder { return &recorder{usage: map[int][]float64{}} }

// add records one cycle's per-pCPU usage at time t.
func (r *recorder) add(t time.Time, pcpu []cpuUsage) {
	if r.start.IsZero() {
		r.start = t
	}
	for _, c := range pcpu {
		if _, ok := r.usage[c.cpu]; !ok {
			r.cpus = append(r.cpus, c.cpu)
			r.usage[c.cpu] = make([]float64, len(r.x)) // a CPU seen late starts at 0
		}
	}
	r.x = append(r.x, t.Sub(r.start).Seconds())
	seen := make(map[int]bool, len(pcpu))
	for _, c := range pcpu {
		r.usage[c.cpu] = append(r.usage[c.cpu], c.usage)
		seen[c.cpu] = true
	}
	for _, cpu := range r.cpus {
		if !seen[cpu] {
			r.usage[cpu] = append(r.usage[cpu], 0)
		}
	}
}

// mark records one move at time t.
func (r *recorder) mark(t time.Time, mv balancer.Move) {
	if r.start.IsZero() {
		r.start = t
	}
	r.marks = append(r.marks, plotMark{X: t.Sub(r.start).Seconds(), Label: fmt.Sprintf("%s/%d %d>%d", mv.Domain, mv.VCPU, mv.From, mv.To)})
}

// write draws the recording to an SVG file.
func (r *recorder) write(path string) error {
	s := usageSeries{Title: "vsched: per-pCPU usage", XLabel: "seconds", X: r.x, Moves: r.marks}
	for _, cpu := range r.cpus {
		s.PCPU = append(s.PCPU, r.usage[cpu])
		s.Names = append(s.Names, fmt.Sprintf("pCPU %d", cpu))
	}
	return writeUsagePlot(path, s)
}
