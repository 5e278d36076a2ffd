package ociimage

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options says what Build builds and where it writes it.
type Options struct {
	Dir       string     // module directory the package is built in
	Package   string     // main package, e.g. ./cmd/trimtab
	Platforms []Platform // one image per platform, in this order in the index
	LDFlags   string     // extra -ldflags, e.g. the version stamp
	Epoch     time.Time  // every time in the image and SBOM (SOURCE_DATE_EPOCH)
	Repo      string     // image repository, e.g. ghcr.io/trimtab-dev/trimtab
	Tag       string     // image tag, e.g. the git describe output
	Out       string     // OCI layout directory; SBOMs go to Out.<os>-<arch>.spdx.json
}

// Result is what Build wrote.
type Result struct {
	Index  v1.Hash              // the multi-platform index's digest
	Images map[Platform]v1.Hash // each platform's manifest digest
	SBOMs  []string             // SPDX files, one per platform
}

// Build builds the binary for every platform, assembles the images and
// their index, and writes the OCI layout and the SBOMs.
func Build(o Options) (*Result, error) {
	if len(o.Platforms) == 0 {
		return nil, fmt.Errorf("no platforms to build for")
	}
	ca, _ := CABundle()
	images := map[Platform]v1.Image{}
	bins := map[Platform]*Binary{}
	for _, p := range o.Platforms {
		bin, err := GoBuild(o.Dir, o.Package, p, o.LDFlags)
		if err != nil {
			return nil, err
		}
		img, err := Image(bin, ca, o.Epoch)
		if err != nil {
			return nil, err
		}
		images[p], bins[p] = img, bin
	}
	idx, err := Index(images, o.Platforms)
	if err != nil {
		return nil, err
	}
	if err := WriteLayout(o.Out, idx, o.Repo, o.Tag); err != nil {
		return nil, err
	}
	res := &Result{Images: map[Platform]v1.Hash{}}
	if res.Index, err = idx.Digest(); err != nil {
		return nil, err
	}
	for _, p := range o.Platforms {
		d, err := images[p].Digest()
		if err != nil {
			return nil, err
		}
		res.Images[p] = d
		doc, err := SBOM(bins[p], d, o.Repo, o.Epoch)
		if err != nil {
			return nil, err
		}
		name := filepath.Clean(o.Out) + "." + p.OS + "-" + p.Arch + ".spdx.json"
		if err := os.WriteFile(name, doc, 0o644); err != nil {
			return nil, fmt.Errorf("writing the SBOM: %w", err)
		}
		res.SBOMs = append(res.SBOMs, name)
	}
	return res, nil
}
