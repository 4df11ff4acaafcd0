package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/vsched/vsched/balancer"
)

// manSection is the man page section of a system administration daemon.
const manSection = "8"

// manExtra is what vsched.8 says beyond the command's own definitions: the
// files the packages install and use, and the exit status. It goes before
// SEE ALSO.
const manExtra = `.SH EXIT STATUS
0 on success and after SIGINT or SIGTERM; 1 on a failure after start; 2 on a bad flag,
a missing root directory or a refused first connection, before any pin is made.

.SH FILES
.TP
\fI/etc/default/vsched\fP (deb), \fI/etc/sysconfig/vsched\fP (rpm)
VSCHED_ARGS, the flags vsched.service starts vsched with.
.TP
\fI/var/lib/vsched/state.json\fP
The checkpoint (\fB\-\-state\-dir\fP): the pin vsched found and the pin it set on every vCPU it pinned.
\fBvsched restore\fP puts the found pins back; run it before removing the package when they should go back.

`

// newDocsCmd returns the hidden `vsched docs` command. It writes the man
// pages and the bash completion from the command tree's own definitions, so
// they cannot drift from the flags; make package runs it at build time.
func newDocsCmd() *cobra.Command {
	var manDir, bashFile string
	cmd := &cobra.Command{
		Use:    "docs --man-dir DIR --bash-completion FILE",
		Short:  "Write the man pages and the bash completion (for packaging)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if manDir == "" && bashFile == "" {
				return fmt.Errorf("%w: docs: give --man-dir, --bash-completion or both", errUsage)
			}
			if manDir != "" {
				if err := writeManPages(cmd.Root(), manDir); err != nil {
					return fmt.Errorf("%w: %w", errRuntime, err)
				}
			}
			if bashFile != "" {
				if err := writeBashCompletion(cmd.Root(), bashFile); err != nil {
					return fmt.Errorf("%w: %w", errRuntime, err)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&manDir, "man-dir", "", "write vsched.8 and a page per subcommand into `DIR` (created)")
	cmd.Flags().StringVar(&bashFile, "bash-completion", "", "write the bash completion script to `FILE`")
	return cmd
}

// writeManPages writes a section-8 page for root and each of its visible
// subcommands into dir (vsched.8, vsched-sample.8, ...). The date is
// SOURCE_DATE_EPOCH's when set, for reproducible packages.
func writeManPages(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	root.DisableAutoGenTag = true // no generation date in the text
	escapeAngles(root)
	header := &doc.GenManHeader{Section: manSection, Source: "vsched " + vschedVersion(), Manual: "System Administration"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("man pages in %s: %w", dir, err)
	}
	page := filepath.Join(dir, root.Name()+"."+manSection)
	text, err := os.ReadFile(page)
	if err != nil {
		return fmt.Errorf("man page: %w", err)
	}
	if err := os.WriteFile(page, insertBefore(text, []byte(".SH SEE ALSO"), []byte(manExtra)), 0o644); err != nil {
		return fmt.Errorf("man page: %w", err)
	}
	return nil
}

// escapeAngles escapes "<" in the long descriptions of cmd and its
// subcommands: the man page generator reads them as Markdown, where
// /proc/<pid> would be an HTML tag and vanish. Only the docs command, which
// exits right after, changes the tree.
func escapeAngles(cmd *cobra.Command) {
	cmd.Long = strings.ReplaceAll(cmd.Long, "<", `\<`)
	for _, c := range cmd.Commands() {
		escapeAngles(c)
	}
}

// insertBefore returns text with extra inserted before the first mark, or
// appended when text has no mark.
func insertBefore(text, mark, extra []byte) []byte {
	i := bytes.Index(text, mark)
	if i < 0 {
		i = len(text)
	}
	out := make([]byte, 0, len(text)+len(extra))
	out = append(out, text[:i]...)
	out = append(out, extra...)
	return append(out, text[i:]...)
}

// writeBashCompletion writes cobra's bash completion (V2: it asks the
// installed binary for candidates, so it follows the flags of the version
// installed) to file.
func writeBashCompletion(root *cobra.Command, file string) (err error) {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("bash completion: %w", err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if err := root.GenBashCompletionV2(f, true); err != nil {
		return fmt.Errorf("bash completion %s: %w", file, err)
	}
	return nil
}

// completeValues tells shell completion, for the flags of root and its
// subcommands, the values a flag takes or the kind of path it names.
func completeValues(root *cobra.Command) {
	values := map[string][]string{
		"policy":     balancer.PolicyNames(),
		"format":     {"text", "json"},
		"log-format": {"text", "json"},
		"log-level":  {"debug", "info", "warn", "error"},
	}
	dirs := []string{"cgroup-root", "proc-root", "sys-root", "state-dir", "man-dir"}
	files := map[string][]string{"scenario": {"json"}, "plot": {"svg"}, "bash-completion": nil}
	cmds := append([]*cobra.Command{root}, root.Commands()...)
	for _, cmd := range cmds {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			switch {
			case values[f.Name] != nil:
				_ = cmd.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(values[f.Name], cobra.ShellCompDirectiveNoFileComp))
			case slices.Contains(dirs, f.Name):
				_ = cmd.MarkFlagDirname(f.Name)
			default:
				if ext, ok := files[f.Name]; ok {
					_ = cmd.MarkFlagFilename(f.Name, ext...)
				}
			}
		})
	}
}
