// Package version reports which build of trimtab is running. The Makefile
// stamps Version and Commit with -ldflags; a plain `go build` reports the
// module version Go recorded, or "devel".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release, e.g. v0.1.0, set at link time.
var Version = ""

// Commit is the git commit the binary was built from, set at link time.
var Commit = ""

// String returns a one-line description of the build, as `trimtab version` prints it.
func String() string {
	v, c := Get()
	return fmt.Sprintf("trimtab %s (commit %s, %s, %s/%s)", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Get returns the release (e.g. v0.1.0, or "devel") and the commit
// ("unknown" when neither the linker nor Go recorded one), for reports
// that carry them as separate fields.
func Get() (release, commit string) {
	v, c := Version, Commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if c == "" && s.Key == "vcs.revision" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}
