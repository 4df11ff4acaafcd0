// Command vsched-plot draws the per-pCPU usage plots of vsched's --plot
// and `vsched simulate --plot`: it reads a usage series as JSON
// (internal/usageplot.Series) on its standard input and writes FILE.svg.
// vsched runs it; it is a program of its own so that the plotting
// library is not linked into the daemon.
//
// Usage: vsched-plot FILE.svg < series.json
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/vsched/vsched/internal/usageplot"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stderr)) }

// run draws the series read from in to the file args names and returns
// the exit status: 0, 1 when drawing or writing fails, 2 for a bad
// invocation or input. Errors go to stderr as one line.
func run(args []string, in io.Reader, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintln(stderr, "usage: vsched-plot FILE.svg < series.json")
		return 2
	}
	var s usageplot.Series
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		fmt.Fprintf(stderr, "vsched-plot: standard input: not a usage series: %v\n", err)
		return 2
	}
	if err := writeUsagePlot(args[0], s); err != nil {
		fmt.Fprintf(stderr, "vsched-plot: %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
