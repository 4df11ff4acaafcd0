package main

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time by make to the package version
// (-ldflags "-X main.version=..."; see scripts/package/version.sh). It must
// stay a plain uninitialised string for -X to take; read it through
// vschedVersion.
var version string

// vschedVersion is the linked-in version, else the module version that go
// install recorded, else "devel".
func vschedVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// setVersion gives cmd the --version flag, which prints "vsched <version>".
func setVersion(cmd *cobra.Command) {
	cmd.Version = vschedVersion()
	cmd.SetVersionTemplate("vsched {{.Version}}\n")
}
