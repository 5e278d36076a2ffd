package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadSourceDirty checks the rule the tag follows: a checkout with a
// modified or an untracked file is dirty, a clean one is not, and the
// epoch is the commit's time.
func TestReadSourceDirty(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("a.go", "package a\n")
	git("add", "a.go")
	git("commit", "-q", "-m", "first")

	s, err := readSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.dirty || strings.HasSuffix(s.describe, "-dirty") || len(s.commit) != 40 || s.commitTime.Unix() != 1767323045 {
		t.Errorf("clean checkout: %+v", s)
	}

	write("b.go", "package a\n")
	if s, err = readSource(dir); err != nil || !s.dirty {
		t.Errorf("an untracked file: dirty=%t, %v; want dirty", s.dirty, err)
	}
	os.Remove(filepath.Join(dir, "b.go"))
	write("a.go", "package b\n")
	if s, err = readSource(dir); err != nil || !s.dirty || !strings.HasSuffix(s.describe, "-dirty") {
		t.Errorf("a modified file: %+v, %v; want dirty", s, err)
	}

	if _, err := readSource(t.TempDir()); err == nil || !strings.Contains(err.Error(), "git describe") {
		t.Errorf("outside a checkout: error %v, want one naming the git command", err)
	}
}
