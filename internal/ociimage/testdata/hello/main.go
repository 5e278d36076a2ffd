// Command hello is the small program the ociimage tests put in an image in
// place of trimtab (which takes minutes to build for two platforms): it
// prints the version stamped by -ldflags, checks a semver (so its build
// information lists a dependency module, golang.org/x/mod) and reports
// whether the image's CA bundle loads.
package main

import (
	"crypto/x509"
	"fmt"
	"os"

	"golang.org/x/mod/semver"

	"github.com/trimtab-dev/trimtab/internal/version"
)

func main() {
	v, c := version.Get()
	pool, err := x509.SystemCertPool()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loading the system CA pool:", err)
		os.Exit(1)
	}
	fmt.Printf("version=%s commit=%s valid=%t uid=%d roots=%t\n", v, c, semver.IsValid(v), os.Getuid(), pool.Equal(x509.NewCertPool()) == false)
}
