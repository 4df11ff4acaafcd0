package main

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// printReport writes the Markdown tables.
func printReport(w io.Writer, h *hostResult, scaled []scaleResult) {
	fmt.Fprintf(w, "## One full sample on this host: %d domains, %d vCPUs\n\n", h.domains, h.vcpus)
	fmt.Fprintln(w, "| path | wall us/sample (median) | min-max | CPU us/sample (self + libvirtd) | wall us/vCPU |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, p := range h.paths {
		fmt.Fprintf(w, "| %s | %.1f | %.1f-%.1f | %.1f | %.2f |\n", p.name, p.wall.median, p.wall.min, p.wall.max, p.cpu.median, p.wall.median/float64(h.vcpus))
	}
	if len(scaled) == 0 {
		return
	}
	fmt.Fprintln(w, "\n## Kernel path alone, synthetic trees (hybrid layout)")
	fmt.Fprintln(w, "\n| vCPUs | sampler ns/vCPU | pread floor ns/vCPU | sampler / floor | open-read-close ns/vCPU | sampler allocs/sample | vCPUs past the fd limit |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range scaled {
		fmt.Fprintf(w, "| %d | %.0f | %.0f | %.2fx | %.0f | %d | %d |\n", s.vcpus, s.sampler, s.floor, s.sampler/s.floor, s.naive, s.samplerAllocs, s.transient)
	}
}

// writePlot draws cost per sample against vCPU count, log-log: the
// synthetic paths as lines, the real-host paths as points.
func writePlot(path string, h *hostResult, scaled []scaleResult) error {
	p := plot.New()
	p.Title.Text = "vsched: cost of one full sample"
	p.X.Label.Text = "vCPUs sampled"
	p.Y.Label.Text = "microseconds per sample"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	var lines []any
	for _, k := range []struct {
		name string
		ns   func(scaleResult) float64
	}{
		{"synthetic: sampler", func(s scaleResult) float64 { return s.sampler }},
		{"synthetic: pread floor", func(s scaleResult) float64 { return s.floor }},
		{"synthetic: open-read-close", func(s scaleResult) float64 { return s.naive }},
	} {
		xy := make(plotter.XYs, 0, len(scaled))
		for _, s := range scaled {
			xy = append(xy, plotter.XY{X: float64(s.vcpus), Y: math.Max(k.ns(s)*float64(s.vcpus)/1000, 1e-3)})
		}
		if len(xy) > 0 {
			lines = append(lines, k.name, xy)
		}
	}
	if len(lines) > 0 {
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return err
		}
	}
	for i, r := range h.paths {
		sc, err := plotter.NewScatter(plotter.XYs{{X: float64(h.vcpus), Y: math.Max(r.wall.median, 1e-3)}})
		if err != nil {
			return err
		}
		sc.Shape = plotutil.Shape(i + 3)
		sc.Color = plotutil.Color(i + 3)
		sc.Radius = vg.Points(4)
		p.Add(sc)
		p.Legend.Add("host: "+r.name, sc)
	}
	return p.Save(7*vg.Inch, 5*vg.Inch, path)
}
