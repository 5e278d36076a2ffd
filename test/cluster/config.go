package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config says where the cluster keeps its state, where the binaries are, and
// what it listens on. The zero value is not usable; start from DefaultConfig.
type Config struct {
	// Dir holds the PKI, kubeconfig, etcd data, logs and state.json.
	Dir string
	// KubernetesBin holds kube-apiserver, kube-controller-manager,
	// kube-scheduler and kubectl; EtcdBin holds etcd; KwokBin holds kwok and
	// KwokStages its stage configs and KwokMetrics its Metric and
	// ClusterResourceUsage configs.
	KubernetesBin, EtcdBin, KwokBin, KwokStages, KwokMetrics string
	// KwokUsage has kwok emulate container CPU and memory usage from the
	// kwok.x-k8s.io/usage-cpu and usage-memory pod annotations (1m and 1Mi
	// without them) and serve it like kubelet's /metrics/resource, per node
	// under /metrics/nodes/NODE/metrics/resource on KwokPort; StartPrometheus
	// then scrapes every node's. See docs/dev/kwok-usage.md.
	KwokUsage bool
	// HelmBin holds helm; CertManagerBin holds cert-manager-controller and
	// cert-manager-cainjector and CertManagerCRDs cert-manager's CRDs (all
	// from tools/build.sh). PrometheusBin is Debian's prometheus binary and
	// PromtoolBin its promtool (tools/apt.sh). Only the add-ons need them;
	// Up does not.
	HelmBin, CertManagerBin, CertManagerCRDs, PrometheusBin, PromtoolBin string
	// PrometheusAdapterBin holds prometheus-adapter (tools/build.sh
	// prometheusadapter), for StartPrometheusAdapter.
	PrometheusAdapterBin string
	// ControllerGenBin holds controller-gen (tools/build.sh controllergen),
	// which generates deepcopy functions and CRD manifests.
	ControllerGenBin string

	// Ports on 127.0.0.1. Defaults avoid the well-known Kubernetes ports so a
	// developer's other clusters keep working.
	EtcdClientPort, EtcdPeerPort, APIServerPort, ControllerManagerPort, SchedulerPort, KwokPort int
	// PrometheusPort is where StartPrometheus serves on 127.0.0.1, and
	// PrometheusAdapterPort where StartPrometheusAdapter does.
	PrometheusPort, PrometheusAdapterPort int

	// Nodes is the node set created on Up.
	Nodes []NodeSpec
	// SpotTaint is put on every spot node, as key=value:effect; empty for none.
	SpotTaint string
}

// DefaultConfig returns the configuration `make cluster-up` uses: state in
// root/.cluster, binaries from the build cache, the default node set. The
// environment can override the spot taint (TRIMTAB_SPOT_TAINT, "" for none),
// the cache (TRIMTAB_CACHE), as tools/build.sh reads it, and shift every port
// (TRIMTAB_PORT_OFFSET), so a second checkout can run its own cluster.
func DefaultConfig(root string) (Config, error) {
	cache, err := CacheDir()
	if err != nil {
		return Config{}, err
	}
	if root, err = filepath.Abs(root); err != nil {
		return Config{}, err
	}
	c := Config{
		Dir:                   filepath.Join(root, ".cluster"),
		KubernetesBin:         filepath.Join(cache, "kubernetes-"+KubernetesVersion, "bin"),
		EtcdBin:               filepath.Join(cache, "etcd-"+EtcdVersion, "bin"),
		KwokBin:               filepath.Join(cache, "kwok-"+KwokVersion, "bin"),
		KwokStages:            filepath.Join(cache, "kwok-"+KwokVersion, "stages"),
		KwokMetrics:           filepath.Join(cache, "kwok-"+KwokVersion, "metrics"),
		KwokUsage:             true,
		HelmBin:               filepath.Join(cache, "helm-"+HelmVersion, "bin"),
		CertManagerBin:        filepath.Join(cache, "certmanager-"+CertManagerVersion, "bin"),
		CertManagerCRDs:       filepath.Join(cache, "certmanager-"+CertManagerVersion, "crds"),
		PrometheusBin:         "/usr/bin/prometheus",
		PromtoolBin:           "/usr/bin/promtool",
		ControllerGenBin:      filepath.Join(cache, "controllergen-"+ControllerGenVersion, "bin"),
		PrometheusAdapterBin:  filepath.Join(cache, "prometheusadapter-"+PrometheusAdapterVersion, "bin"),
		EtcdClientPort:        12379,
		EtcdPeerPort:          12380,
		APIServerPort:         16443,
		ControllerManagerPort: 16444,
		SchedulerPort:         16445,
		KwokPort:              16446,
		PrometheusPort:        16447,
		PrometheusAdapterPort: 16448,
		Nodes:                 DefaultNodes(),
		SpotTaint:             DefaultSpotTaint,
	}
	if v := os.Getenv("TRIMTAB_PORT_OFFSET"); v != "" {
		off, err := strconv.Atoi(v)
		if err != nil || off < 0 || off > 40000 {
			return Config{}, fmt.Errorf("TRIMTAB_PORT_OFFSET=%q: want a whole number from 0 to 40000, e.g. 1000", v)
		}
		c.shiftPorts(off)
	}
	if v, ok := os.LookupEnv("TRIMTAB_SPOT_TAINT"); ok {
		c.SpotTaint = v
	}
	return c, nil
}

