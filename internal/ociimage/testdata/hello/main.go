// Command hello is the small program the ociimage tests put in an image in
// place of trimtab (which takes many minutes to build for two platforms
// from a cold cache): it prints the version stamped by -ldflags and checks
// it as a semver, so its build information lists a dependency module
// (golang.org/x/mod) for the SBOM. It imports little of the standard
// library (no crypto, no net) to keep the cold two-platform build short.
package main

import (
	"fmt"
	"os"

	"golang.org/x/mod/semver"

	"github.com/trimtab-dev/trimtab/internal/version"
)

func main() {
	v, c := version.Get()
	fmt.Printf("version=%s commit=%s valid=%t uid=%d\n", v, c, semver.IsValid(v), os.Getuid())
}
