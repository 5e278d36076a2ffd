package ociimage

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Unpack writes img's filesystem (its layers flattened, as a container
// runtime sees it) into dir, which must not exist yet: directories and
// regular files with the image's modes and numeric owners. It is what the
// e2e test runs the image from; owners can only be set when the caller is
// root, and Unpack fails otherwise rather than leave the files the
// caller's. Links and devices are refused: the image has none.
func Unpack(img v1.Image, dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("unpacking the image: %w", err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the image's filesystem: %w", err)
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("image file %q lies outside the image's root", h.Name)
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.Mkdir(p, 0o700); err != nil && !os.IsExist(err) {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("writing %s: %w", h.Name, err)
			}
		default:
			return fmt.Errorf("image file %q has type %q; only directories and regular files are unpacked", h.Name, h.Typeflag)
		}
		// Owner first: chown clears the setuid and setgid bits.
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			return fmt.Errorf("setting the owner of %s: %w", h.Name, err)
		}
		if err := os.Chmod(p, h.FileInfo().Mode().Perm()|h.FileInfo().Mode()&(os.ModeSticky|os.ModeSetuid|os.ModeSetgid)); err != nil {
			return err
		}
	}
}