// shiftPorts adds off to every port, so a second cluster can run beside one
// on the defaults.
func (c *Config) shiftPorts(off int) {
	for _, p := range []*int{&c.EtcdClientPort, &c.EtcdPeerPort, &c.APIServerPort, &c.ControllerManagerPort, &c.SchedulerPort, &c.KwokPort, &c.PrometheusPort, &c.PrometheusAdapterPort} {
		*p += off
	}
}

// Versions of the binaries, matching the tools modules under tools/. The
// TestVersionsMatchToolsModules test keeps them in step.
const (
	KubernetesVersion  = "v1.37.1"
	EtcdVersion        = "v3.7.3"
	KwokVersion        = "v0.8.0"
	HelmVersion        = "v3.22.0"
	CertManagerVersion = "v1.21.2"
	// ControllerGenVersion is sigs.k8s.io/controller-tools'.
	ControllerGenVersion = "v0.23.0"
	// PrometheusAdapterVersion is sigs.k8s.io/prometheus-adapter's.
	PrometheusAdapterVersion = "v0.12.0"
)

// DefaultSpotTaint keeps pods off spot nodes unless they tolerate it; trimtab's
// webhook adds the toleration when it places a pod on spot.
const DefaultSpotTaint = "trimtab.dev/spot=true:NoSchedule"

// CacheDir is where tools/build.sh puts the binaries: $TRIMTAB_CACHE, else
// $XDG_CACHE_HOME/trimtab, else ~/.cache/trimtab.
func CacheDir() (string, error) {
	if d := os.Getenv("TRIMTAB_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "trimtab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the build cache: set TRIMTAB_CACHE: %w", err)
	}
	return filepath.Join(home, ".cache", "trimtab"), nil
}

// EnvtestAssets is the directory to use as KUBEBUILDER_ASSETS: it holds
// kube-apiserver, etcd and kubectl, as links into the build cache.
func (c Config) EnvtestAssets() string {
	return filepath.Join(filepath.Dir(filepath.Dir(c.KubernetesBin)), "envtest-"+KubernetesVersion+"-etcd-"+EtcdVersion)
}

// checkBinaries reports every missing binary at once, with the fix.
func (c Config) checkBinaries() error {
	var missing []string
	for _, p := range []string{
		filepath.Join(c.EtcdBin, "etcd"),
		filepath.Join(c.KubernetesBin, "kube-apiserver"),
		filepath.Join(c.KubernetesBin, "kube-controller-manager"),
		filepath.Join(c.KubernetesBin, "kube-scheduler"),
		filepath.Join(c.KubernetesBin, "kubectl"),
		filepath.Join(c.KwokBin, "kwok"),
	} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("control-plane binaries not built: %s missing; run `make tools` (builds them from Go modules into %s, ~12 min the first time)",
			strings.Join(missing, ", "), filepath.Dir(filepath.Dir(c.KubernetesBin)))
	}
	return nil
}

// Helm returns the path of the helm binary tools/build.sh builds, or an error
// naming the command that builds it.
func (c Config) Helm() (string, error) {
	p := filepath.Join(c.HelmBin, "helm")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("helm not built: %s missing; run `bash test/cluster/tools/build.sh helm` (~1-5 min the first time)", p)
	}
	return p, nil
}

// ControllerGen returns the path of the controller-gen binary tools/build.sh
// builds, or an error naming the command that builds it.
func (c Config) ControllerGen() (string, error) {
	p := filepath.Join(c.ControllerGenBin, "controller-gen")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("controller-gen not built: %s missing; run `bash test/cluster/tools/build.sh controllergen` (~2 min on 2 cores the first time)", p)
	}
	return p, nil
}

func (c Config) path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}

// Kubeconfig is the path of the admin kubeconfig Up writes.
func (c Config) Kubeconfig() string { return c.path("kubeconfig") }
