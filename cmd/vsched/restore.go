package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"k8s.io/utils/cpuset"

	"github.com/vsched/vsched/pinning"
	"github.com/vsched/vsched/pinning/checkpoint"
)

// restorePinner is what restoring needs from pinning.
type restorePinner interface {
	Domains() ([]pinning.Domain, error)
	Apply(pins []pinning.Pin) []pinning.Result
}

// restoreOutcome is what became of one checkpoint entry.
type restoreOutcome struct {
	checkpoint.Verdict
	// Restored is true when the original pin is back in place.
	Restored bool
	// Err is the failed pin's error; the entry stays in the checkpoint.
	Err error
}

// failed reports whether the original pin could not be put back.
func (o restoreOutcome) failed() bool { return o.Err != nil }

// line is the outcome for humans, one line, as `vsched restore` prints it.
func (o restoreOutcome) line() string {
	e := o.Entry
	who := fmt.Sprintf("%s (uuid %s)", e.Label(), e.UUID)
	switch {
	case o.Err != nil:
		return fmt.Sprintf("failed %s: %s -> %s: %v; kept in the checkpoint", who, e.Set, e.Original, o.Err)
	case o.Restored:
		return fmt.Sprintf("restored %s: %s -> %s", who, cmp.Or(o.Live.String(), e.Set.String()), e.Original)
	}
	switch o.Status {
	case checkpoint.Unchanged:
		return fmt.Sprintf("left %s: already on its original pin %s", who, e.Original)
	case checkpoint.DomainGone:
		return fmt.Sprintf("left %s: domain gone", who)
	case checkpoint.DomainInactive:
		if !e.GoneSince.IsZero() {
			return fmt.Sprintf("left %s: domain unknown to libvirt since %s (undefined, or transient and destroyed or saved to a file); kept in the checkpoint until %s",
				who, e.GoneSince.UTC().Format(time.RFC3339), e.GoneSince.Add(goneGrace).UTC().Format(time.RFC3339))
		}
		return fmt.Sprintf("left %s: domain not running (shut off or saved); kept in the checkpoint", who)
	case checkpoint.Repinned:
		if o.Live.IsEmpty() {
			return fmt.Sprintf("left %s: re-pinned by someone else just before the restore (vsched set %s)", who, e.Set)
		}
		return fmt.Sprintf("left %s: re-pinned by someone else (now %s, vsched set %s)", who, o.Live, e.Set)
	case checkpoint.VCPUOffline:
		return fmt.Sprintf("left %s: vCPU not online; kept in the checkpoint", who)
	}
	return fmt.Sprintf("left %s: %s", who, o.Status)
}

// logTo logs the outcome with constant messages and the data in fields, for
// the daemon's --restore-on-exit.
func (o restoreOutcome) logTo(log *logrus.Entry) {
	e := o.Entry
	f := log.WithFields(logrus.Fields{"domain": e.Name, "uuid": e.UUID, "vcpu": e.VCPU, "original": e.Original.String(), "set": e.Set.String()})
	switch {
	case o.Err != nil:
		f.WithError(o.Err).Error("restore pin failed; kept in the checkpoint")
	case o.Restored:
		f.Info("pin restored")
	case o.Status == checkpoint.Repinned:
		f.WithField("live", o.Live.String()).Info("pin left alone: re-pinned by someone else")
	case o.Status == checkpoint.DomainGone:
		f.Info("pin left alone: domain gone")
	case o.Status == checkpoint.VCPUOffline:
		f.Info("pin left alone: vCPU not online; kept in the checkpoint")
	case o.Status == checkpoint.DomainInactive:
		f.Info("pin left alone: domain not running; kept in the checkpoint")
	default:
		f.Debug("pin already back to its original")
	}
}

