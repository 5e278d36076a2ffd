package cluster

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// The metrics APIs on the local cluster. StartPrometheusAdapter runs
// prometheus-adapter (built from its module, see tools/build.sh) as an
// aggregated API server on 127.0.0.1 and registers it with the apiserver's
// aggregation layer, so the HPA controller in kube-controller-manager, kubectl
// and trimtab read metrics through the real APIs:
//
//   - external.metrics.k8s.io: every trimtab_test_* series (the load exporter's),
//     not namespaced, selected by label;
//   - custom.metrics.k8s.io: trimtab_* series labelled with namespace and pod;
//   - metrics.k8s.io: pod and node CPU and memory from kwok's emulated usage
//     (Config.KwokUsage), which Prometheus scrapes from kwok.
//
// The APIServices point at an ExternalName Service "localhost" in
// kube-system: the aggregator resolves ExternalName services to
// https://<externalName>:<port> without needing endpoints or a ClusterIP
// (k8s.io/apiserver/pkg/util/proxy.ResolveCluster), and it verifies the
// adapter's certificate, issued by the cluster CA, for
// prometheus-adapter.kube-system.svc.
const (
	prometheusAdapterName = "prometheus-adapter"
	// PrometheusAdapterNamespace holds the adapter's ExternalName Service.
	PrometheusAdapterNamespace = "kube-system"
)

// metricsAPIServices are the API versions the adapter serves.
var metricsAPIServices = []struct{ group, version string }{
	{"custom.metrics.k8s.io", "v1beta1"},
	{"custom.metrics.k8s.io", "v1beta2"},
	{"external.metrics.k8s.io", "v1beta1"},
	{"metrics.k8s.io", "v1beta1"},
}

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// DefaultPrometheusAdapterRules is the adapter configuration
// StartPrometheusAdapter uses when given none. Queries see samples scraped
// every second, so the rate windows are short; the resource rules read the
// series kwok's Metric "metrics-resource" serves (kubelet's names).
//
// External metrics keep only the workload label (max by workload): a
// backfilled and a live series of one workload then read as one value even
// if their target labels differ.
const DefaultPrometheusAdapterRules = `rules:
- seriesQuery: '{__name__=~"^trimtab_.*",namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
externalRules:
- seriesQuery: '{__name__=~"^trimtab_test_.*"}'
  resources:
    namespaced: false
  metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (workload)
resourceRules:
  cpu:
    containerQuery: sum by (<<.GroupBy>>) (irate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!="",pod!=""}[1m]))
    nodeQuery: sum by (<<.GroupBy>>) (irate(node_cpu_usage_seconds_total{<<.LabelMatchers>>}[1m]))
    resources:
      overrides:
        namespace: {resource: namespace}
        node: {resource: node}
        pod: {resource: pod}
    containerLabel: container
  memory:
    containerQuery: sum by (<<.GroupBy>>) (container_memory_working_set_bytes{<<.LabelMatchers>>,container!="",pod!=""})
    nodeQuery: sum by (<<.GroupBy>>) (node_memory_working_set_bytes{<<.LabelMatchers>>})
    resources:
      overrides:
        namespace: {resource: namespace}
        node: {resource: node}
        pod: {resource: pod}
    containerLabel: container
  window: 1m
`

