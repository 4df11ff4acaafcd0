package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// measurement builds a regime in which every guest runs at the given rates
// (percent of one pCPU) before and after the split, with migrations.
func measurement(regime string, early, late []float64, migrEarly, migrLate uint64) Measurement {
	m := Measurement{Regime: regime, Seconds: 20, Split: 5}
	for i := range early {
		m.Guests = append(m.Guests, "vsched-t-g"+string(rune('0'+i)))
	}
	for t := 0.0; t <= 20; t += 0.5 {
		s := Sample{T: t}
		for g := range early {
			var run float64
			var migr uint64
			if t <= 5 {
				run = early[g] / 100 * t * 1e9
				migr = migrEarly * uint64(t*2) / 10
			} else {
				run = early[g]/100*5e9 + late[g]/100*(t-5)*1e9
				migr = migrEarly + migrLate*uint64((t-5)*2)/30
			}
			s.Guests = append(s.Guests, GuestSample{RunNs: uint64(run), Migrations: migr, Pins: []string{"0"}})
		}
		m.Samples = append(m.Samples, s)
	}
	return m
}

func TestSummarize_WindowsPerGuestAndTotal(t *testing.T) {
	s := summarize(measurement("kernel", []float64{50, 30}, []float64{100, 90}, 2, 6))
	got := []float64{s.Early[0].CPU, s.Early[1].CPU, s.Late[0].CPU, s.Late[1].CPU, s.EarlyT.CPU, s.LateT.CPU}
	want := []float64{50, 30, 100, 90, 80, 190}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 0.01 && b-a < 0.01 })); diff != "" {
		t.Errorf("CPU per window (-want +got):\n%s", diff)
	}
	if s.EarlyT.Migrations != 4 || s.LateT.Migrations != 12 {
		t.Errorf("migrations %d early, %d late; want 4 and 12", s.EarlyT.Migrations, s.LateT.Migrations)
	}
}

func TestTables_GoalVerdict(t *testing.T) {
	for _, tc := range []struct {
		name        string
		late        []float64
		migrLate    uint64
		wantVerdict []string
	}{
		{"EqualCPUNoMigrations_Met", []float64{100, 99}, 0, []string{"(100.5%): met", "0 against 20: met"}},
		{"TooLittleCPU_NotMet", []float64{90, 80}, 0, []string{"(85.9%): NOT met", "met."}},
		{"TooManyMigrations_NotMet", []float64{100, 99}, 2, []string{"(100.5%): met", "4 against 20: NOT met"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kernel := summarize(measurement("kernel", []float64{50, 50}, []float64{100, 98}, 5, 10))
			adaptive := summarize(measurement("adaptive", []float64{50, 50}, tc.late, 1, tc.migrLate))
			out := tables([]regimeSummary{kernel, adaptive}, "kernel", "adaptive")
			_, goal, ok := strings.Cut(out, "Goal for adaptive")
			if !ok {
				t.Fatalf("no goal line:\n%s", out)
			}
			for _, w := range tc.wantVerdict {
				if !strings.Contains(goal, w) {
					t.Errorf("goal line lacks %q:\n%s", w, goal)
				}
			}
		})
	}
}

func TestReport_WritesMarkdownAndSVG(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, r := range []string{"kernel", "adaptive"} {
		m := measurement(r, []float64{50, 50}, []float64{100, 98}, 1, 2)
		path := filepath.Join(dir, r+".json")
		b, err := jsonMarshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	md, svg := filepath.Join(dir, "c.md"), filepath.Join(dir, "c.svg")
	var out strings.Builder
	if code := run(append([]string{"report", "--markdown", md, "--svg", svg}, files...), &out, &out); code != 0 {
		t.Fatalf("report exit %d: %s", code, out.String())
	}
	for _, f := range []string{md, svg} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(svg); !strings.Contains(string(b), "<svg") {
		t.Errorf("%s is not an SVG", svg)
	}
}

func TestRun_BadCommandLine_Exit2(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"measure"}, {"measure", "--regime", "x", "--out", "f"}, {"report"}} {
		var out strings.Builder
		if code := run(args, &out, &out); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, out.String())
		}
	}
}

func TestMedianRounds_KeepsMedianRoundPerRegimeInOrder(t *testing.T) {
	var sums []regimeSummary
	for _, r := range []struct {
		regime string
		late   float64
	}{{"kernel", 190}, {"adaptive", 150}, {"kernel", 170}, {"adaptive", 199}, {"kernel", 180}, {"adaptive", 198}} {
		sums = append(sums, summarize(measurement(r.regime, []float64{50, 50}, []float64{r.late / 2, r.late / 2}, 0, 0)))
	}
	got := medianRounds(sums)
	type row struct {
		Regime string
		Round  int
		CPU    int
		Rounds []int
	}
	var rows []row
	for _, s := range got {
		r := row{Regime: s.M.Regime, Round: s.Round, CPU: int(s.LateT.CPU + 0.5)}
		for _, x := range s.Rounds {
			r.Rounds = append(r.Rounds, int(x+0.5))
		}
		rows = append(rows, r)
	}
	want := []row{{"kernel", 3, 180, []int{190, 170, 180}}, {"adaptive", 3, 198, []int{150, 199, 198}}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("median rounds (-want +got):\n%s", diff)
	}
}
