package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// window is what one guest (or all together) got over [From, To] seconds.
type window struct {
	From, To   float64
	CPU, Steal float64 // percent of one pCPU, mean over the window
	Migrations uint64
	Other      float64 // all guests only: the host's other busy time, percent of one pCPU
}

// regimeSummary is one regime's two windows, per guest and in total.
type regimeSummary struct {
	M             Measurement
	Early, Late   []window // per guest
	EarlyT, LateT window   // all guests
	// Rounds is the CPU all guests got from the split on in every round of
	// this regime (several files of the same regime); M is the median one.
	Rounds []float64
	Round  int // 1-based index of the median round
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
	sums = medianRounds(sums)
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
	s.EarlyT.Other = other(m, 0, m.Split, s.EarlyT.CPU)
	s.LateT.Other = other(m, m.Split, end, s.LateT.CPU)
	return s
}

// other is the host's busy time that was not the guests' over a window.
func other(m Measurement, from, to, guests float64) float64 {
	a, b := nearest(m.Samples, from), nearest(m.Samples, to)
	if b.T <= a.T {
		return 0
	}
	return max(0, 100*float64(b.HostBusyNs-a.HostBusyNs)/((b.T-a.T)*1e9)-guests)
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
		if len(s.Rounds) > 1 {
			fmt.Fprintf(&sb, "Round %d of %d: the median by the guests' CPU from %gs on (every round: %s).\n\n", s.Round, len(s.Rounds), m.Split, pcts(s.Rounds))
		}
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
		fmt.Fprintf(&sb, "| **all** | **%.1f%%** | %.1f%% | %d | **%.1f%%** | %.1f%% | %d | |\n",
			e.CPU, e.Steal, e.Migrations, l.CPU, l.Steal, l.Migrations)
		fmt.Fprintf(&sb, "| *the host's other load* | %.1f%% | | | %.1f%% | | | |\n\n", e.Other, l.Other)
	}
	sb.WriteString("### Summary\n\n")
	if base != nil {
		fmt.Fprintf(&sb, "CPU is what the guests got together, in percent of one pCPU; \"of %s\" compares with the %s regime.\n\n", baseline, baseline)
	}
	e, l := sums[0].EarlyT, sums[0].LateT
	fmt.Fprintf(&sb, "| regime | CPU %s | CPU %s | of %s %s | of %s %s | migrations %s | migrations/s %s | other load %s |\n",
		secs(e), secs(l), baseline, secs(e), baseline, secs(l), secs(window{From: e.From, To: l.To}), secs(l), secs(l))
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sums {
		e, l := s.EarlyT, s.LateT
		fmt.Fprintf(&sb, "| %s | %.1f%% | %.1f%% | %s | %s | %d | %.2f | %.1f%% |\n", s.M.Regime, e.CPU, l.CPU,
			ratio(s.EarlyT.CPU, base, func(r regimeSummary) float64 { return r.EarlyT.CPU }),
			ratio(s.LateT.CPU, base, func(r regimeSummary) float64 { return r.LateT.CPU }),
			e.Migrations+l.Migrations, float64(l.Migrations)/(l.To-l.From), l.Other)
	}
	sb.WriteString("\nThe host's other load is busy time in /proc/stat that was not these guests' (other processes, QEMU's own threads, vsched): on a shared host it takes CPU from the guests and makes regimes measured at different times differ.\n")
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

func pcts(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf("%.1f%%", x))
	}
	return strings.Join(s, ", ")
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

// medianRounds keeps, of several rounds of the same regime, the one whose
// guests got the median CPU from the split on, noting every round's figure;
// regimes keep their order of first appearance.
func medianRounds(sums []regimeSummary) []regimeSummary {
	var order []string
	by := map[string][]regimeSummary{}
	for _, s := range sums {
		if _, ok := by[s.M.Regime]; !ok {
			order = append(order, s.M.Regime)
		}
		by[s.M.Regime] = append(by[s.M.Regime], s)
	}
	var out []regimeSummary
	for _, r := range order {
		rs := by[r]
		idx := make([]int, len(rs))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return rs[idx[a]].LateT.CPU < rs[idx[b]].LateT.CPU })
		med := rs[idx[len(idx)/2]]
		med.Round = idx[len(idx)/2] + 1
		for _, s := range rs {
			med.Rounds = append(med.Rounds, s.LateT.CPU)
		}
		out = append(out, med)
	}
	return out
}
