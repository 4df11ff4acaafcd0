package main

import (
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// plotSVG draws two panels over time, one line per regime: the CPU the
// guests got together (percent of one pCPU, per step) and their cumulative
// vCPU migrations.
func plotSVG(path string, sums []regimeSummary) error {
	cpu, migr := plot.New(), plot.New()
	cpu.Title.Text = "CPU delivered to the guests (all together)"
	cpu.Y.Label.Text = "% of one pCPU"
	migr.Title.Text = "vCPU migrations (se.nr_migrations, cumulative)"
	migr.Y.Label.Text = "migrations"
	for _, p := range []*plot.Plot{cpu, migr} {
		p.X.Label.Text = "seconds since the regime started"
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
		p.Legend.Left = true
	}
	cpu.Y.Min, cpu.Y.Max = 0, 220
	for i, s := range sums {
		var c, m plotter.XYs
		ss := s.M.Samples
		for j := 1; j < len(ss); j++ {
			var run, prev, mg uint64
			for g := range ss[j].Guests {
				run += ss[j].Guests[g].RunNs
				prev += ss[j-1].Guests[g].RunNs
				mg += ss[j].Guests[g].Migrations
			}
			dt := ss[j].T - ss[j-1].T
			c = append(c, plotter.XY{X: ss[j].T, Y: 100 * float64(run-prev) / (dt * 1e9)})
			m = append(m, plotter.XY{X: ss[j].T, Y: float64(mg)})
		}
		for _, pair := range []struct {
			p   *plot.Plot
			pts plotter.XYs
		}{{cpu, c}, {migr, m}} {
			l, err := plotter.NewLine(pair.pts)
			if err != nil {
				return err
			}
			l.Color = plotutil.Color(i)
			l.Dashes = plotutil.Dashes(i)
			l.Width = vg.Points(1.5)
			pair.p.Add(l)
			pair.p.Legend.Add(s.M.Regime, l)
		}
	}
	img := vgsvg.New(vg.Points(720), vg.Points(720))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(18)}
	plots := [][]*plot.Plot{{cpu}, {migr}}
	canvases := plot.Align(plots, tiles, dc)
	cpu.Draw(canvases[0][0])
	migr.Draw(canvases[1][0])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := img.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
