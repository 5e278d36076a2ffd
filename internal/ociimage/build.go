package ociimage

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Platform is one os/arch the image is built for; only linux is accepted.
type Platform struct {
	OS, Arch string
}

// String returns the platform as os/arch, e.g. linux/arm64.
func (p Platform) String() string { return p.OS + "/" + p.Arch }

// ParsePlatforms parses a comma-separated list such as
// "linux/amd64,linux/arm64".
func ParsePlatforms(s string) ([]Platform, error) {
	var out []Platform
	seen := map[Platform]bool{}
	for _, f := range strings.Split(s, ",") {
		os_, arch, ok := strings.Cut(strings.TrimSpace(f), "/")
		p := Platform{OS: os_, Arch: arch}
		switch {
		case !ok || arch == "" || strings.Contains(arch, "/"):
			return nil, fmt.Errorf("platform %q: want os/arch, e.g. linux/amd64", f)
		case os_ != "linux":
			return nil, fmt.Errorf("platform %q: only linux images are built (the chart runs on Linux nodes)", f)
		case seen[p]:
			return nil, fmt.Errorf("platform %q listed twice", f)
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

// Binary is a built program and the build information Go recorded in it
// (what `go version -m` prints), which the SBOM is made from.
type Binary struct {
	Platform Platform
	Body     []byte
	Info     *buildinfo.BuildInfo
}

// GoBuild builds the main package pkg (e.g. ./cmd/trimtab, relative to dir)
// for p as a static binary: CGO_ENABLED=0, -trimpath, no VCS stamping,
// -ldflags "-s -w -buildid= " plus ldflags (the version stamp). Go's build
// is deterministic for a given toolchain, source and flags, and these flags
// keep the build machine's paths and the checkout's state out of it.
func GoBuild(dir, pkg string, p Platform, ldflags string) (*Binary, error) {
	tmp, err := os.MkdirTemp("", "ociimage-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bin")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", strings.TrimSpace("-s -w -buildid= "+ldflags), "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch, "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building %s for %s: %w\n%s", pkg, p, err, stderr.String())
	}
	body, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if err := checkStatic(body); err != nil {
		return nil, fmt.Errorf("%s for %s: %w", pkg, p, err)
	}
	info, err := buildinfo.Read(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("reading the build info of %s for %s: %w", pkg, p, err)
	}
	return &Binary{Platform: p, Body: body, Info: info}, nil
}

// checkStatic fails unless body is an ELF executable with no program
// interpreter and no shared libraries: the image has no libc or loader, so
// anything else would fail to start with a bare "no such file or directory".
func checkStatic(body []byte) error {
	f, err := elf.NewFile(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not an ELF executable: %w", err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("binary is dynamically linked (it names a program interpreter); build it with CGO_ENABLED=0")
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		return fmt.Errorf("binary needs shared libraries %v; build it with CGO_ENABLED=0", libs)
	}
	return nil
}