// restoreFromCheckpoint puts back the original pin of every checkpoint entry
// of p's connection whose live pin is still one vsched set, and leaves every
// other vCPU alone: re-pinned by someone else, domain gone or not running,
// or already back. Entries restored, re-pinned, undefined or already back
// leave the checkpoint; failed pins, offline vCPUs and the domains shut off
// or saved stay, and so do the entries of other connections, untouched. It
// returns one outcome per entry of p's connection, in the checkpoint's order
// (domain name, UUID, vCPU). An error means the domains could not be listed
// (nothing was touched) or the checkpoint could not be updated (the pins
// were still restored, and the next run finds them back and forgets them).
func restoreFromCheckpoint(store *checkpoint.Store, p restorePinner) ([]restoreOutcome, error) {
	if len(store.Entries()) == 0 {
		return nil, nil
	}
	doms, err := p.Domains()
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	conn := connectionOf(p)
	own := ownEntries(store.Entries(), conn, doms, knownOf(p), time.Now())
	if err := store.Put(own.touch); err != nil {
		return nil, fmt.Errorf("updating the checkpoint: %w", err)
	}
	if err := store.Claim(conn, own.claim...); err != nil {
		return nil, fmt.Errorf("updating the checkpoint: %w", err)
	}
	entries := own.entries
	ids := make(map[string]int, len(doms))
	for _, d := range doms {
		ids[d.UUID] = d.ID
	}
	out := make([]restoreOutcome, 0, len(entries))
	var pins []pinning.Pin
	var idx []int
	for _, v := range checkpoint.Reconcile(entries, liveOf(doms)) {
		if v.Status == checkpoint.DomainGone && own.kept[v.Entry.UUID] {
			v.Status = checkpoint.DomainInactive
		}
		if v.Status == checkpoint.Restorable {
			// Only from the pin just seen, in the instance just listed: a
			// re-pin or a restart since is left alone.
			pins = append(pins, pinning.Pin{UUID: v.Entry.UUID, Name: v.Entry.Name, VCPU: v.Entry.VCPU, CPUs: v.Entry.Original,
				From: v.Live, DomainID: ids[v.Entry.UUID]})
			idx = append(idx, len(out))
		}
		out = append(out, restoreOutcome{Verdict: v})
	}
	if len(pins) > 0 {
		for j, r := range p.Apply(pins) {
			o := &out[idx[j]]
			switch {
			case r.Err == nil:
				o.Restored = true
			case errors.Is(r.Err, pinning.ErrPinChanged): // re-pinned since the listing
				o.Status, o.Live = checkpoint.Repinned, cpuset.New()
			case errors.Is(r.Err, pinning.ErrDomainGone):
				// Stopped or restarted since the listing: kept, for the
				// next run to judge (it may be saved, and come back).
				o.Status, o.Live = checkpoint.DomainInactive, cpuset.New()
			default:
				o.Err = r.Err
			}
		}
	}
	var done []checkpoint.ID
	for _, o := range out {
		if o.Restored || (o.Err == nil && o.Status.Forget()) {
			done = append(done, o.Entry.ID())
		}
	}
	if err := store.Forget(done...); err != nil {
		return out, fmt.Errorf("updating the checkpoint: %w", err)
	}
	return out, nil
}

// connectionOf names p's connection for the checkpoint: its URI, when p
// tells it, and the name of this host.
func connectionOf(p any) checkpoint.Connection {
	var c checkpoint.Connection
	if u, ok := p.(interface{ URI() string }); ok {
		c.URI = u.URI()
	}
	c.Host, _ = os.Hostname()
	return c
}

// knownOf returns p's lookup of the UUIDs libvirt knows (running or
// defined), or nil when p cannot tell.
func knownOf(p any) func() (map[string]bool, error) {
	if k, ok := p.(interface {
		Known() (map[string]bool, error)
	}); ok {
		return k.Known
	}
	return nil
}

// goneGrace is how long the entries of a domain libvirt no longer knows
// are kept: such a domain was undefined, or was transient and destroyed,
// or was transient and saved to a file (virsh save), which comes back with
// vsched's pins on virsh restore. A week covers a save across a
// maintenance window and bounds what destroyed guests leave behind.
const goneGrace = 7 * 24 * time.Hour

// owned is the part of the checkpoint one connection may act on.
type owned struct {
	// entries are the entries naming the connection, and those naming
	// none (a version 1 file's) whose domain it knows.
	entries []checkpoint.Entry
	// claim lists the entries naming no connection, for the caller to give
	// to it.
	claim []checkpoint.ID
	// kept names the domains that do not run but whose entries stay:
	// still defined (shut off, saved), unknown to libvirt for less than
	// goneGrace, or not known to be undefined (the lookup failed).
	kept map[string]bool
	// unknown names those of kept that libvirt does not know.
	unknown map[string]bool
	// touch are entries whose GoneSince changes, for the caller to Put.
	touch []checkpoint.Entry
}

