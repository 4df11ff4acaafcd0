// Command vsched balances the vCPUs of KVM/QEMU guests across a host's
// physical CPUs. It samples vCPU CPU time from the kernel (cgroupstats),
// plans moves with a pure policy (balancer) and pins through libvirt
// (pinning). It is the only place in the project that logs.
//
// Subcommands: `vsched sample` prints one sample, `vsched simulate` runs a
// policy against the host model on a scenario file, and `vsched restore`
// puts back the pins the checkpoint holds (docs/DESIGN.md).
package main
