package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// errUsage marks a bad command line (exit status 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "measure":
		err = measureCmd(args[1:], stderr)
	case "report":
		err = reportCmd(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "vsched-compare: %v\n", err)
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `usage:
  vsched-compare measure --regime NAME --out FILE.json [--seconds 20] [--split 5]
                 [--step 500ms] [--log FILE] GUEST... [-- COMMAND [ARGS...]]
      At time 0 reads every vCPU thread of the running libvirt guests GUEST...
      (threads from /run/libvirt/qemu/GUEST.xml), starts COMMAND (the regime),
      and reads them again every --step for --seconds; then stops COMMAND with
      SIGTERM if it still runs. Writes the readings to FILE.json.
  vsched-compare report [--markdown FILE.md] [--svg FILE.svg] [--baseline REGIME]
                 [--goal REGIME] FILE.json...
      Per regime a markdown table: CPU delivered to each guest (schedstat run
      time), its steal (run-queue wait) and its vCPU migrations over seconds
      0-split and split-end; a summary against the baseline regime (default
      "kernel") and the goal verdict for --goal (default "adaptive"): at least
      98% of the baseline's CPU from split on, at most a tenth of its
      migrations. Writes the plot of CPU delivered and migrations over time.
`
