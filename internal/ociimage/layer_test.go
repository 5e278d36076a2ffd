package ociimage

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestTar(t *testing.T) {
	mtime := time.Date(2026, 5, 6, 7, 8, 9, 500, time.FixedZone("x", 3600))
	files := []File{
		{Name: "etc/passwd", Mode: 0o644, Body: []byte("x")},
		{Name: "etc", Mode: 0o755, Dir: true},
		{Name: "/home", Mode: 0o755, Dir: true},
		{Name: "home/nonroot", Mode: 0o700, UID: 65532, GID: 65532, Dir: true},
	}
	a, err := Tar(files, mtime)
	if err != nil {
		t.Fatal(err)
	}
	// The input order does not matter.
	b, err := Tar([]File{files[3], files[2], files[1], files[0]}, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the same files in another order give other bytes")
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(mtime.Truncate(time.Second)) || h.Uname != "" || !h.AccessTime.IsZero() {
			t.Errorf("%s: time %s uname %q atime %s", h.Name, h.ModTime, h.Uname, h.AccessTime)
		}
	}
	if got, want := strings.Join(names, " "), "etc/ etc/passwd home/ home/nonroot/"; got != want {
		t.Errorf("entries %q, want %q", got, want)
	}
}

func TestTarRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []File
		want  string
	}{
		{"escape", []File{{Name: "../etc", Dir: true}}, `"../etc": want a relative path`},
		{"root", []File{{Name: "/", Dir: true}}, `"/": want a relative path`},
		{"twice", []File{{Name: "etc", Dir: true}, {Name: "etc/", Dir: true}}, `"etc" listed twice`},
		{"orphan", []File{{Name: "etc/passwd"}}, `"etc/passwd": its directory "etc" is not in the layer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Tar(tc.files, time.Unix(0, 0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %s", err, tc.want)
			}
		})
	}
}

func TestParsePlatforms(t *testing.T) {
	got, err := ParsePlatforms("linux/amd64, linux/arm64")
	if err != nil || len(got) != 2 || got[1].String() != "linux/arm64" {
		t.Errorf("got %v, %v", got, err)
	}
	for in, want := range map[string]string{
		"linux":                   `platform "linux": want os/arch`,
		"darwin/arm64":            `only linux images`,
		"linux/arm/v7":            `want os/arch`,
		"linux/amd64,linux/amd64": `"linux/amd64" listed twice`,
		"":                        `platform "": want os/arch`,
	} {
		if _, err := ParsePlatforms(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %s", in, err, want)
		}
	}
}
