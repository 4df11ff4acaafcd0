package sim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vsched/vsched/balancer"
)

func TestZZPrint(t *testing.T) {
	files, _ := filepath.Glob("testdata/scenarios/*.json")
	for _, f := range files {
		for _, pol := range []string{"classic", "adaptive"} {
			r, _ := os.Open(f)
			sc, err := LoadScenario(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			p, _ := balancer.PolicyByName(pol)
			res, err := Simulate(sc, p, balancer.DefaultThreshold)
			if err != nil {
				t.Fatal(err)
			}
			ca := "null"
			if res.ConvergedAt != nil {
				ca = fmt.Sprint(*res.ConvergedAt)
			}
			pins, _ := json.Marshal(res.FinalPins)
			fmt.Printf("%-22s %-9s converged_at=%-4s moves=%-3d after=%d pin_calls=%-3d final_spread=%.1f best=%.1f sd=%.2f pins=%s\n",
				sc.Name, pol, ca, res.Moves, res.MovesAfterConverged, res.PinCalls, res.FinalSpread, res.BestSpread, res.FinalStddevPctOfMean, pins)
			if os.Getenv("ZZV") != "" {
				for _, it := range res.Iterations {
					fmt.Println("  ", it.I, it.PCPUUsage, it.PCPUDemand, it.Moves)
				}
			}
		}
	}
}