// StartPrometheusAdapter starts Prometheus if it is not running
// (StartPrometheus with no new targets), then runs prometheus-adapter with
// rules (DefaultPrometheusAdapterRules if empty) against it on
// 127.0.0.1:Config.PrometheusAdapterPort, registers the metrics APIs and
// returns once every APIService is Available. A running adapter with the same
// rules is reused; other rules restart it. The adapter lists Prometheus's
// series every 5 s, so a new series is served ~5 s after its first scrape.
//
// While the APIServices are registered and the adapter is down, discovery of
// those groups fails, and the namespace controller does not finish deleting
// namespaces; Down stops the adapter with the rest of the cluster.
func (cl *Cluster) StartPrometheusAdapter(ctx context.Context, rules []byte) error {
	c := cl.Config
	bin := filepath.Join(c.PrometheusAdapterBin, prometheusAdapterName)
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("prometheus-adapter not built: %s missing; run `bash test/cluster/tools/build.sh prometheusadapter` (~5 min on 2 cores the first time)", bin)
	}
	if len(rules) == 0 {
		rules = []byte(DefaultPrometheusAdapterRules)
	}
	promURL, err := cl.StartPrometheus(ctx, nil)
	if err != nil {
		return err
	}
	cfg, err := cl.RESTConfig()
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	pk := pki{c.path("pki")}
	err = cl.withState(func(st *Cluster) error {
		dir := c.path(prometheusAdapterName)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		rulesFile := filepath.Join(dir, "config.yaml")
		oldRules, _ := os.ReadFile(rulesFile)
		if _, ok := st.addon(prometheusAdapterName); ok && bytes.Equal(oldRules, rules) && metricsAPIsAvailable(ctx, dyn) == nil {
			return nil
		}
		if err := st.stopAddon(prometheusAdapterName); err != nil {
			return err
		}
		if err := os.WriteFile(rulesFile, rules, 0o644); err != nil {
			return err
		}
		certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		if err := issueServingCert(pk, certFile, keyFile, "127.0.0.1", "localhost", prometheusAdapterName+"."+PrometheusAdapterNamespace+".svc"); err != nil {
			return err
		}
		kc := c.Kubeconfig()
		p, err := startProcess(prometheusAdapterName, bin, c.path("logs"),
			"--prometheus-url="+promURL,
			"--config="+rulesFile,
			"--metrics-relist-interval=5s",
			"--lister-kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
			"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.PrometheusAdapterPort),
			"--tls-cert-file="+certFile, "--tls-private-key-file="+keyFile,
			"--v=1")
		if err != nil {
			return err
		}
		st.setAddon(p)
		ca, err := os.ReadFile(pk.file("ca.crt"))
		if err != nil {
			return err
		}
		if err := registerMetricsAPIs(ctx, cs, dyn, c.PrometheusAdapterPort, ca); err != nil {
			return err
		}
		return st.waitFor(ctx, p, 60*time.Second, func(ctx context.Context) error { return metricsAPIsAvailable(ctx, dyn) })
	})
	if err != nil {
		return fmt.Errorf("starting prometheus-adapter: %w", err)
	}
	return nil
}

// issueServingCert writes a serving certificate for hosts signed by the
// cluster CA, which the apiserver is given as the APIServices' caBundle.
func issueServingCert(pk pki, certFile, keyFile string, hosts ...string) error {
	ca, err := LoadCA(pk.file("ca.crt"), pk.file("ca.key"))
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue(hosts[len(hosts)-1], nil, hosts, false)
	if err != nil {
		return err
	}
	return writeFiles(map[string][]byte{certFile: certPEM, keyFile: keyPEM})
}

// registerMetricsAPIs applies the ExternalName Service and one APIService per
// metrics API version, all pointing at the adapter on localhost:port.
func registerMetricsAPIs(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, port int, caBundle []byte) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: prometheusAdapterName, Namespace: PrometheusAdapterNamespace},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
	}
	if _, err := cs.CoreV1().Services(PrometheusAdapterNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Service %s/%s: %w", PrometheusAdapterNamespace, prometheusAdapterName, err)
	}
	for _, a := range metricsAPIServices {
		name := a.version + "." + a.group
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
			"metadata": map[string]any{"name": name},
			"spec": map[string]any{
				"group": a.group, "version": a.version,
				"groupPriorityMinimum": int64(100), "versionPriority": int64(100),
				"caBundle": base64.StdEncoding.EncodeToString(caBundle),
				"service": map[string]any{
					"name": prometheusAdapterName, "namespace": PrometheusAdapterNamespace, "port": int64(port),
				},
			},
		}}
		if _, err := dyn.Resource(apiServiceGVR).Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
			return fmt.Errorf("applying APIService %s: %w", name, err)
		}
	}
	return nil
}

// metricsAPIsAvailable reports whether every metrics APIService is
// Available, quoting the condition of the first that is not.
func metricsAPIsAvailable(ctx context.Context, dyn dynamic.Interface) error {
	for _, a := range metricsAPIServices {
		name := a.version + "." + a.group
		u, err := dyn.Resource(apiServiceGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if err := conditionTrue(u, "Available"); err != nil {
			return fmt.Errorf("APIService %s: %w", name, err)
		}
	}
	return nil
}
