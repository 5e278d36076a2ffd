// Package charts_test checks the Helm chart: it lints, renders with default
// and non-default values, rejects mistyped values naming the key, and the
// rendered objects hold the properties a platform team reviews for (least
// privilege, hardened pods, webhooks that fail open and match the Go
// definitions, certificates wired to the injection annotations).
package charts_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/webhook"
)

const (
	chartDir    = "trimtab"
	releaseNS   = "trimtab-system"
	releaseName = "trimtab"
)

// helm returns the helm binary built by `make tools`, failing the test with
// the fix if it is missing.
func helm(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRIMTAB_HELM"); p != "" {
		return p
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cluster.DefaultConfig(root)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := cfg.Helm()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// templateArgs renders for the Kubernetes version the local cluster runs.
func templateArgs() []string {
	return []string{"template", releaseName, chartDir, "--namespace", releaseNS, "--kube-version", cluster.KubernetesVersion}
}

// render runs helm template with extra arguments and returns the objects.
func render(t *testing.T, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := runHelm(t, append(templateArgs(), args...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, out)
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("parsing rendered chart: %v", err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func one[T any](t *testing.T, objs []*unstructured.Unstructured, kind string) *T {
	t.Helper()
	found := find(objs, kind)
	if len(found) != 1 {
		t.Fatalf("rendered %d %s, want 1", len(found), kind)
	}
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(found[0].Object, &v); err != nil {
		t.Fatalf("converting %s: %v", kind, err)
	}
	return &v
}

func TestLint(t *testing.T) {
	for _, args := range [][]string{nil, {"--set", "metrics.serviceMonitor.enabled=true,metrics.dashboard.enabled=true"}} {
		if out, err := runHelm(t, append([]string{"lint", "--strict", chartDir}, args...)...); err != nil {
			t.Errorf("helm lint %v: %v\n%s", args, err, out)
		}
	}
}

func TestDefaultRender(t *testing.T) {
	objs := render(t)
	for kind, n := range map[string]int{
		"Deployment": 1, "Service": 1, "ServiceAccount": 1, "ClusterRole": 2, "ClusterRoleBinding": 1, "NetworkPolicy": 0,
		"Role": 1, "RoleBinding": 1, "PodDisruptionBudget": 0, "Issuer": 2, "Certificate": 2,
		"MutatingWebhookConfiguration": 1, "ValidatingWebhookConfiguration": 1,
		"ServiceMonitor": 0, "ConfigMap": 0, "Secret": 0, "CustomResourceDefinition": 2,
	} {
		if got := len(find(objs, kind)); got != n {
			t.Errorf("rendered %d %s, want %d", got, kind, n)
		}
	}

	// RBAC: no Secret access at all, no wildcards, cluster-wide writes only
	// to Events, trimtab's own resources and workloads' scale.
	clusterWrites := map[string]bool{"events": true, "decisions": true, "decisions/status": true, "decisioncheckpoints": true,
		"deployments/scale": true, "statefulsets/scale": true,
		// Secure metrics: authenticating and authorizing scrapers.
		"tokenreviews": true, "subjectaccessreviews": true,
		// The requests controller resizes running pods in place, and evicts
		// only for a workload that asks for recreate-on-failure (and the
		// placer, when enabled, through the Eviction API): never a delete.
		"pods/resize": true, "pods/eviction": true}
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, o := range find(objs, kind) {
			var role rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
				t.Fatal(err)
			}
			for _, r := range role.Rules {
				for _, res := range r.Resources {
					if res == "secrets" || res == "*" {
						t.Errorf("%s %s grants %v on %s", kind, o.GetName(), r.Verbs, res)
					}
					for _, v := range r.Verbs {
						write := v != "get" && v != "list" && v != "watch"
						if v == "*" || (kind == "ClusterRole" && write && !clusterWrites[res]) || (v == "delete" && kind == "ClusterRole") {
							t.Errorf("ClusterRole grants %s on %s; cluster-wide writes are limited to %v, never delete", v, res, clusterWrites)
						}
					}
				}
			}
		}
	}

	checkSecureMetrics(t, objs)

	// Hardened pods.
	dep := one[appsv1.Deployment](t, objs, "Deployment")
	if *dep.Spec.Replicas != 1 {
		t.Errorf("replicas = %d, want 1 by default (the base is counted per replica)", *dep.Spec.Replicas)
	}
	psc := dep.Spec.Template.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v: want runAsNonRoot and seccomp RuntimeDefault", psc)
	}
	for _, c := range append(dep.Spec.Template.Spec.InitContainers, dep.Spec.Template.Spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			t.Errorf("container %s security context %+v: want read-only root, no privilege escalation, all capabilities dropped", c.Name, sc)
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			t.Errorf("container %s lacks probes", c.Name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("container %s lacks resource requests", c.Name)
		}
	}
	if a := dep.Spec.Template.Spec.Affinity; a == nil || a.PodAntiAffinity == nil {
		t.Error("manager pods have no anti-affinity by default")
	}

	// Certificates: the serving certificate covers the Service's DNS names,
	// and both webhook configurations ask cert-manager to inject its CA.
	svc := one[corev1.Service](t, objs, "Service")
	var serving *unstructured.Unstructured
	for _, c := range find(objs, "Certificate") {
		if isCA, _, _ := unstructured.NestedBool(c.Object, "spec", "isCA"); !isCA {
			serving = c
		}
	}
	if serving == nil {
		t.Fatal("no serving Certificate")
	}
	dns, _, _ := unstructured.NestedStringSlice(serving.Object, "spec", "dnsNames")
	if want := svc.Name + "." + releaseNS + ".svc"; !contains(dns, want) {
		t.Errorf("serving certificate DNS names %v lack %s", dns, want)
	}
	inject := releaseNS + "/" + serving.GetName()
	mut := one[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
	val := one[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	for name, ann := range map[string]map[string]string{"mutating": mut.Annotations, "validating": val.Annotations} {
		if got := ann["cert-manager.io/inject-ca-from"]; got != inject {
			t.Errorf("%s webhook configuration inject-ca-from = %q, want %q", name, got, inject)
		}
	}
	if cc := mut.Webhooks[0].ClientConfig; cc.Service == nil || cc.Service.Name != svc.Name || cc.URL != nil {
		t.Errorf("pod webhook client config %+v, want the Service %s", cc, svc.Name)
	}

	// The chart's webhooks are the ones the Go code defines, with the
	// release namespace also excluded.
	settings := config.DefaultSettings()
	settings.ExcludedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease", releaseNS}
	goMut, goVal := webhook.Configurations("x", settings, webhook.URLClientConfig("https://x", nil), webhook.DefaultTimeoutSeconds)
	compareWebhook(t, "pods", goMut.Webhooks[0].Rules, mut.Webhooks[0].Rules, goMut.Webhooks[0].NamespaceSelector, mut.Webhooks[0].NamespaceSelector,
		*goMut.Webhooks[0].FailurePolicy, *mut.Webhooks[0].FailurePolicy, goMut.Webhooks[0].Name, mut.Webhooks[0].Name)
	compareWebhook(t, "workloads", goVal.Webhooks[0].Rules, val.Webhooks[0].Rules, goVal.Webhooks[0].NamespaceSelector, val.Webhooks[0].NamespaceSelector,
		*goVal.Webhooks[0].FailurePolicy, *val.Webhooks[0].FailurePolicy, goVal.Webhooks[0].Name, val.Webhooks[0].Name)
	if !apiequality.Semantic.DeepEqual(goMut.Webhooks[0].ObjectSelector, mut.Webhooks[0].ObjectSelector) {
		t.Errorf("pod webhook objectSelector: chart %v, Go %v", mut.Webhooks[0].ObjectSelector, goMut.Webhooks[0].ObjectSelector)
	}
	if goMut.Webhooks[0].ClientConfig.URL == nil || !strings.HasSuffix(*goMut.Webhooks[0].ClientConfig.URL, *mut.Webhooks[0].ClientConfig.Service.Path) {
		t.Errorf("pod webhook path: chart %s, Go %s", *mut.Webhooks[0].ClientConfig.Service.Path, *goMut.Webhooks[0].ClientConfig.URL)
	}
	for _, to := range []int32{*mut.Webhooks[0].TimeoutSeconds, *val.Webhooks[0].TimeoutSeconds} {
		if to != webhook.DefaultTimeoutSeconds {
			t.Errorf("webhook timeout %d s, want the default %d s (webhook.DefaultTimeoutSeconds)", to, webhook.DefaultTimeoutSeconds)
		}
	}
	if *mut.Webhooks[0].SideEffects != admissionregistrationv1.SideEffectClassNone {
		t.Errorf("pod webhook side effects %s, want None", *mut.Webhooks[0].SideEffects)
	}
}

func compareWebhook(t *testing.T, name string, goRules, chartRules []admissionregistrationv1.RuleWithOperations, goSel, chartSel *metav1.LabelSelector, goFP, chartFP admissionregistrationv1.FailurePolicyType, goName, chartName string) {
	t.Helper()
	if !apiequality.Semantic.DeepEqual(goRules, chartRules) {
		t.Errorf("%s webhook rules: chart %v, Go %v", name, chartRules, goRules)
	}
	if !apiequality.Semantic.DeepEqual(goSel, chartSel) {
		t.Errorf("%s webhook namespaceSelector: chart %v, Go %v", name, chartSel, goSel)
	}
	if goFP != chartFP || goName != chartName {
		t.Errorf("%s webhook: chart %s/%s, Go %s/%s", name, chartName, chartFP, goName, goFP)
	}
}

func TestNonDefaultRender(t *testing.T) {
	objs := render(t, "--set", strings.Join([]string{
		"manager.replicas=3",
		"certManager.issuerRef.name=corp-ca", "certManager.issuerRef.kind=ClusterIssuer",
		"metrics.serviceMonitor.enabled=true", "metrics.dashboard.enabled=true",
		"webhook.url=https://127.0.0.1:19443", "webhook.timeoutSeconds=3",
		"settings.spotTaint=", "settings.capacityTypeLabel=eks.amazonaws.com/capacityType",
	}, ","))
	if n := len(find(objs, "Issuer")); n != 0 {
		t.Errorf("with issuerRef set the chart still creates %d Issuers", n)
	}
	if len(find(objs, "ServiceMonitor")) != 1 || len(find(objs, "ConfigMap")) != 1 {
		t.Error("ServiceMonitor or dashboard ConfigMap missing")
	}
	mut := one[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
	if cc := mut.Webhooks[0].ClientConfig; cc.URL == nil || *cc.URL != "https://127.0.0.1:19443/mutate-v1-pod" || cc.Service != nil {
		t.Errorf("pod webhook client config with webhook.url: %+v", cc)
	}
	dep := one[appsv1.Deployment](t, objs, "Deployment")
	args := strings.Join(dep.Spec.Template.Spec.Containers[0].Args, " ")
	for _, want := range []string{"--spot-taint= ", "--capacity-type-label=eks.amazonaws.com/capacityType"} {
		if !strings.Contains(args+" ", want) {
			t.Errorf("manager args %q lack %q", args, want)
		}
	}
}

// checkSecureMetrics: by default the manager serves metrics over HTTPS on
// the Service's metrics port (8443) to authorized scrapers only: it may
// create TokenReviews and SubjectAccessReviews, and a metrics-reader
// ClusterRole grants get on /metrics.
func checkSecureMetrics(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	dep := one[appsv1.Deployment](t, objs, "Deployment")
	args := strings.Join(dep.Spec.Template.Spec.Containers[0].Args, " ")
	for _, want := range []string{"--metrics-bind-address=:8443", "--metrics-secure=true"} {
		if !strings.Contains(args, want) {
			t.Errorf("manager args %q lack %q", args, want)
		}
	}
	svc := one[corev1.Service](t, objs, "Service")
	found := false
	for _, p := range svc.Spec.Ports {
		if p.Name == "metrics" {
			found = p.Port == 8443 && p.TargetPort.String() == "metrics"
		}
	}
	if !found {
		t.Errorf("Service ports %+v: want metrics on 8443", svc.Spec.Ports)
	}
	var manager, reader bool
	for _, o := range find(objs, "ClusterRole") {
		var role rbacv1.ClusterRole
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
			t.Fatal(err)
		}
		for _, r := range role.Rules {
			switch {
			case contains(r.Resources, "tokenreviews") && contains(r.Verbs, "create"):
				manager = true
			case contains(r.NonResourceURLs, "/metrics") && contains(r.Verbs, "get") && len(r.Verbs) == 1:
				reader = strings.HasSuffix(role.Name, "-metrics-reader")
			}
		}
	}
	if !manager || !reader {
		t.Errorf("RBAC: manager may create tokenreviews %v, a *-metrics-reader ClusterRole grants get /metrics %v; want both", manager, reader)
	}
}

// A typo in values fails the install, naming the key; invalid combinations
// fail naming the fix.
func TestBadValuesRejected(t *testing.T) {
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"manager.replica=3", []string{"replica"}},
		{"webhok.port=9443", []string{"webhok"}},
		{"webhook.timeoutSeconds=60", []string{"timeoutSeconds"}},
		{"webhook.pods.failurePolicy=Sometimes", []string{"failurePolicy"}},
		{"settings.spotTaint=spot", []string{"spotTaint"}},
		{"manager.replicas=2,manager.leaderElection=false", []string{"manager.leaderElection=true"}},
		{"manager.podDisruptionBudget.enabled=true", []string{"would block every node drain"}},
		{"manager.replicas=2,manager.podDisruptionBudget.enabled=true,manager.podDisruptionBudget.minAvailable=2", []string{"would block every node drain"}},
		{"certManager.enabled=false", []string{"Install cert-manager"}},
		{"webhook.url=http://127.0.0.1:9443", []string{"must start with https://"}},
		{"webhook.pods.failurePolicy=Fail,settings.excludedNamespaces=null", []string{"webhook.pods.failurePolicy=Fail", "settings.excludedNamespaces=[]", "kube-system"}},
		{"webhook.pods.failurePolicy=Fail,settings.excludedNamespaces={kube-public}", []string{"webhook.pods.failurePolicy=Fail", `["kube-public"]`, "kube-system"}},
	} {
		refused(t, tc.set, tc.want...)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// The pod webhook may fail closed when kube-system stays excluded.
func TestFailPolicyWithSystemNamespacesExcluded(t *testing.T) {
	objs := render(t, "--set", "webhook.pods.failurePolicy=Fail")
	mut := one[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
	if *mut.Webhooks[0].FailurePolicy != admissionregistrationv1.Fail {
		t.Errorf("pod webhook failurePolicy %s, want Fail", *mut.Webhooks[0].FailurePolicy)
	}
}

// metrics.secure=false drops the review permissions and the reader role;
// networkPolicy.enabled admits the metrics port only from metricsFrom.
func TestMetricsAndNetworkPolicyValues(t *testing.T) {
	objs := render(t, "--set", "metrics.secure=false")
	if n := len(find(objs, "ClusterRole")); n != 1 {
		t.Errorf("metrics.secure=false rendered %d ClusterRoles, want the manager's only", n)
	}
	for _, o := range find(objs, "ClusterRole") {
		var role rbacv1.ClusterRole
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
			t.Fatal(err)
		}
		for _, r := range role.Rules {
			if contains(r.Resources, "tokenreviews") || contains(r.Resources, "subjectaccessreviews") {
				t.Errorf("metrics.secure=false still grants %v on %v", r.Verbs, r.Resources)
			}
		}
	}
	dep := one[appsv1.Deployment](t, objs, "Deployment")
	if args := strings.Join(dep.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--metrics-secure=false") {
		t.Errorf("manager args %q lack --metrics-secure=false", args)
	}

	objs = render(t, "--set", "networkPolicy.enabled=true,networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring")
	np := one[networkingv1.NetworkPolicy](t, objs, "NetworkPolicy")
	if len(np.Spec.Ingress) != 2 {
		t.Fatalf("NetworkPolicy ingress %+v: want the webhook/health rule and the metrics rule", np.Spec.Ingress)
	}
	open, metrics := np.Spec.Ingress[0], np.Spec.Ingress[1]
	if len(open.From) != 0 || len(open.Ports) != 2 || open.Ports[0].Port.String() != "webhook" || open.Ports[1].Port.String() != "health" {
		t.Errorf("first ingress rule %+v: want webhook and health from anywhere", open)
	}
	if len(metrics.Ports) != 1 || metrics.Ports[0].Port.String() != "metrics" || len(metrics.From) != 1 ||
		metrics.From[0].NamespaceSelector == nil || metrics.From[0].NamespaceSelector.MatchLabels["team"] != "monitoring" {
		t.Errorf("metrics ingress rule %+v: want port metrics from namespaces labelled team=monitoring", metrics)
	}
	objs = render(t, "--set", "networkPolicy.enabled=true")
	if np := one[networkingv1.NetworkPolicy](t, objs, "NetworkPolicy"); len(np.Spec.Ingress) != 1 {
		t.Errorf("NetworkPolicy without metricsFrom: ingress %+v, want only webhook and health", np.Spec.Ingress)
	}
}

// refused checks that the chart refuses to render with --set set, and that
// its error mentions each of want.
func refused(t *testing.T, set string, want ...string) {
	t.Helper()
	out, err := runHelm(t, append(templateArgs(), "--set", set)...)
	if err == nil {
		t.Errorf("--set %s rendered; want it refused", set)
		return
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("--set %s: error does not mention %q:\n%s", set, w, out)
		}
	}
}
