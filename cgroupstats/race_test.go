//go:build race

package cgroupstats

const raceEnabled = true
