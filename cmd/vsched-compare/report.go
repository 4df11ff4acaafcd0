package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// window is what one guest (or all together) got over [From, To] seconds.
type window struct {
	From, To   float64
	CPU, Steal float64 // percent of one pCPU, mean over the window
	Migrations uint64
}

// regimeSummary is one regime's two windows, per guest and in total.
type regimeSummary struct {
	M             Measurement
	Early, Late   []window // per guest
	EarlyT, LateT window   // all guests
}

func reportCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	md := fs.String("markdown", "", "write the tables to this file too")
	svg := fs.String("svg", "", "write the plot to this file")
	baseline := fs.String("baseline", "kernel", "regime the others are compared with")
	goal := fs.String("goal", "adaptive", "regime held to the goal")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no measurement files", errUsage)
	}
	var sums []regimeSummary
	for _, path := range fs.Args() {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var m Measurement
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(m.Samples) < 2 {
			return fmt.Errorf("%s: %w: fewer than two samples", path, errFormat)
		}
		sums = append(sums, summarize(m))
	}
	text := tables(sums, *baseline, *goal)
	fmt.Fprint(stdout, text)
	if *md != "" {
		if err := os.WriteFile(*md, []byte(text), 0o644); err != nil {
			return err
		}
	}
	if *svg != "" {
		if err := plotSVG(*svg, sums); err != nil {
			return fmt.Errorf("plot %s: %w", *svg, err)
		}
	}
	return nil
}

func summarize(m Measurement) regimeSummary {
	s := regimeSummary{M: m}
	end := m.Samples[len(m.Samples)-1].T
	for g := range m.Guests {
		s.Early = append(s.Early, span(m, g, 0, m.Split))
		s.Late = append(s.Late, span(m, g, m.Split, end))
	}
	s.EarlyT, s.LateT = total(s.Early), total(s.Late)
	return s
}

// span is guest g's window between the samples nearest from and to.
func span(m Measurement, g int, from, to float64) window {
	a, b := nearest(m.Samples, from), nearest(m.Samples, to)
	dt := b.T - a.T
	ga, gb := a.Guests[g], b.Guests[g]
	return window{
		From: a.T, To: b.T,
		CPU:        100 * float64(gb.RunNs-ga.RunNs) / (dt * 1e9),
		Steal:      100 * float64(gb.WaitNs-ga.WaitNs) / (dt * 1e9),
		Migrations: gb.Migrations - ga.Migrations,
	}
}

func nearest(ss []Sample, t float64) Sample {
	best := ss[0]
	for _, s := range ss {
		if abs(s.T-t) < abs(best.T-t) {
			best = s
		}
	}
	return best
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func total(ws []window) window {
	var t window
	for _, w := range ws {
		t.From, t.To = w.From, w.To
		t.CPU += w.CPU
		t.Steal += w.Steal
		t.Migrations += w.Migrations
	}
	return t
}

// label shortens a guest name to what differs between guests.
func label(name string) string {
	return strings.TrimPrefix(name, "vsched-t-")
}

func tables(sums []regimeSummary, baseline, goal string) string {
	var sb strings.Builder
	var base *regimeSummary
	for i := range sums {
		if sums[i].M.Regime == baseline {
			base = &sums[i]
		}
	}
	for _, s := range sums {
		m := s.M
		fmt.Fprintf(&sb, "### %s\n\n", m.Regime)
		if len(m.Command) > 0 {
			fmt.Fprintf(&sb, "`%s`", strings.Join(m.Command, " "))
			if m.CommandExit != "" && m.CommandExit != "0" {
				fmt.Fprintf(&sb, " (exit: %s)", m.CommandExit)
			}
			sb.WriteString("\n\n")
		}
		e, l := s.EarlyT, s.LateT
		fmt.Fprintf(&sb, "| guest | CPU %s | steal %s | migrations %s | CPU %s | steal %s | migrations %s | pins at end |\n",
			secs(e), secs(e), secs(e), secs(l), secs(l), secs(l))
		sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
		last := m.Samples[len(m.Samples)-1]
		for g, name := range m.Guests {
			e, l := s.Early[g], s.Late[g]
			fmt.Fprintf(&sb, "| %s | %.1f%% | %.1f%% | %d | %.1f%% | %.1f%% | %d | %s |\n",
				label(name), e.CPU, e.Steal, e.Migrations, l.CPU, l.Steal, l.Migrations, strings.Join(last.Guests[g].Pins, ","))
		}
		fmt.Fprintf(&sb, "| **all** | **%.1f%%** | %.1f%% | %d | **%.1f%%** | %.1f%% | %d | |\n\n",
			e.CPU, e.Steal, e.Migrations, l.CPU, l.Steal, l.Migrations)
	}
	sb.WriteString("### Summary\n\n")
	if base != nil {
		fmt.Fprintf(&sb, "CPU is what the guests got together, in percent of one pCPU; \"of %s\" compares with the %s regime.\n\n", baseline, baseline)
	}
	e, l := sums[0].EarlyT, sums[0].LateT
	fmt.Fprintf(&sb, "| regime | CPU %s | CPU %s | of %s %s | of %s %s | migrations %s | migrations/s %s |\n",
		secs(e), secs(l), baseline, secs(e), baseline, secs(l), secs(window{From: e.From, To: l.To}), secs(l))
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sums {
		e, l := s.EarlyT, s.LateT
		fmt.Fprintf(&sb, "| %s | %.1f%% | %.1f%% | %s | %s | %d | %.2f |\n", s.M.Regime, e.CPU, l.CPU,
			ratio(s.EarlyT.CPU, base, func(r regimeSummary) float64 { return r.EarlyT.CPU }),
			ratio(s.LateT.CPU, base, func(r regimeSummary) float64 { return r.LateT.CPU }),
			e.Migrations+l.Migrations, float64(l.Migrations)/(l.To-l.From))
	}
	sb.WriteString("\n")
	for _, s := range sums {
		if s.M.Regime != goal || base == nil {
			continue
		}
		cpuOK := s.LateT.CPU >= 0.98*base.LateT.CPU
		migOK := float64(s.LateT.Migrations) <= float64(base.LateT.Migrations)/10
		fmt.Fprintf(&sb, "Goal for %s (from all on one pCPU: at least 98%% of the %s regime's CPU from %gs on, at most a tenth of its migrations): "+
			"CPU %s %.1f%% against %.1f%% (%.1f%%): %s; migrations %s %d against %d: %s.\n",
			goal, baseline, s.M.Split, secs(s.LateT), s.LateT.CPU, base.LateT.CPU, 100*s.LateT.CPU/base.LateT.CPU, verdict(cpuOK),
			secs(s.LateT), s.LateT.Migrations, base.LateT.Migrations, verdict(migOK))
	}
	return sb.String()
}

func secs(w window) string { return fmt.Sprintf("%.0f-%.0f s", w.From, w.To) }

func ratio(v float64, base *regimeSummary, f func(regimeSummary) float64) string {
	if base == nil || f(*base) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v/f(*base))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func jsonMarshal(m Measurement) ([]byte, error) { return json.MarshalIndent(m, "", " ") }
