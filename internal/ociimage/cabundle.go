package ociimage

import (
	"encoding/pem"
	"runtime/debug"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// caModule is the Go module the image's CA certificates come from; the
// SBOM names it with the version go.sum pins.
const caModule = "golang.org/x/crypto/x509roots/fallback"

// CABundle returns the PEM bundle of trusted root CAs the image carries:
// Mozilla's NSS roots as golang.org/x/crypto/x509roots/fallback/bundle
// ships them (https://pkg.go.dev/golang.org/x/crypto/x509roots/fallback/bundle).
//
// They come from a Go module rather than the build machine's
// /etc/ssl/certs/ca-certificates.crt because go.sum pins the module: the
// same commit gives the same bundle, and so the same image digest, on any
// machine, where a Debian bundle changes with the builder's ca-certificates
// package. Roots that NSS trusts only with a constraint (a distrust-after
// date) are left out: a PEM file cannot carry the constraint, so a reader
// of the file would trust them without it.
func CABundle() (bundlePEM []byte, skipped int) {
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			skipped++
			continue
		}
		bundlePEM = append(bundlePEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate})...)
	}
	return bundlePEM, skipped
}

// caModuleVersion is the version of caModule linked into this program, for
// the SBOM; "unknown" in a binary built without module information.
func caModuleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == caModule {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}
