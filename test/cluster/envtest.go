package cluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// PrepareEnvtestAssets makes the KUBEBUILDER_ASSETS directory controller-
// runtime's envtest expects (kube-apiserver, etcd, kubectl side by side) out of
// links into the build cache, and returns it.
func PrepareEnvtestAssets(c Config) (string, error) {
	if err := c.checkBinaries(); err != nil {
		return "", err
	}
	dir := c.EnvtestAssets()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for name, src := range map[string]string{
		"kube-apiserver": filepath.Join(c.KubernetesBin, "kube-apiserver"),
		"kubectl":        filepath.Join(c.KubernetesBin, "kubectl"),
		"etcd":           filepath.Join(c.EtcdBin, "etcd"),
	} {
		dst := filepath.Join(dir, name)
		if cur, err := os.Readlink(dst); err == nil && cur == src {
			continue
		}
		_ = os.Remove(dst)
		if err := os.Symlink(src, dst); err != nil {
			return "", fmt.Errorf("linking %s into %s: %w", name, dir, err)
		}
	}
	return dir, nil
}
