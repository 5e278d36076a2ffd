package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of a layer: a directory when Dir is set, otherwise a
// regular file holding Body.
type File struct {
	Name string // path inside the image, without a leading slash
	Mode int64  // permission bits (and setuid/sticky), e.g. 0o755
	UID  int
	GID  int
	Dir  bool
	Body []byte
}

// Tar writes files as an uncompressed tar stream in a fixed order (by name,
// so a directory precedes what it holds), every header with the modification
// time mtime, numeric owners only and no access or change times: the same
// files give the same bytes on any machine, whatever the files' times,
// owners or order on the build machine.
func Tar(files []File, mtime time.Time) ([]byte, error) {
	sorted := make([]File, len(files))
	for i, f := range files {
		name := strings.TrimPrefix(path.Clean(f.Name), "/")
		if name == "." || name == "" || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("layer file name %q: want a relative path inside the image", f.Name)
		}
		f.Name = name
		sorted[i] = f
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seen := map[string]bool{}
	for _, f := range sorted {
		name := f.Name
		if seen[name] {
			return nil, fmt.Errorf("layer file %q listed twice", name)
		}
		seen[name] = true
		if dir := path.Dir(name); dir != "." && !seen[dir] {
			return nil, fmt.Errorf("layer file %q: its directory %q is not in the layer", name, dir)
		}
		h := &tar.Header{
			Name:    name,
			Mode:    f.Mode,
			Uid:     f.UID,
			Gid:     f.GID,
			ModTime: mtime.UTC().Truncate(time.Second),
			Format:  tar.FormatUSTAR,
		}
		if f.Dir {
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("writing the tar header of %s: %w", name, err)
		}
		if !f.Dir {
			if _, err := tw.Write(f.Body); err != nil {
				return nil, fmt.Errorf("writing %s into the layer: %w", name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Layer makes a gzipped OCI layer of files. go-containerregistry compresses
// it with compress/gzip, whose header carries no name or time, so equal
// files give an equal digest.
func Layer(files []File, mtime time.Time) (v1.Layer, error) {
	b, err := Tar(files, mtime)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithCompressedCaching)
}
