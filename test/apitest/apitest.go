// Package apitest gives controller tests a real kube-apiserver: envtest's
// kube-apiserver and etcd, built into the tool cache by test/cluster, with
// trimtab's CRDs installed. There is no scheduler, kubelet or
// controller-manager; tests play their parts.
//
// Shared starts one apiserver for a whole test binary; call Main from the
// package's TestMain so it is stopped when the tests end, and no etcd or
// kube-apiserver outlives the binary. Own starts one for a single test.
package apitest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// Scheme holds the built-in kinds and trimtab's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

var (
	sharedOnce sync.Once
	shared     *envtest.Environment
	sharedCfg  *rest.Config
	sharedErr  error
)

// Shared is the test binary's apiserver, started on first use: its REST
// config and a client with Scheme. Tests share it, so each works in a
// namespace of its own.
func Shared(t testing.TB) (*rest.Config, client.Client) {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedCfg, sharedErr = start() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedCfg, newClient(t, sharedCfg)
}

// Own starts an apiserver for this test alone, stopped when it ends: for a
// controller that lists across namespaces.
func Own(t testing.TB) (*rest.Config, client.Client) {
	t.Helper()
	env, cfg, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	return cfg, newClient(t, cfg)
}

// Main runs the package's tests and then stops the shared apiserver.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		_ = shared.Stop()
	}
	os.Exit(code)
}

func start() (*envtest.Environment, *rest.Config, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, nil, err
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		cfg, err := cluster.DefaultConfig(root)
		if err != nil {
			return nil, nil, err
		}
		assets, err := cluster.PrepareEnvtestAssets(cfg)
		if err != nil {
			return nil, nil, err
		}
		os.Setenv("KUBEBUILDER_ASSETS", assets)
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(root, "charts/trimtab/files/crds")}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest: %w", err)
	}
	return env, cfg, nil
}

func newClient(t testing.TB, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
