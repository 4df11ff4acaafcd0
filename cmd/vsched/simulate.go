package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/balancer/sim"
)

// simulateOptions are `vsched simulate`'s flags.
type simulateOptions struct {
	scenario, policy, format, plot string
	threshold                      float64
}

func newSimulateCmd() *cobra.Command {
	o := simulateOptions{policy: "adaptive", format: "text", threshold: balancer.DefaultThreshold}
	cmd := &cobra.Command{
		Use:   "simulate --scenario FILE [--policy classic|adaptive] [--threshold N] [--format json|text] [--plot FILE.svg]",
		Short: "Run a balancing policy against the host model on a scenario file",
		Long: `simulate runs a policy, without a host, on a scenario: a JSON file giving the
number of pCPUs and iterations and, per VM, its vCPUs' initial pins (-1 for
unpinned) and demands in percent of one pCPU, with optional phases and
start/stop iterations. Optional host fields: "topology" (NUMA "nodes" and SMT
"cores", as CPU lists), "background" (per-pCPU load that is not a vCPU's,
with phases); optional VM fields: "cpuset" (the domain's <vcpu cpuset>, a CPU
list: its vCPUs are only ever pinned there) and "spin" (a spin-waiting guest:
on an over-committed pCPU its vCPUs stay runnable, so run plus wait reads
100% although its useful demand is unchanged).

One iteration is one interval; the vCPUs and the background on a pCPU share
it max-min fairly, run what they get and wait for the rest; a pin takes effect
in the next iteration. pcpu_usage, pcpu_demand and best_spread include the
background; balance is judged on useful demand.

Text output (the default) is a per-iteration table and a summary; --format
json prints one object (scenario, policy, pcpus, threshold, iterations,
converged_at, final_spread, final_stddev_pct_of_mean, moves,
moves_after_converged, pin_calls, best_spread, final_pins).`,
		Example: `  vsched simulate --scenario balancer/sim/testdata/scenarios/all-on-cpu0.json
  vsched simulate --scenario pingpong.json --policy classic --format json --plot pingpong.svg`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulate(cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "", "scenario JSON `FILE` (required)")
	f.StringVar(&o.policy, "policy", o.policy, "balancing policy: adaptive or classic")
	f.Float64Var(&o.threshold, "threshold", o.threshold, "tolerated spread between pCPUs, in percentage points")
	f.StringVar(&o.format, "format", o.format, "output format: text or json")
	f.StringVar(&o.plot, "plot", "", "also draw per-pCPU usage and pin changes to this SVG `FILE`")
	return cmd
}

func runSimulate(w io.Writer, o simulateOptions) error {
	switch {
	case o.scenario == "":
		return fmt.Errorf("%w: simulate: --scenario FILE is required", errUsage)
	case o.format != "text" && o.format != "json":
		return fmt.Errorf("%w: simulate: --format %q: want text or json", errUsage, o.format)
	case math.IsNaN(o.threshold) || o.threshold < 0 || o.threshold > 100:
		return fmt.Errorf("%w: simulate: --threshold %v: want 0 to 100", errUsage, o.threshold)
	}
	policy, err := balancer.PolicyByName(o.policy)
	if err != nil {
		return fmt.Errorf("%w: simulate: --policy: %w", errUsage, err)
	}
	sc, err := loadScenarioFile(o.scenario)
	if err != nil {
		return err
	}
	res, err := sim.Simulate(sc, policy, o.threshold)
	if err != nil {
		return fmt.Errorf("%w: simulate: %w", errRuntime, err)
	}
	if o.plot != "" {
		if err := writeUsagePlot(o.plot, simSeries(res)); err != nil {
			return fmt.Errorf("%w: simulate: --plot %s: %w", errRuntime, o.plot, err)
		}
	}
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return writeSimText(w, res)
}

func loadScenarioFile(path string) (*sim.Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: simulate: scenario: %w", errUsage, err)
	}
	defer f.Close()
	sc, err := sim.LoadScenario(f)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err) // exit status 2, like errUsage
	}
	return sc, nil
}

// simSeries turns a result into a plot: X is the iteration, and a move is
// marked at the iteration it takes effect in.
func simSeries(res *sim.Result) usageSeries {
	s := usageSeries{Title: fmt.Sprintf("%s: policy %s, threshold %g", res.Scenario, res.Policy, res.Threshold),
		XLabel: "iteration", PCPU: make([][]float64, res.PCPUs), Demand: make([][]float64, res.PCPUs)}
	for _, it := range res.Iterations {
		s.X = append(s.X, float64(it.I))
		for c, u := range it.PCPUUsage {
			s.PCPU[c] = append(s.PCPU[c], u)
		}
		for c, d := range it.PCPUDemand {
			s.Demand[c] = append(s.Demand[c], d)
		}
		for _, mv := range it.Moves {
			s.Moves = append(s.Moves, plotMark{X: float64(it.I + 1), Label: fmt.Sprintf("%s/%d %d>%d", mv.VM, mv.VCPU, mv.From, mv.To)})
		}
	}
	return s
}

// writeSimText prints a per-iteration table and a summary.
func writeSimText(w io.Writer, res *sim.Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s, policy %s, %d pCPUs, threshold %g\n\n", res.Scenario, res.Policy, res.PCPUs, res.Threshold)
	cols := func(xs []float64) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprintf("%6.1f", x)
		}
		return strings.Join(parts, " ")
	}
	width := 7*res.PCPUs - 1
	fmt.Fprintf(&b, "%4s  %-*s  %-*s  %7s  %6s  %s\n", "iter", width, "usage % per pCPU", width, "demand % per pCPU", "spread", "sd/mean", "moves (take effect next iteration)")
	for _, it := range res.Iterations {
		moves := make([]string, len(it.Moves))
		for i, mv := range it.Moves {
			from := fmt.Sprint(mv.From)
			if mv.From == balancer.Unpinned {
				from = "unpinned"
			}
			moves[i] = fmt.Sprintf("%s/%d %s->%d", mv.VM, mv.VCPU, from, mv.To)
		}
		row := fmt.Sprintf("%4d  %s  %s  %7.1f  %5.1f%%  %s", it.I, cols(it.PCPUUsage), cols(it.PCPUDemand),
			sim.Spread(it.PCPUDemand), sim.StddevPctOfMean(it.PCPUUsage), strings.Join(moves, ", "))
		b.WriteString(strings.TrimRight(row, " ") + "\n")
	}
	best := fmt.Sprintf("%.1f", res.BestSpread)
	if !res.BestSpreadExact {
		best += " (a lower bound: too big to search exactly)"
	}
	fmt.Fprintf(&b, "\nconverged at:        %s (balanced on demand: spread within the threshold, or within it of the best)\n", iterOrNever(res.ConvergedAt))
	fmt.Fprintf(&b, "course pass rule at: %s (usage stddev within 5%% of its mean from then on)\n", iterOrNever(res.PassRuleAt))
	fmt.Fprintf(&b, "final spread:        %.1f points of demand (best reachable %s)\n", res.FinalSpread, best)
	fmt.Fprintf(&b, "final usage stddev:  %.2f%% of the mean\n", res.FinalStddevPctOfMean)
	fmt.Fprintf(&b, "moves:               %d (%d after converging), %d pin calls\n", res.Moves, res.MovesAfterConverged, res.PinCalls)
	_, err := io.WriteString(w, b.String())
	return err
}

func iterOrNever(i *int) string {
	if i == nil {
		return "never"
	}
	return fmt.Sprintf("iteration %d", *i)
}