// ownEntries picks from entries those of connection c, judged against the
// running domains doms and, when an entry's domain does not run, the
// domains libvirt knows (known; one lookup). When the lookup fails, or
// known is nil, no domain is taken for undefined: all are kept.
func ownEntries(entries []checkpoint.Entry, c checkpoint.Connection, doms []pinning.Domain, known func() (map[string]bool, error), now time.Time) owned {
	running := make(map[string]bool, len(doms))
	for _, d := range doms {
		running[d.UUID] = true
	}
	var defined map[string]bool
	lookedUp, unsure := false, false
	o := owned{kept: map[string]bool{}, unknown: map[string]bool{}}
	for _, e := range entries {
		if e.Conn != c && !e.Conn.IsZero() {
			continue // another connection's
		}
		if !running[e.UUID] && !lookedUp {
			lookedUp = true
			if known == nil {
				unsure = true
			} else if k, err := known(); err != nil {
				unsure = true
			} else {
				defined = k
			}
		}
		if e.Conn.IsZero() {
			if !running[e.UUID] && !defined[e.UUID] {
				continue // not this connection's domain, or not known to be
			}
			o.claim = append(o.claim, e.ID())
		}
		switch {
		case running[e.UUID] || unsure || defined[e.UUID]:
			if !running[e.UUID] {
				o.kept[e.UUID] = true
			}
			if !e.GoneSince.IsZero() { // known again
				e.GoneSince = time.Time{}
				o.touch = append(o.touch, e)
			}
		case e.GoneSince.IsZero():
			e.GoneSince = now
			o.touch = append(o.touch, e)
			o.kept[e.UUID], o.unknown[e.UUID] = true, true
		case now.Sub(e.GoneSince) < goneGrace:
			o.kept[e.UUID], o.unknown[e.UUID] = true, true
		}
		o.entries = append(o.entries, e)
	}
	return o
}

// liveOf turns a listing into the live pins Reconcile compares with.
func liveOf(doms []pinning.Domain) checkpoint.Live {
	live := make(checkpoint.Live, len(doms))
	for _, d := range doms {
		byID := make(map[int]cpuset.CPUSet, len(d.VCPUs))
		for _, v := range d.VCPUs {
			byID[v.ID] = v.Pin
		}
		live[d.UUID] = byID
	}
	return live
}

func newRestoreCmd() *cobra.Command {
	d := defaultDaemonOptions()
	connect, stateDir := d.connect, d.stateDir
	cmd := &cobra.Command{
		Use:   "restore [flags]",
		Short: "Put back the vCPU pins vsched found, from its checkpoint",
		Long: `restore reads the checkpoint vsched keeps in --state-dir (state.json) and puts
back the original pin of every vCPU whose live pin is still the one vsched set:
after a crash or a SIGKILL, or before an uninstall. A vCPU someone else
re-pinned since, or whose domain is gone, is left alone and said so. It prints
one line per vCPU. Restored, re-pinned and gone vCPUs leave the checkpoint; a
pin that fails stays, for the next run.

Stop the vsched daemon first: restore refuses a state directory a running
vsched holds. With no checkpoint there is nothing to do (exit status 0).

Exit status: 0 when nothing failed, 1 when a pin failed, 2 on bad input (a bad
flag, an unusable state directory or checkpoint, a refused connection).`,
		Example: `  vsched restore
  vsched restore --connect qemu:///system --state-dir /var/lib/vsched`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRestore(connect, stateDir, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&connect, "connect", connect, "libvirt connection `URI`")
	cmd.Flags().StringVar(&stateDir, "state-dir", stateDir, "`DIR` holding vsched's checkpoint (state.json)")
	return cmd
}

// runRestore is `vsched restore`: errors wrap errUsage (exit 2) or
// errRuntime (exit 1).
func runRestore(connect, stateDir string, stdout io.Writer) error {
	if _, err := os.Stat(stateDir); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stdout, "nothing to restore: %s does not exist\n", stateDir)
		return nil
	}
	// A corrupt checkpoint is left where it is, for a human to look at: it
	// holds the only copy of the originals.
	store, err := checkpoint.Open(stateDir, checkpoint.KeepBadFile())
	if err != nil {
		return fmt.Errorf("%w: --state-dir: %w; nothing restored", errUsage, err)
	}
	defer store.Close()
	if len(store.Entries()) == 0 {
		fmt.Fprintf(stdout, "nothing to restore: no pins recorded in %s\n", store.Path())
		return nil
	}
	conn, err := pinning.Open(connect, pinning.WithoutEvents()) // one pass: no events needed
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	defer conn.Close()
	outs, err := restoreFromCheckpoint(store, conn)
	if err == nil && len(outs) == 0 {
		fmt.Fprintf(stdout, "nothing to restore for %s: the %d pins recorded in %s are another connection's, left alone\n",
			connectionOf(conn), len(store.Entries()), store.Path())
		return nil
	}
	failed := 0
	for _, o := range outs {
		fmt.Fprintln(stdout, o.line())
		if o.failed() {
			failed++
		}
	}
	if err != nil {
		return fmt.Errorf("%w: restore: %w", errRuntime, err)
	}
	if failed > 0 {
		return fmt.Errorf("%w: restore: %d of %d pins could not be put back; they stay in %s", errRuntime, failed, len(outs), store.Path())
	}
	return nil
}
