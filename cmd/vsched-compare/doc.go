// Command vsched-compare measures what real guests get under one placement
// regime and reports several regimes side by side (scripts/compare.sh).
//
// "measure" reads the guests' vCPU threads straight from /proc (schedstat
// run and wait time, se.nr_migrations from sched, affinity from status) at
// a fixed step while a command runs (the regime: vsched, or a few virsh
// pins); "report" turns the measurements into markdown tables and an SVG
// plot. It is a measuring tool for the real-host tier: it imports no vsched
// package, so it judges vsched from outside.
package main
