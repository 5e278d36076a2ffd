package ociimage

import (
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestPush pushes a layout to go-containerregistry's in-memory registry
// (the distribution API over real HTTP) and pulls it back by tag.
func TestPush(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "image")
	p := Platform{"linux", "amd64"}
	img, err := Image(&Binary{Platform: p, Body: []byte("not run")}, []byte("ca"), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Index(map[Platform]v1.Image{p: img}, []Platform{p})
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(dir, idx, "example.test/trimtab", "v0"); err != nil {
		t.Fatal(err)
	}
	want, _ := idx.Digest()

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/trimtab:v0"
	got, err := Push(dir, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("pushed digest %s, want the layout's %s", got, want)
	}
	r, _ := name.ParseReference(ref)
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatalf("pulling back %s: %v", ref, err)
	}
	if desc.Digest != want {
		t.Errorf("the registry serves %s for the tag, want %s", desc.Digest, want)
	}

	if _, err := Push(dir, "UPPER/case:x"); err == nil || !strings.Contains(err.Error(), `image reference "UPPER/case:x"`) {
		t.Errorf("a bad reference: error %v, want one naming it", err)
	}
	if _, err := Push(t.TempDir(), ref); err == nil || !strings.Contains(err.Error(), "run make image first") {
		t.Errorf("an empty directory: error %v, want one saying to run make image", err)
	}
}
