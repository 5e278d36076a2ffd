package ociimage

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// moduleRoot is the repository root, where go build runs.
const moduleRoot = "../.."

var testPlatforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}}

func buildHello(t *testing.T, out string, epoch time.Time) *Result {
	t.Helper()
	res, err := Build(Options{
		Dir:       moduleRoot,
		Package:   "./internal/ociimage/testdata/hello",
		Platforms: testPlatforms,
		LDFlags:   "-X github.com/trimtab-dev/trimtab/internal/version.Version=v1.2.3 -X github.com/trimtab-dev/trimtab/internal/version.Commit=abc",
		Epoch:     epoch,
		Repo:      "example.test/trimtab",
		Tag:       "v1.2.3",
		Out:       out,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestBuildIsReproducible builds the image twice into different
// directories and compares every digest and SBOM byte; a third build with
// another epoch must differ, or the comparison proves nothing.
func TestBuildIsReproducible(t *testing.T) {
	dir := t.TempDir()
	epoch := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := buildHello(t, filepath.Join(dir, "a"), epoch)
	b := buildHello(t, filepath.Join(dir, "b"), epoch)
	if a.Index != b.Index {
		t.Errorf("two builds of the same source: index digests %s and %s", a.Index, b.Index)
	}
	for _, p := range testPlatforms {
		if a.Images[p] != b.Images[p] {
			t.Errorf("%s: image digests %s and %s", p, a.Images[p], b.Images[p])
		}
	}
	for i := range a.SBOMs {
		sa, _ := os.ReadFile(a.SBOMs[i])
		sb, _ := os.ReadFile(b.SBOMs[i])
		if !bytes.Equal(sa, sb) || len(sa) == 0 {
			t.Errorf("SBOMs %s and %s differ (or are empty)", a.SBOMs[i], b.SBOMs[i])
		}
	}
	c := buildHello(t, filepath.Join(dir, "c"), epoch.Add(time.Second))
	if c.Index == a.Index {
		t.Errorf("a build with another SOURCE_DATE_EPOCH has the same digest %s: times are not in the image", c.Index)
	}

	idx := readLayout(t, filepath.Join(dir, "a"), a.Index)
	checkIndex(t, idx, epoch)
	checkSBOM(t, a.SBOMs[0], a.Images[testPlatforms[0]])
}

// readLayout opens the layout as a registry client would and returns the
// index its index.json names, checking the ref name annotation.
func readLayout(t *testing.T, dir string, want v1.Hash) v1.ImageIndex {
	t.Helper()
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want the one image index", len(m.Manifests))
	}
	d := m.Manifests[0]
	if d.Digest != want || d.MediaType != types.OCIImageIndex {
		t.Errorf("index.json names %s (%s), want %s (%s)", d.Digest, d.MediaType, want, types.OCIImageIndex)
	}
	if got := d.Annotations["org.opencontainers.image.ref.name"]; got != "example.test/trimtab:v1.2.3" {
		t.Errorf("ref name annotation %q, want example.test/trimtab:v1.2.3", got)
	}
	idx, err := top.ImageIndex(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func checkIndex(t *testing.T, idx v1.ImageIndex, epoch time.Time) {
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != len(testPlatforms) {
		t.Fatalf("index has %d manifests, want %d", len(m.Manifests), len(testPlatforms))
	}
	for i, d := range m.Manifests {
		p := testPlatforms[i]
		if d.Platform == nil || d.Platform.OS != p.OS || d.Platform.Architecture != p.Arch {
			t.Errorf("manifest %d has platform %v, want %s", i, d.Platform, p)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
			t.Errorf("%s: manifest media type %s, want OCI's", p, mt)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != p.Arch || cf.OS != p.OS || !cf.Created.Time.Equal(epoch) {
			t.Errorf("%s: config says %s/%s created %s", p, cf.OS, cf.Architecture, cf.Created)
		}
		if cf.Config.User != "65532:65532" || strings.Join(cf.Config.Entrypoint, " ") != "/usr/local/bin/trimtab" {
			t.Errorf("%s: user %q entrypoint %q", p, cf.Config.User, cf.Config.Entrypoint)
		}
		fsys := extract(t, img)
		checkFiles(t, p, fsys, epoch)
	}
}

type entry struct {
	hdr  *tar.Header
	body []byte
}

func extract(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = entry{h, b}
	}
}

func checkFiles(t *testing.T, p Platform, fsys map[string]entry, epoch time.Time) {
	for name, e := range fsys {
		if !e.hdr.ModTime.Equal(epoch) {
			t.Errorf("%s: %s has time %s, want the epoch %s", p, name, e.hdr.ModTime, epoch)
		}
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox"} {
		if _, ok := fsys[shell]; ok {
			t.Errorf("%s: the image has %s", p, shell)
		}
	}
	if e := fsys["home/nonroot"]; e.hdr == nil || e.hdr.Uid != NonRoot {
		t.Errorf("%s: /home/nonroot is missing or not owned by %d", p, NonRoot)
	}
	if !strings.Contains(string(fsys["etc/passwd"].body), "nonroot:x:65532:65532:") {
		t.Errorf("%s: /etc/passwd has no nonroot user: %q", p, fsys["etc/passwd"].body)
	}
	bin := fsys["usr/local/bin/trimtab"]
	if bin.hdr == nil || bin.hdr.Mode != 0o755 {
		t.Fatalf("%s: no executable /usr/local/bin/trimtab", p)
	}
	if err := checkStatic(bin.body); err != nil {
		t.Errorf("%s: %v", p, err)
	}
	rest, n := fsys[caPath].body, 0
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			t.Errorf("%s: a certificate in the CA bundle does not parse: %v", p, err)
		}
		n++
	}
	if n < 100 || len(bytes.TrimSpace(rest)) != 0 {
		t.Errorf("%s: the CA bundle holds %d certificates and %d bytes of other data; want over 100 and none", p, n, len(rest))
	}

	// The amd64 binary runs here: it must print the stamped version.
	if p.Arch != runtime.GOARCH || runtime.GOOS != "linux" {
		return
	}
	exe := filepath.Join(t.TempDir(), "trimtab")
	if err := os.WriteFile(exe, bin.body, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe).CombinedOutput()
	if err != nil {
		t.Fatalf("running the image's binary: %v: %s", err, out)
	}
	if want := "version=v1.2.3 commit=abc valid=true"; !strings.HasPrefix(string(out), want) {
		t.Errorf("the image's binary printed %q, want %q", out, want)
	}
}

func checkSBOM(t *testing.T, file string, digest v1.Hash) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc spdxDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not SPDX JSON: %v", file, err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || !strings.HasSuffix(doc.DocumentNamespace, digest.Hex) {
		t.Errorf("%s: version %q namespace %q", file, doc.SPDXVersion, doc.DocumentNamespace)
	}
	want := map[string]bool{"github.com/trimtab-dev/trimtab": false, "golang.org/x/mod": false, "stdlib": false, caModule: false}
	ids := map[string]bool{}
	for _, p := range doc.Packages {
		ids[p.SPDXID] = true
		if _, ok := want[p.Name]; ok {
			want[p.Name] = true
		}
		if p.Name == "golang.org/x/mod" && (len(p.Checksums) != 1 || len(p.Checksums[0].Value) != 64) {
			t.Errorf("%s: golang.org/x/mod has checksums %v, want go.sum's h1 as SHA256 hex", file, p.Checksums)
		}
		if p.Name == "example.test/trimtab" && p.VersionInfo != digest.String() {
			t.Errorf("%s: image package version %q, want the digest %s", file, p.VersionInfo, digest)
		}
	}
	for name, found := range want {
		if !found {
			t.Errorf("%s: no package %s", file, name)
		}
	}
	for _, r := range doc.Relationships {
		if !ids[r.Related] || (r.Element != "SPDXRef-DOCUMENT" && !ids[r.Element]) {
			t.Errorf("%s: relationship %v names an unknown element", file, r)
		}
	}
}

func TestWriteLayoutRejectsBadTags(t *testing.T) {
	for _, tag := range []string{"", "has space", "-lead", ".lead", "a/b", strings.Repeat("x", 129)} {
		err := WriteLayout(t.TempDir(), nil, "example.test/trimtab", tag)
		if err == nil || !strings.Contains(err.Error(), "image tag \""+tag+"\"") {
			t.Errorf("tag %q: error %v, want one naming the tag", tag, err)
		}
	}
}

func TestCheckStaticRejectsDynamicBinaries(t *testing.T) {
	checked := 0
	for _, f := range []string{"/bin/ls", "/usr/bin/env"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		checked++
		if err := checkStatic(b); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Errorf("%s (dynamically linked on Debian): checkStatic said %v", f, err)
		}
	}
	if err := checkStatic([]byte("#!/bin/sh\n")); err == nil {
		t.Error("a shell script passed as a static ELF binary")
	}
	if checked == 0 {
		t.Fatal("neither /bin/ls nor /usr/bin/env is here to check against")
	}
}
