package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// errUsage marks errors caused by how vsched was invoked: a bad flag, a
// missing root, a refused first connection. They exit with status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit status: 0 on
// success, 2 for invocation errors (bad flag, missing root, refused
// connection, bad scenario), 1 for anything else. Output (help, reports)
// goes to stdout; logs and the one-line error go to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	// Invocation errors wrap errUsage at the front; the word adds nothing.
	fmt.Fprintf(stderr, "vsched: %s\n", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
	if errors.Is(err, errRuntime) {
		return 1
	}
	return 2
}

// errRuntime marks failures that happen after vsched started correctly.
var errRuntime = errors.New("runtime failure")

func newRootCmd() *cobra.Command {
	opts := defaultDaemonOptions()
	cmd := &cobra.Command{
		Use:   "vsched [flags]",
		Short: "Balance KVM/QEMU vCPUs across physical CPUs",
		Long: `vsched balances the virtual CPUs of libvirt/QEMU guests across the host's
physical CPUs. Every --interval it reads each vCPU thread's CPU time and
run-queue wait straight from the kernel (the domain's cgroup under
--cgroup-root and /proc/<pid>/task/<tid> under --proc-root), plans moves with
the chosen policy and re-pins vCPUs live through libvirt.

Without a subcommand vsched runs as a daemon until SIGINT or SIGTERM.`,
		Example: `  vsched --cgroup-root /sys/fs/cgroup
  vsched --interval 250ms --cpus 2-7 --exclude db1,db2 --metrics-addr :9477
  vsched --dry-run --once --log-level debug
  vsched sample --interval 500ms --format json
  vsched simulate --scenario all-on-cpu0.json --policy classic`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), opts, cmd.ErrOrStderr())
		},
	}
	opts.register(cmd.Flags())
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %w (see --help)", errUsage, err)
	})
	cmd.AddCommand(newSampleCmd(), newSimulateCmd(), newRestoreCmd())
	cmd.AddCommand(newDocsCmd()) // hidden: man pages and completion for make package
	completeValues(cmd)
	setVersion(cmd)
	cmd.CompletionOptions.DisableDefaultCmd = true
	return cmd
}
