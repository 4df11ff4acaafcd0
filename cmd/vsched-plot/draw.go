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

	"github.com/vsched/vsched/internal/usageplot"
)

// writeUsagePlot draws one line per pCPU and a dashed vertical line where
// pins changed (labelled with the move, or the number of moves when several
// share an X), and writes it to path as SVG.
func writeUsagePlot(path string, s usageplot.Series) error {
	p := plot.New()
	p.Title.Text = s.Title
	p.X.Label.Text = s.XLabel
	p.Y.Label.Text = "usage (% of one pCPU)"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.YOffs = -vg.Points(12) // below the move labels
	p.Y.Min, p.Y.Max = 0, 110
	name := func(c int) string {
		if c < len(s.Names) {
			return s.Names[c]
		}
		return fmt.Sprintf("pCPU %d", c)
	}
	for c, ys := range s.PCPU {
		if err := addSeries(p, s.X, ys, c, plotutil.Dashes(c/7), 1.5, name(c)); err != nil {
			return err
		}
	}
	for c, ys := range s.Demand {
		dashed := []vg.Length{vg.Points(5), vg.Points(3)}
		if err := addSeries(p, s.X, ys, c, dashed, 1, name(c)+" demand"); err != nil {
			return err
		}
	}
	if len(s.Demand) > 0 {
		p.Y.Label.Text = "% of one pCPU"
		p.Title.Text += " (solid: usage, dashed: demand)"
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

// addSeries draws one line of ys over xs in the c-th colour and raises the
// Y axis to fit it.
func addSeries(p *plot.Plot, xs, ys []float64, c int, dashes []vg.Length, width float64, name string) error {
	pts := make(plotter.XYs, min(len(ys), len(xs)))
	for i := range pts {
		pts[i].X, pts[i].Y = xs[i], ys[i]
		p.Y.Max = max(p.Y.Max, ys[i]+10)
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	line.Color = plotutil.Color(c)
	line.Dashes = dashes
	line.Width = vg.Points(width)
	p.Add(line)
	p.Legend.Add(name, line)
	return nil
}

// addMarks draws one vertical line per distinct X among the moves.
func addMarks(p *plot.Plot, moves []usageplot.Mark) error {
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
		// Stagger neighbouring labels so they do not overprint.
		labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: p.Y.Max - 4 - float64(i%3)*p.Y.Max/25})
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
