package ociimage

import (
	"fmt"
	"os"
	"regexp"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image assembles one platform's image: the base layer (BaseFiles(ca)),
// then the binary at /usr/local/bin/trimtab as the entrypoint, run as
// 65532:65532, with created and every file time set to epoch. Media types
// are OCI's, not Docker's (empty.Image starts as Docker schema 2).
func Image(bin *Binary, ca []byte, epoch time.Time) (v1.Image, error) {
	base, err := Layer(BaseFiles(ca), epoch)
	if err != nil {
		return nil, fmt.Errorf("making the base layer: %w", err)
	}
	app, err := Layer(BinaryFiles(bin.Body), epoch)
	if err != nil {
		return nil, fmt.Errorf("making the binary layer for %s: %w", bin.Platform, err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, base, app)
	if err != nil {
		return nil, fmt.Errorf("adding layers for %s: %w", bin.Platform, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = bin.Platform.OS, bin.Platform.Arch
	cf.Created = v1.Time{Time: epoch.UTC()}
	// History entries would each carry a time; the layers say what they are.
	cf.History = nil
	cf.Config = v1.Config{
		Entrypoint: []string{"/" + binaryPath},
		User:       fmt.Sprintf("%d:%d", NonRoot, NonRoot),
		WorkingDir: "/",
		Env: []string{
			"PATH=/usr/local/bin",
			"SSL_CERT_FILE=/" + caPath,
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: epoch.UTC()})
}

// Index puts one image per platform into a single OCI image index, each
// manifest's descriptor carrying its platform so a runtime picks its own.
func Index(images map[Platform]v1.Image, order []Platform) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range order {
		img, ok := images[p]
		if !ok {
			return nil, fmt.Errorf("no image for platform %s", p)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch}},
		})
	}
	return idx, nil
}

// tagPattern is the OCI distribution spec's rule for a tag.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// WriteLayout replaces dir with an OCI image layout holding idx, named
// repo:tag in index.json (the org.opencontainers.image.ref.name annotation
// that crane, skopeo and oras read), so it can be pushed from there with
// Push (make image-push), `crane push dir repo:tag` or `skopeo copy oci:dir ...`.
func WriteLayout(dir string, idx v1.ImageIndex, repo, tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("image tag %q: want 1-128 of letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clearing %s: %w", dir, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing the OCI layout in %s: %w", dir, err)
	}
	ann := map[string]string{"org.opencontainers.image.ref.name": repo + ":" + tag}
	if err := p.AppendIndex(idx, layout.WithAnnotations(ann)); err != nil {
		return fmt.Errorf("writing the image index into %s: %w", dir, err)
	}
	return nil
}
