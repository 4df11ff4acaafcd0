package main

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/vsched/vsched"

// TestPackageBoundaries holds the packages to docs/DESIGN.md's "must not
// import" column, through every package of this module they import (test
// files aside): the policies do no I/O and know no libvirt, the kernel
// side and the libvirt side do not know each other, and only cmd/vsched
// logs.
func TestPackageBoundaries(t *testing.T) {
	const (
		libvirt = "libvirt.org/go/libvirt"
		logrus  = "github.com/sirupsen/logrus"
	)
	forbidden := map[string][]string{
		"cgroupstats":        {libvirt, logrus, module + "/balancer", module + "/pinning"},
		"balancer":           {libvirt, logrus, "os", "net", "syscall", "golang.org/x/sys/unix", module + "/"},
		"balancer/sim":       {libvirt, logrus, "net", "syscall", module + "/cgroupstats", module + "/pinning"},
		"pinning":            {logrus, module + "/cgroupstats", module + "/balancer"},
		"pinning/checkpoint": {libvirt, logrus, module + "/pinning\x00"},
		"pinning/cpulist":    {libvirt, logrus, "os", module + "/"},
		"cpumask":            {libvirt, logrus, "os", "k8s.io/", module + "/"},
		// the plotting library is vsched-plot's alone (internal/usageplot)
		"cmd/vsched": {"gonum.org/"},
	}
	// leaves may be imported by any package: they import nothing of the
	// module and do no I/O.
	leaves := []string{module + "/cpumask"}
	for pkg, bad := range forbidden {
		for imp, via := range imports(t, module+"/"+pkg) {
			if slices.Contains(leaves, imp) {
				continue
			}
			for _, b := range bad {
				// A trailing NUL asks for that package exactly; a trailing
				// slash for any package below it.
				exact, isExact := strings.CutSuffix(b, "\x00")
				if isExact && imp == exact || !isExact && (imp == b || strings.HasSuffix(b, "/") && strings.HasPrefix(imp, b)) {
					t.Errorf("%s imports %s (via %s)", pkg, imp, via)
				}
			}
		}
	}
}

// imports returns every package pkg imports, directly or through packages
// of this module, each with the module package that imports it.
func imports(t *testing.T, pkg string) map[string]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := build.Default
	ctx.BuildTags = append(slices.Clone(ctx.BuildTags), "libvirt_dlopen")
	seen := map[string]string{}
	todo := []string{pkg}
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		dir := filepath.Join(root, strings.TrimPrefix(strings.TrimPrefix(p, module), "/"))
		bp, err := ctx.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			if _, ok := seen[imp]; ok {
				continue
			}
			seen[imp] = p
			if strings.HasPrefix(imp, module+"/") {
				todo = append(todo, imp)
			}
		}
	}
	return seen
}
