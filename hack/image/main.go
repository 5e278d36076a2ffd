// Command image builds trimtab's container image without a container
// engine (internal/ociimage): linux/amd64 and linux/arm64 in one OCI index,
// written as an OCI image layout (default bin/image) with an SPDX SBOM per
// platform beside it. `make image` runs it.
//
// The tag is the version: -version, or `git describe --tags --always
// --dirty`; a tree with uncommitted or untracked changes always gets
// "-dirty" in it, since such an image cannot be rebuilt from a commit. All
// times in the image are SOURCE_DATE_EPOCH, by default the commit's time,
// so the same commit gives the same digest.
//
// With -push REF it builds nothing and pushes the layout in -out to REF.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/internal/ociimage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	out := fs.String("out", "bin/image", "OCI layout directory to write (replaced); SBOMs go beside it")
	repo := fs.String("repo", "ghcr.io/trimtab-dev/trimtab", "image repository, recorded in the layout's ref name and the SBOM")
	version := fs.String("version", "", "version stamped into the binary and used as the tag (default: git describe --tags --always --dirty)")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated os/arch list")
	pkg := fs.String("package", "./cmd/trimtab", "main package to build")
	push := fs.String("push", "", "instead of building, push the layout in -out to this reference, e.g. ghcr.io/trimtab-dev/trimtab:v0.1.0 (credentials from ~/.docker/config.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *push != "" {
		d, err := ociimage.Push(*out, *push)
		if err != nil {
			return err
		}
		fmt.Printf("pushed %s as %s@%s\n", *out, *push, d)
		return nil
	}
	plats, err := ociimage.ParsePlatforms(*platforms)
	if err != nil {
		return fmt.Errorf("-platforms: %w", err)
	}
	src, err := readSource(".")
	if err != nil {
		return err
	}
	tag := *version
	if tag == "" {
		tag = src.describe
	}
	if src.dirty && !strings.HasSuffix(tag, "-dirty") {
		tag += "-dirty"
	}
	epoch := src.commitTime
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil || sec < 0 {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970 as a non-negative integer", s)
		}
		epoch = time.Unix(sec, 0)
	}
	start := time.Now()
	res, err := ociimage.Build(ociimage.Options{
		Dir:       ".",
		Package:   *pkg,
		Platforms: plats,
		LDFlags: "-X github.com/trimtab-dev/trimtab/internal/version.Version=" + tag +
			" -X github.com/trimtab-dev/trimtab/internal/version.Commit=" + src.commit,
		Epoch: epoch,
		Repo:  *repo,
		Tag:   tag,
		Out:   *out,
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s:%s@%s written to %s in %s\n", *repo, tag, res.Index, *out, time.Since(start).Round(time.Second))
	for _, p := range plats {
		fmt.Printf("  %-13s %s\n", p, res.Images[p])
	}
	fmt.Printf("  SBOMs: %s\n", strings.Join(res.SBOMs, " "))
	if src.dirty {
		fmt.Println("  the tree has uncommitted changes: the tag says -dirty and the digest is not that of any commit")
	}
	return nil
}
