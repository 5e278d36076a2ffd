package charts_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	promparser "github.com/prometheus/prometheus/promql/parser"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/trimtab-dev/trimtab/internal/chartdoc"
)

var sha = "sha256:" + strings.Repeat("0123456789abcdef", 4)

// The image reference: repository and tag (appVersion by default), pinned
// by digest when one is given.
func TestImageValues(t *testing.T) {
	for _, tc := range []struct {
		set        []string
		image      string
		pullPolicy corev1.PullPolicy
	}{
		{nil, "ghcr.io/trimtab-dev/trimtab:0.1.0", corev1.PullIfNotPresent},
		{[]string{"image.tag=v0.2.0-rc.1", "image.pullPolicy=Always"}, "ghcr.io/trimtab-dev/trimtab:v0.2.0-rc.1", corev1.PullAlways},
		{[]string{"image.repository=registry.example/t", "image.digest=" + sha}, "registry.example/t:0.1.0@" + sha, corev1.PullIfNotPresent},
	} {
		var args []string
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		c := one[appsv1.Deployment](t, render(t, args...), "Deployment").Spec.Template.Spec.Containers[0]
		if c.Image != tc.image || c.ImagePullPolicy != tc.pullPolicy {
			t.Errorf("--set %v: image %q %s, want %q %s", tc.set, c.Image, c.ImagePullPolicy, tc.image, tc.pullPolicy)
		}
	}
}

// Bad image references and ports are refused, naming the value.
func TestBadImageValuesRejected(t *testing.T) {
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"image.digest=sha256:abc", []string{`image.digest="sha256:abc"`, "64 lowercase hex"}},
		{"image.digest=md5:" + strings.Repeat("a", 32), []string{"image.digest=", "is not a sha256 digest"}},
		{"image.digest=" + strings.ToUpper(sha), []string{"is not a sha256 digest"}},
		{"image.tag=v1 beta", []string{`image.tag="v1 beta"`, "no spaces"}},
		{"image.tag=-v1", []string{`image.tag="-v1"`}},
		{"healthProbe.port=9443", []string{"webhook.port=9443", "healthProbe.port=9443", "must differ"}},
		{"manager.extraArgs[0]=zap-devel", []string{"extraArgs"}},
		{"nameOverride=" + strings.Repeat("n", 64), []string{"nameOverride"}},
	} {
		refused(t, tc.set, tc.want...)
	}
}

// nameOverride and fullnameOverride rename every object; additionalLabels
// land on every object.
func TestNamesAndLabels(t *testing.T) {
	objs := render(t, "--set", "fullnameOverride=tt,additionalLabels.team=platform")
	for _, o := range objs {
		if o.GetLabels()["team"] != "platform" {
			t.Errorf("%s %s lacks the additional label team=platform", o.GetKind(), o.GetName())
		}
		if !strings.HasPrefix(o.GetName(), "tt") && o.GetKind() != "CustomResourceDefinition" {
			t.Errorf("%s %s: fullnameOverride=tt not applied", o.GetKind(), o.GetName())
		}
	}
	dep := one[appsv1.Deployment](t, render(t, "--set", "nameOverride=scaler"), "Deployment")
	if dep.Name != "trimtab-scaler" || dep.Labels["app.kubernetes.io/name"] != "scaler" {
		t.Errorf("nameOverride=scaler: Deployment %s labelled name=%s, want trimtab-scaler and scaler", dep.Name, dep.Labels["app.kubernetes.io/name"])
	}
}

