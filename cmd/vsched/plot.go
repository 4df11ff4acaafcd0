package main

import (
	"fmt"
	"image/color"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotMark is one pin change to mark on a usage plot.
type plotMark struct {
	X     float64 // where on the X axis (an iteration, or seconds)
	Label string  // e.g. "vm1/0 0>2"
}

// usageSeries is per-pCPU usage over time, for writeUsagePlot. The daemon
// (X in seconds) and `vsched simulate` (X in iterations) both fill it.
type usageSeries struct {
	Title  string
	XLabel string
	X      []float64
	PCPU   [][]float64 // [pCPU][sample] usage in percent of one pCPU
	Names  []string    // optional legend name per pCPU; default "pCPU <n>"
	Moves  []plotMark
}

// writeUsagePlot draws one line per pCPU and a dashed vertical line where
// pins changed (labelled with the move, or the number of moves when several
// share an X), and writes it to path as SVG.
func writeUsagePlot(path string, s usageSeries) error {
	p := plot.New()
	p.Title.Text = s.Title
	p.X.Label.Text = s.XLabel
	p.Y.Label.Text = "usage (% of one pCPU)"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, 110
	for c, ys := range s.PCPU {
		pts := make(plotter.XYs, min(len(ys), len(s.X)))
		for i := range pts {
			pts[i].X, pts[i].Y = s.X[i], ys[i]
			p.Y.Max = max(p.Y.Max, ys[i]+10)
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("plot pCPU %d: %w", c, err)
		}
		line.Color = plotutil.Color(c)
		line.Dashes = plotutil.Dashes(c / 7)
		line.Width = vg.Points(1.5)
		p.Add(line)
		name := fmt.Sprintf("pCPU %d", c)
		if c < len(s.Names) {
			name = s.Names[c]
		}
		p.Legend.Add(name, line)
	}
	if err := addMarks(p, s.Moves); err != nil {
		return err
	}
	wt, err := p.WriterTo(10*vg.Inch, 5*vg.Inch, "svg")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := wt.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// addMarks draws one vertical line per distinct X among the moves.
func addMarks(p *plot.Plot, moves []plotMark) error {
	byX := map[float64][]string{}
	for _, m := range moves {
		byX[m.X] = append(byX[m.X], m.Label)
	}
	xs := make([]float64, 0, len(byX))
	for x := range byX {
		xs = append(xs, x)
	}
	slices.Sort(xs)
	var labels plotter.XYLabels
	for i, x := range xs {
		line, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: p.Y.Max - 5}})
		if err != nil {
			return fmt.Errorf("plot move marks: %w", err)
		}
		line.Color = color.Gray{Y: 120}
		line.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(line)
		if i == 0 {
			p.Legend.Add("pin change", line)
		}
		label := byX[x][0]
		if n := len(byX[x]); n > 1 {
			label = fmt.Sprintf("%d moves", n)
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: p.Y.Max - 4})
		labels.Labels = append(labels.Labels, label)
	}
	if len(xs) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return fmt.Errorf("plot move labels: %w", err)
	}
	p.Add(l)
	return nil
}
