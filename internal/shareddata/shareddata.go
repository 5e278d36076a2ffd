// Package shareddata finds, for tests, the repository root and the recorded
// traces in ../shared/data beside it (present in CI, read-only, not part of
// the project). A test that needs a trace to stand alone copies a slice into
// test/testdata instead.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot walks up from the test's directory to the one holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Dir is ../shared/data/<sub> beside the repository; the test is skipped
// when it is absent.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "data", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared traces not present at %s (they are in CI): %v", p, err)
	}
	return p
}

// Glob is the files of ../shared/data/<sub> matching pattern; the test is
// skipped when there are none.
func Glob(t testing.TB, sub, pattern string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(Dir(t, sub), pattern))
	if len(files) == 0 {
		t.Skipf("no %s in ../shared/data/%s", pattern, sub)
	}
	return files
}
