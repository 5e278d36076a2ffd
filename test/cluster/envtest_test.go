package cluster

import (
	"context"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// TestEnvtestUsesCachedBinaries proves controller-runtime's envtest runs on
// the binaries tools/build.sh built, for package tests that need only an
// apiserver.
func TestEnvtestUsesCachedBinaries(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		root, err := RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := DefaultConfig(root)
		if err != nil {
			t.Fatal(err)
		}
		if assets, err = PrepareEnvtestAssets(cfg); err != nil {
			t.Fatal(err)
		}
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	restCfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest with %s: %v", assets, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != KubernetesVersion {
		t.Errorf("envtest apiserver reports %s, want %s", v.GitVersion, KubernetesVersion)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "envtest-smoke"}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a namespace through envtest: %v", err)
	}
}
