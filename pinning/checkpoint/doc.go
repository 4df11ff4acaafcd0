// Package checkpoint keeps vsched's checkpoint: state.json in the state
// directory (the daemon's --state-dir, default /var/lib/vsched). For every
// vCPU vsched pinned, keyed by domain UUID and vCPU id, it holds the pin
// vsched found (Original) and the pin it set (Set), so the originals survive
// SIGKILL, power loss and restarts, and `vsched restore` can put them back.
//
// The file is a versioned JSON document with a CRC-32C checksum, in the
// manner of the kubelet's CPU manager checkpoint. Store.Record writes it
// atomically (temporary file in the same directory, fsync, rename, fsync of
// the directory) before each pin change, and keeps the Original an entry
// already has, so a restarted vsched keeps the originals it recorded first;
// it also keeps the pin vsched set before (Previous), which stays live when
// vsched dies between the write and the pin. Each entry names the libvirt
// connection (URI and host name) it was pinned through. Version 2 writes
// both; version 1 files, without them, are still read.
//
// A corrupt, truncated, bad-checksum or unknown-version file is never fatal:
// Open renames it aside (state.json.corrupt-<time>) and returns a
// *CorruptError next to an empty, usable Store, for the caller to log in
// one line; with KeepBadFile it leaves the file alone and returns no Store.
// A file of a newer version is never set aside: Open fails with
// ErrNewerVersion, so no pin changes over originals it cannot read. A state
// directory that cannot be created, read or written, is a symbolic link or
// belongs to another user is an error wrapping ErrStateDir and naming the
// path. The directory is kept 0700 and its files 0600, opened without
// following links, and an exclusive flock on state.lock keeps two vsched
// processes from using one directory at once.
//
// Reconcile is pure: it compares the entries with the live pins libvirt
// shows and says, for each entry, whether vsched's pin is still in place
// (restorable), the original is back, the domain is gone, or someone else
// re-pinned the vCPU (the operator's from then on).
//
// CPU sets cross the package boundary as k8s.io/utils/cpuset values. The
// package does not log, and it must not import libvirt, pinning,
// cgroupstats, balancer or any logging package.
package checkpoint
