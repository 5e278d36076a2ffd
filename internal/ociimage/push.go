package ociimage

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads the image index that WriteLayout put in dir to ref (e.g.
// ghcr.io/trimtab-dev/trimtab:v0.1.0), with credentials from the Docker
// config (~/.docker/config.json, as `docker login` or a CI login action
// writes it), and returns the pushed digest: the same as the layout's,
// since the registry receives the same bytes.
func Push(dir, ref string, opts ...remote.Option) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading the OCI layout %s (run make image first): %w", dir, err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	if len(m.Manifests) != 1 {
		return v1.Hash{}, fmt.Errorf("the OCI layout %s lists %d images, want the one image index make image writes", dir, len(m.Manifests))
	}
	idx, err := top.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading the image index from %s: %w", dir, err)
	}
	opts = append([]remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing %s to %s: %w", dir, ref, err)
	}
	return idx.Digest()
}