// The pod-level knobs: hostNetwork with its own ports, spread
// constraints, priority class, extra args and env.
func TestPodValues(t *testing.T) {
	dep := one[appsv1.Deployment](t, render(t,
		"--set", "manager.hostNetwork=true,webhook.port=10250,metrics.port=10251,healthProbe.port=10252",
		"--set", "manager.priorityClassName=system-cluster-critical",
		"--set", "manager.topologySpreadConstraints[0].maxSkew=1,manager.topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone,manager.topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
		"--set", "manager.extraArgs={--zap-devel,--requests-resizes-per-minute=5}",
		"--set", "manager.extraEnv[0].name=GOMEMLIMIT,manager.extraEnv[0].value=200MiB",
	), "Deployment")
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if !pod.HostNetwork || pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v dnsPolicy %q, want true and ClusterFirstWithHostNet", pod.HostNetwork, pod.DNSPolicy)
	}
	args := strings.Join(c.Args, " ")
	for _, w := range []string{"--webhook-port=10250", "--metrics-bind-address=:10251", "--health-probe-bind-address=:10252", "--zap-devel", "--requests-resizes-per-minute=5"} {
		if !strings.Contains(args, w) {
			t.Errorf("args %q lack %s", args, w)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["webhook"] != 10250 || ports["metrics"] != 10251 || ports["health"] != 10252 {
		t.Errorf("container ports %v, want webhook 10250, metrics 10251, health 10252", ports)
	}
	if pod.PriorityClassName != "system-cluster-critical" {
		t.Errorf("priorityClassName %q", pod.PriorityClassName)
	}
	if len(pod.TopologySpreadConstraints) != 1 || pod.TopologySpreadConstraints[0].TopologyKey != "topology.kubernetes.io/zone" {
		t.Errorf("topologySpreadConstraints %+v", pod.TopologySpreadConstraints)
	}
	if n := len(c.Env); n != 2 || c.Env[1].Name != "GOMEMLIMIT" || c.Env[1].Value != "200MiB" {
		t.Errorf("env %+v: want POD_NAMESPACE then GOMEMLIMIT=200MiB", c.Env)
	}
	def := one[appsv1.Deployment](t, render(t), "Deployment").Spec.Template.Spec
	if def.HostNetwork || len(def.TopologySpreadConstraints) != 0 || def.PriorityClassName != "" {
		t.Errorf("defaults: hostNetwork %v, spread %v, priority %q; want none", def.HostNetwork, def.TopologySpreadConstraints, def.PriorityClassName)
	}
}

// The PrometheusRule: off by default; on, three alerts whose expressions
// parse as PromQL and name the metrics trimtab and the apiserver export.
func TestPrometheusRule(t *testing.T) {
	if n := len(find(render(t), "PrometheusRule")); n != 0 {
		t.Errorf("default render has %d PrometheusRules, want none", n)
	}
	objs := render(t, "--set", "metrics.prometheusRule.enabled=true,metrics.prometheusRule.labels.release=kps", "--set-json", "metrics.prometheusRule.latencyThresholdSeconds=0.25")
	rules := find(objs, "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(rules))
	}
	if rules[0].GetLabels()["release"] != "kps" {
		t.Errorf("PrometheusRule labels %v lack release=kps", rules[0].GetLabels())
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	want := map[string]string{
		"TrimtabWebhookErrors":   `trimtab_pod_admissions_total{outcome="error"}`,
		"TrimtabWebhookFailOpen": "apiserver_admission_webhook_fail_open_count",
		"TrimtabAdmissionSlow":   "trimtab_pod_admission_duration_seconds_bucket",
	}
	p := promparser.NewParser(promparser.Options{})
	for _, g := range groups {
		rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rs {
			r := r.(map[string]any)
			name, expr := r["alert"].(string), r["expr"].(string)
			metric, ok := want[name]
			if !ok {
				t.Errorf("unexpected alert %s", name)
				continue
			}
			delete(want, name)
			if _, err := p.ParseExpr(expr); err != nil {
				t.Errorf("alert %s: expr %q: %v", name, expr, err)
			}
			if !strings.Contains(expr, metric) {
				t.Errorf("alert %s: expr %q does not read %s", name, expr, metric)
			}
			if name == "TrimtabAdmissionSlow" && !strings.HasSuffix(expr, "> 0.25") {
				t.Errorf("alert %s: expr %q ignores latencyThresholdSeconds=0.25", name, expr)
			}
		}
	}
	for name := range want {
		t.Errorf("alert %s missing", name)
	}
}

// The chart README is what hack/chartreadme writes from values.yaml.
func TestChartREADMECurrent(t *testing.T) {
	values, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := chartdoc.README(values)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s/README.md is stale: run `go run ./hack/chartreadme` and commit it", chartDir)
	}
}
