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
	if h.vcpus > 0 {
		printHost(w, h)
	}
	printScale(w, scaled)
}

func printHost(w io.Writer, h *hostResult) {
	fmt.Fprintf(w, "## One full sample on this host: %d domains, %d vCPUs (%d pinned to one CPU)\n\n", h.domains, h.vcpus, h.pinned)
	fmt.Fprintln(w, "| path | wall us/sample (median) | min-max | CPU us/sample (self + libvirtd) | wall us/vCPU |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, p := range h.paths {
		fmt.Fprintf(w, "| %s | %.1f | %.1f-%.1f | %.1f | %.2f |\n", p.name, p.wall.median, p.wall.min, p.wall.max, p.cpu.median, p.wall.median/float64(h.vcpus))
	}
	if cg := h.byName(samplerPath); cg != nil && h.floorUS > 0 {
		fmt.Fprintf(w, "\nvsched sampler against the floor (one schedstat pread per vCPU, %.1f us): %.2fx\n", h.floorUS, cg.wall.median/h.floorUS)
	}
	fmt.Fprintln(w, "\n## One read of each source, on the guests' vCPU threads (kept-open descriptor, pread at offset 0)")
	fmt.Fprintln(w, "\n| source | read per sample by vsched | files | us per read |")
	fmt.Fprintln(w, "|---|---|---:|---:|")
	for _, f := range h.files {
		fmt.Fprintf(w, "| %s | %s | %d | %.2f |\n", f.name, usedBy(f.name), f.n, f.ns/1000)
	}
}

func printScale(w io.Writer, scaled []scaleResult) {
	if len(scaled) == 0 {
		return
	}
	fmt.Fprintln(w, "\n## Kernel path alone: real threads of the bench, listed as vCPUs (4 per domain)")
	fmt.Fprintln(w, "\n| threads | sampler ns/vCPU (pinned) | floor: schedstat pread ns/thread | pinned / floor | sampler ns/vCPU (unpinned) | unpinned / floor | /proc/stat share ns/vCPU | allocs/sample | vCPUs past the fd limit (pinned, unpinned) |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range scaled {
		fmt.Fprintf(w, "| %d | %.0f | %.0f | %.2fx | %.0f | %.2fx | %.1f | %d | %d, %d |\n", s.vcpus, s.pinned, s.floor, s.pinned/s.floor,
			s.unpinned, s.unpinned/s.floor, s.procStat, s.allocs, s.transient, s.unpinnedTransient)
	}
}

// usedBy says when the sampler reads a source.
func usedBy(name string) string {
	switch {
	case name == "schedstat", name == "sched_getaffinity(tid)":
		return "every vCPU"
	case name == "stat":
		return "vCPUs not pinned to one CPU"
	case len(name) > 10 && name[:10] == "/proc/stat":
		return "once"
	}
	return "no (slow path only)"
}

// writePlot draws cost per sample against vCPU count, log-log: the
// real-thread paths as lines, the real-host paths as points.
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
		{"real threads: sampler, pinned", func(s scaleResult) float64 { return s.pinned }},
		{"real threads: sampler, unpinned", func(s scaleResult) float64 { return s.unpinned }},
		{"real threads: schedstat pread floor", func(s scaleResult) float64 { return s.floor }},
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
