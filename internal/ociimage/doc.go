// Package ociimage builds trimtab's container image without a container
// engine: a static trimtab binary per platform on an empty base made here
// (CA certificates from golang.org/x/crypto/x509roots/fallback, passwd and
// group entries for the nonroot user 65532, no shell), assembled with
// go-containerregistry into one multi-platform OCI index, written as an OCI
// image layout with an SPDX SBOM per platform beside it.
//
// The build is reproducible: the binary is built with CGO_ENABLED=0,
// -trimpath, no VCS stamping and an empty build ID; every file in a layer
// has the source's time (SOURCE_DATE_EPOCH, by default the commit's time)
// and fixed numeric owners, layers are gzipped by compress/gzip (no name or
// time in the header), and the image's created time is the same epoch. The
// same commit and Go toolchain give the same index digest; `make image` and
// hack/image are its command line.
package ociimage
