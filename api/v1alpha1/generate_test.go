package v1alpha1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/trimtab-dev/trimtab/test/cluster"
)

// TestGeneratedFilesAreCurrent runs controller-gen (built by make tools)
// into a temporary directory and fails when the deepcopy code or a CRD in
// the chart differs from what it generates now: run `make generate`.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cluster.DefaultConfig(root)
	if err != nil {
		t.Fatal(err)
	}
	cg, err := cfg.ControllerGen()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	objDir, crdDir := filepath.Join(out, "object"), filepath.Join(out, "crds")
	for _, args := range [][]string{
		{"object", "paths=./api/...", "output:object:dir=" + objDir},
		{"crd:crdVersions=v1", "paths=./api/...", "output:crd:dir=" + crdDir},
	} {
		cmd := exec.Command(cg, args...)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen %v: %v\n%s", args, err, b)
		}
	}
	same := func(generated, committed string) {
		t.Helper()
		want, err := os.ReadFile(generated)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(committed)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what controller-gen generates now (%v); run `make generate`", committed, err)
		}
	}
	same(filepath.Join(objDir, "zz_generated.deepcopy.go"), filepath.Join(root, "api/v1alpha1/zz_generated.deepcopy.go"))
	crds, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("controller-gen wrote no CRDs (%v)", err)
	}
	committed, _ := filepath.Glob(filepath.Join(root, "charts/trimtab/files/crds/*.yaml"))
	if len(committed) != len(crds) {
		t.Errorf("charts/trimtab/files/crds holds %d CRDs, controller-gen makes %d; run `make generate`", len(committed), len(crds))
	}
	for _, c := range crds {
		same(c, filepath.Join(root, "charts/trimtab/files/crds", filepath.Base(c)))
	}
}
