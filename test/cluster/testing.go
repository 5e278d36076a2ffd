package cluster

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// MainModule is the module path of trimtab's own go.mod; RepoRoot looks for it.
const MainModule = "github.com/trimtab-dev/trimtab"

var (
	startOnce sync.Once
	started   *Cluster
	startErr  error
)

// Start returns the local control plane for a test, reusing the running one
// or starting it (once per test binary). It never skips: if the binaries are
// missing or the cluster cannot start, the test fails with what to do.
//
// A cluster a test starts keeps running after the test binary exits, so the
// next test package reuses it; `make test` stops it at the end if it was not
// running before, and `make cluster-down` stops it by hand.
func Start(t testing.TB) *Cluster {
	t.Helper()
	startOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			startErr = err
			return
		}
		cfg, err := DefaultConfig(root)
		if err != nil {
			startErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		started, startErr = Up(ctx, cfg, func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "cluster: "+format+"\n", args...)
		})
	})
	if startErr != nil {
		t.Fatalf("local control plane unavailable: %v", startErr)
	}
	return started
}

// RepoRoot walks up from the working directory to trimtab's go.mod (skipping
// the tools modules nested below it).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isMainModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for module %s above the working directory", MainModule)
		}
		dir = parent
	}
}

func isMainModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module")) == MainModule
		}
	}
	return false
}
