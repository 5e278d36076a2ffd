package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// source is what the image says about the checkout it was built from.
type source struct {
	describe   string    // git describe --tags --always --dirty
	commit     string    // full commit hash
	commitTime time.Time // the commit's time: the default epoch
	dirty      bool      // uncommitted changes or untracked files (ignored ones aside)
}

func readSource(dir string) (source, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, ee.Stderr)
			}
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	var s source
	var err error
	if s.describe, err = git("describe", "--tags", "--always", "--dirty"); err != nil {
		return s, err
	}
	if s.commit, err = git("rev-parse", "HEAD"); err != nil {
		return s, err
	}
	ct, err := git("log", "-1", "--format=%ct")
	if err != nil {
		return s, err
	}
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return s, fmt.Errorf("reading the commit time %q: %w", ct, err)
	}
	s.commitTime = time.Unix(sec, 0)
	status, err := git("status", "--porcelain")
	if err != nil {
		return s, err
	}
	s.dirty = status != ""
	return s, nil
}
