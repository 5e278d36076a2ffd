package ociimage

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestUnpack unpacks an image and checks each file's mode and owner came
// from the layer, not from the caller's umask or user.
func TestUnpack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the unpacked files the image's owners")
	}
	img, err := Image(&Binary{Platform: Platform{"linux", "amd64"}, Body: []byte("#!binary")}, []byte("ca"), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "root")
	if err := Unpack(img, dir); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		mode os.FileMode
		uid  uint32
	}{
		{"tmp", os.ModeDir | os.ModeSticky | 0o777, 0},
		{"home/nonroot", os.ModeDir | 0o700, NonRoot},
		{"etc/passwd", 0o644, 0},
		{caPath, 0o644, 0},
		{binaryPath, 0o755, 0},
	} {
		fi, err := os.Lstat(filepath.Join(dir, c.name))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if fi.Mode() != c.mode || fi.Sys().(*syscall.Stat_t).Uid != c.uid {
			t.Errorf("%s: mode %v uid %d, want %v uid %d", c.name, fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid, c.mode, c.uid)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, binaryPath)); string(b) != "#!binary" {
		t.Errorf("the binary unpacked as %q", b)
	}
	if err := Unpack(img, dir); err == nil {
		t.Error("unpacking into an existing directory succeeded")
	}
}
