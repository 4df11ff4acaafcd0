package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/balancer"
	"github.com/vsched/vsched/cgroupstats"
	"github.com/vsched/vsched/pinning"
)

// sampleReport is `vsched sample`'s JSON output (DESIGN.md contract).
type sampleReport struct {
	IntervalMS int64          `json:"interval_ms"`
	PCPUs      []samplePCPU   `json:"pcpus"`
	Domains    []sampleDomain `json:"domains"`
}

type samplePCPU struct {
	CPU   int     `json:"cpu"`
	Usage float64 `json:"usage"`
}

type sampleDomain struct {
	Name  string       `json:"name"`
	ID    int          `json:"id"`
	VCPUs []sampleVCPU `json:"vcpus"`
}

type sampleVCPU struct {
	VCPU  int     `json:"vcpu"`
	TID   int     `json:"tid"`
	PCPU  int     `json:"pcpu"`
	Usage float64 `json:"usage"`
	Wait  float64 `json:"wait"`
}

func newSampleCmd() *cobra.Command {
	o := defaultDaemonOptions()
	var format string
	cmd := &cobra.Command{
		Use:   "sample [flags]",
		Short: "Take two readings one interval apart and print what the balancer would see",
		Long: `sample lists the running domains through libvirt, reads every vCPU thread's
CPU time and run-queue wait from the kernel twice, one --interval apart, and
prints for each vCPU its thread id, the pCPU it last ran on, its usage and its
wait (percent of one pCPU), and each pCPU's usage. It changes nothing.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("%w: --format %q: must be text or json", errUsage, format)
			}
			rep, problems, err := takeSample(o)
			if err != nil {
				return err
			}
			for _, p := range problems {
				fmt.Fprintf(cmd.ErrOrStderr(), "vsched: sample: %s\n", p)
			}
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return writeSampleText(cmd.OutOrStdout(), rep)
		},
	}
	o.registerSource(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// takeSample opens both sides, reads twice and builds the report. Domains
// that could not be read (stopped mid-sample, no cgroup found) are listed
// with no vCPUs and described in problems, one line each.
func takeSample(o *daemonOptions) (rep *sampleReport, problems []string, err error) {
	if o.interval < time.Millisecond {
		return nil, nil, fmt.Errorf("%w: --interval %s: must be at least 1ms", errUsage, o.interval)
	}
	for _, r := range []struct{ flag, dir string }{{"--cgroup-root", o.cgroupRoot}, {"--proc-root", o.procRoot}} {
		if err := checkDir(r.dir); err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", errUsage, r.flag, err)
		}
	}
	smp, err := cgroupstats.New(o.cgroupRoot, o.procRoot)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	defer smp.Close()
	conn, err := pinning.Open(o.connect)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	defer conn.Close()
	doms, err := conn.Domains()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: listing domains: %w", errUsage, err)
	}
	ls := newListing(doms, func(balancer.VCPUID) bool { return false }) // one look: nobody's pins
	cg := ls.cg
	var prev, cur cgroupstats.Sample
	if err := smp.Sample(cg, &prev); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errRuntime, err)
	}
	time.Sleep(o.interval)
	if err := smp.Sample(cg, &cur); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errRuntime, err)
	}
	for _, d := range cur.Domains {
		if d.Err != nil {
			problems = append(problems, fmt.Sprintf("domain %s: %v", d.Domain.Name, d.Err))
		}
	}
	return buildReport(&prev, &cur, ls), problems, nil
}

// buildReport turns two samples into the contract's report, through the
// same window the daemon's policy sees. Domains that failed in either
// reading are listed with no vCPUs.
func buildReport(prev, cur *cgroupstats.Sample, ls *listing) *sampleReport {
	all := make([]int, len(cur.CPUs))
	for i, c := range cur.CPUs {
		all[i] = c.CPU
	}
	w := buildWindow(prev, cur, snapshotInputs{listing: ls, cpus: cpuset.New(all...), excluded: func(string) bool { return false }, started: prev.Time})
	rep := &sampleReport{IntervalMS: cur.Time.Sub(prev.Time).Milliseconds(), PCPUs: []samplePCPU{}, Domains: []sampleDomain{}}
	for _, c := range w.pcpu {
		rep.PCPUs = append(rep.PCPUs, samplePCPU{CPU: c.CPU, Usage: round1(c.Usage)})
	}
	byID := make(map[balancer.VCPUID]balancer.VCPU, len(w.snap.VCPUs))
	for _, v := range w.snap.VCPUs {
		byID[v.ID] = v
	}
	for _, d := range cur.Domains {
		sd := sampleDomain{Name: d.Domain.Name, ID: d.Domain.ID, VCPUs: []sampleVCPU{}}
		for _, v := range d.VCPUs {
			id := balancer.VCPUID{Domain: d.Domain.UUID, VCPU: v.VCPU}
			r, ok := byID[id]
			if !ok {
				continue
			}
			sd.VCPUs = append(sd.VCPUs, sampleVCPU{VCPU: v.VCPU, TID: w.tids[id], PCPU: r.PCPU, Usage: round1(r.Usage), Wait: round1(r.Wait)})
		}
		sort.Slice(sd.VCPUs, func(i, j int) bool { return sd.VCPUs[i].VCPU < sd.VCPUs[j].VCPU })
		rep.Domains = append(rep.Domains, sd)
	}
	sort.Slice(rep.Domains, func(i, j int) bool { return rep.Domains[i].Name < rep.Domains[j].Name })
	return rep
}

func writeSampleText(w io.Writer, rep *sampleReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "interval: %d ms\n\nDOMAIN\tID\tVCPU\tTID\tPCPU\tUSAGE%%\tWAIT%%\n", rep.IntervalMS)
	for _, d := range rep.Domains {
		if len(d.VCPUs) == 0 {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t-\t-\n", d.Name, d.ID)
		}
		for _, v := range d.VCPUs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\t%.1f\n", d.Name, d.ID, v.VCPU, v.TID, v.PCPU, v.Usage, v.Wait)
		}
	}
	fmt.Fprintf(tw, "\nPCPU\tUSAGE%%\n")
	for _, c := range rep.PCPUs {
		fmt.Fprintf(tw, "%d\t%.1f\n", c.CPU, c.Usage)
	}
	return tw.Flush()
}
