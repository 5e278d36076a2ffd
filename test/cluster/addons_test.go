package cluster

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

func TestPrometheusConfig(t *testing.T) {
	for _, c := range []struct {
		targets []string
		want    []string // substrings of the rendered config
		err     string   // substring of the error; "" for none
	}{
		{targets: []string{"127.0.0.1:9100"}, want: []string{"job_name: 127.0.0.1:9100/metrics", "scheme: http\n", "- 127.0.0.1:9100", "scrape_interval: 1s"}},
		{targets: []string{"https://127.0.0.1:16443/metrics"}, want: []string{"scheme: https", "cert_file: /pki/admin.crt", "insecure_skip_verify: true"}},
		{targets: []string{"http://localhost:8080/custom"}, want: []string{"metrics_path: /custom"}},
		{targets: nil, want: []string{"scrape_configs: []"}},
		{targets: []string{"http://10.0.0.1:8080/metrics"}, err: `host "10.0.0.1" is not loopback`},
		{targets: []string{"ftp://127.0.0.1:21"}, err: `scheme "ftp"`},
		{targets: []string{"127.0.0.1"}, err: "want host:port"},
		{targets: []string{"127.0.0.1:1", "http://127.0.0.1:1/metrics"}, want: []string{"scrape_configs:\n- job_name: 127.0.0.1:1/metrics"}},
		{targets: []string{"127.0.0.1:1/m?x=1"}, err: "query"},
	} {
		t.Run(strings.Join(c.targets, ","), func(t *testing.T) {
			var got []byte
			norm, err := normalizeTargets(c.targets)
			if err == nil {
				got, err = prometheusConfig(norm, "/pki/admin.crt", "/pki/admin.key", "")
			}
			if c.err == "" && strings.Count(string(got), "job_name") != len(norm) {
				t.Errorf("want one job per unique target %v:\n%s", norm, got)
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("config lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestPrometheusConfigKwokNodes: kwok's node metrics are found through its
// HTTP service discovery and each target is told apart by a node label.
func TestPrometheusConfigKwokNodes(t *testing.T) {
	got, err := prometheusConfig(nil, "/pki/admin.crt", "/pki/admin.key", "http://127.0.0.1:16446/discovery/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"job_name: kwok-nodes", "url: http://127.0.0.1:16446/discovery/prometheus",
		"- __metrics_path__", "regex: /metrics/nodes/([^/]+)/.*", "target_label: node", "replacement: $1",
	} {
		if !strings.Contains(string(got), w) {
			t.Errorf("config lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(string(got), "static_configs") {
		t.Errorf("the kwok job has no static targets:\n%s", got)
	}
}

func TestScrapeLabels(t *testing.T) {
	for _, c := range []struct{ target, job, instance, err string }{
		{target: "127.0.0.1:9400", job: "127.0.0.1:9400/metrics", instance: "127.0.0.1:9400"},
		{target: "http://127.0.0.1:9400/custom", job: "127.0.0.1:9400/custom", instance: "127.0.0.1:9400"},
		{target: "http://10.0.0.1:9400", err: "not loopback"},
	} {
		got, err := ScrapeLabels(c.target)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want an error containing %q", c.target, err, c.err)
			}
			continue
		}
		if err != nil || got["job"] != c.job || got["instance"] != c.instance || len(got) != 2 {
			t.Errorf("%s: got %v, %v; want job %s instance %s", c.target, got, err, c.job, c.instance)
		}
	}
	// The job name is the one prometheusConfig gives the target.
	conf, err := prometheusConfig([]string{"http://127.0.0.1:9400/metrics"}, "", "", "")
	if err != nil || !strings.Contains(string(conf), "job_name: 127.0.0.1:9400/metrics") {
		t.Errorf("prometheusConfig names the job otherwise: %v\n%s", err, conf)
	}
}

func TestFirstSample(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, body, sel string
		at              float64
		err             string
	}{
		{"labels", "# HELP m x\n# TYPE m gauge\nm{a=\"x y\",b=\"q\\\"\"} 1.5 1700000000.25\nm{a=\"z\"} 2 1700000060\n# EOF\n", `m{a="x y",b="q\""}`, 1700000000.25, ""},
		{"no labels, exemplar", "m 1 1700000000 # {trace_id=\"1\"} 1 1700000000\n# EOF\n", "m", 1700000000, ""},
		{"no timestamp", "m 1\n# EOF\n", "", 0, "no timestamp"},
		{"no samples", "# EOF\n", "", 0, "no samples"},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
		if err := os.WriteFile(f, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		sel, at, err := firstSample(f)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || sel != c.sel || at != c.at {
			t.Errorf("%s: got %q %v %v, want %q %v", c.name, sel, at, err, c.sel, c.at)
		}
	}
}

// TestCertManager proves the cert-manager add-on: a self-signed Issuer issues a
// Certificate into a Secret, and the cainjector copies its CA into a webhook
// configuration annotated cert-manager.io/inject-ca-from.
func TestCertManager(t *testing.T) {
	cl := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	if err := cl.StartCertManager(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("StartCertManager: %.1fs", time.Since(start).Seconds())
	// A second call reuses the running add-ons.
	start = time.Now()
	if err := cl.StartCertManager(ctx); err != nil {
		t.Fatalf("second StartCertManager: %v", err)
	}
	t.Logf("StartCertManager again (reuse): %.2fs", time.Since(start).Seconds())

	cfg, err := cl.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "certmanager-test-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})

	start = time.Now()
	for _, o := range []struct {
		resource string
		obj      map[string]any
	}{
		{"issuers", map[string]any{
			"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
			"metadata": map[string]any{"name": "selfsigned", "namespace": ns.Name},
			"spec":     map[string]any{"selfSigned": map[string]any{}},
		}},
		{"certificates", map[string]any{
			"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
			"metadata": map[string]any{"name": "serving", "namespace": ns.Name},
			"spec": map[string]any{
				"secretName": "serving-tls", "dnsNames": []any{"svc." + ns.Name + ".svc"},
				"issuerRef": map[string]any{"name": "selfsigned", "kind": "Issuer"},
			},
		}},
	} {
		gvr := certificateGVR
		gvr.Resource = o.resource
		if _, err := dyn.Resource(gvr).Namespace(ns.Name).Create(ctx, &unstructured.Unstructured{Object: o.obj}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s: %v", o.resource, err)
		}
	}
	poll(t, ctx, "Certificate Ready", func() error { return certificateReady(ctx, dyn, ns.Name, "serving") })
	secret, err := cs.CoreV1().Secrets(ns.Name).Get(ctx, "serving-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if len(secret.Data[k]) == 0 {
			t.Errorf("Secret serving-tls has no %s", k)
		}
	}
	t.Logf("Issuer + Certificate to Ready with Secret: %.2fs", time.Since(start).Seconds())

	start = time.Now()
	mwc := mutatingNeverCalled("certmanager-test-"+ns.Name, ns.Name+"/serving")
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, mwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(context.Background(), mwc.Name, metav1.DeleteOptions{})
	})
	poll(t, ctx, "caBundle injected", func() error {
		got, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, mwc.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if b := got.Webhooks[0].ClientConfig.CABundle; !bytes.Equal(b, secret.Data["ca.crt"]) {
			return fmt.Errorf("caBundle is %d bytes, want the Secret's ca.crt (%d bytes)", len(b), len(secret.Data["ca.crt"]))
		}
		return nil
	})
	t.Logf("cainjector filled caBundle: %.2fs", time.Since(start).Seconds())
}

// mutatingNeverCalled is NeverCalledWebhook as a MutatingWebhookConfiguration.
func mutatingNeverCalled(name, injectFrom string) *admissionv1.MutatingWebhookConfiguration {
	v := NeverCalledWebhook(name, injectFrom)
	w := v.Webhooks[0]
	return &admissionv1.MutatingWebhookConfiguration{
		ObjectMeta: v.ObjectMeta,
		Webhooks: []admissionv1.MutatingWebhook{{
			Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules, NamespaceSelector: w.NamespaceSelector,
			FailurePolicy: w.FailurePolicy, SideEffects: w.SideEffects, TimeoutSeconds: w.TimeoutSeconds,
			AdmissionReviewVersions: w.AdmissionReviewVersions,
		}},
	}
}

// TestPrometheus serves a gauge on 127.0.0.1, has the Prometheus add-on scrape
// it and reads the value back through Prometheus's HTTP API.
func TestPrometheus(t *testing.T) {
	cl := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	first, want := serveGauge(t)
	start := time.Now()
	base, err := cl.StartPrometheus(ctx, []string{"http://" + first + "/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartPrometheus: %.2fs", time.Since(start).Seconds())
	client, err := promapi.NewClient(promapi.Config{Address: base})
	if err != nil {
		t.Fatal(err)
	}
	api := promv1.NewAPI(client)
	waitForValue(t, ctx, api, first, want)
	t.Logf("scraped value queried back: %.2fs after start", time.Since(start).Seconds())

	// Another caller's target is added by a reload, not a restart, and the
	// first target keeps being scraped.
	prom, _ := cl.addon(prometheusName)
	second, want2 := serveGauge(t)
	start = time.Now()
	again, err := cl.StartPrometheus(ctx, []string{second})
	if err != nil || again != base {
		t.Fatalf("StartPrometheus with another target: %q, %v; want %q", again, err, base)
	}
	if p, ok := cl.addon(prometheusName); !ok || p.PID != prom.PID {
		t.Fatalf("prometheus was restarted (pid %d -> %d), want a reload", prom.PID, p.PID)
	}
	waitForValue(t, ctx, api, second, want2)
	t.Logf("second target added by reload and queried back: %.2fs", time.Since(start).Seconds())
	targets, err := api.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	active := map[string]bool{}
	for _, at := range targets.Active {
		active[at.ScrapeURL] = true
	}
	for _, addr := range []string{first, second} {
		if !active["http://"+addr+"/metrics"] {
			t.Errorf("target %s not active after the reload; active: %v", addr, active)
		}
	}
}

// serveGauge serves trimtab_addon_test_value on 127.0.0.1 until the test ends
// and returns its address and value.
func serveGauge(t *testing.T) (addr string, value float64) {
	reg := prometheus.NewRegistry()
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "trimtab_addon_test_value", Help: "A value the test reads back."})
	reg.MustRegister(gauge)
	value = float64(time.Now().UnixNano()%1000 + 1)
	gauge.Set(value)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), value
}

// waitForValue polls Prometheus until the gauge scraped from instance has want.
func waitForValue(t *testing.T, ctx context.Context, api promv1.API, instance string, want float64) {
	t.Helper()
	query := fmt.Sprintf(`trimtab_addon_test_value{instance=%q}`, instance)
	poll(t, ctx, "Prometheus has the value scraped from "+instance, func() error {
		v, _, _, err := api.Query(ctx, query, time.Now())
		if err != nil {
			return err
		}
		vec, ok := v.(model.Vector)
		if !ok || len(vec) != 1 {
			return fmt.Errorf("query %s returned %v", query, v)
		}
		if float64(vec[0].Value) != want {
			return fmt.Errorf("got %v, want %v", vec[0].Value, want)
		}
		return nil
	})
}

// poll retries check every 100 ms until it succeeds or ctx ends.
func poll(t *testing.T, ctx context.Context, what string, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: gave up: %v", what, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestAddonsLifecycle runs a second, isolated control plane (own directory and
// ports, one node) to prove that add-ons never decide the core cluster's
// health, that a dead add-on is restarted by the next Start call, and that
// Down stops add-ons and core processes by PID.
func TestAddonsLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second control plane (~10 s of CPU); skipped with -short")
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := DefaultConfig(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = filepath.Join(t.TempDir(), "cluster")
	cfg.shiftPorts(1000) // beside the shared cluster's ports
	cfg.Nodes = cfg.Nodes[:1]
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cl, err := Up(ctx, cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Down() })
	t.Logf("Up: %.1fs", time.Since(start).Seconds())
	start = time.Now()
	if err := cl.StartCertManager(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("StartCertManager on a fresh cluster: %.1fs", time.Since(start).Seconds())
	apiserver := fmt.Sprintf("https://127.0.0.1:%d/metrics", cfg.APIServerPort)
	if _, err := cl.StartPrometheus(ctx, []string{apiserver}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := cl.StartPrometheusAdapter(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("StartPrometheusAdapter on a fresh cluster: %.1fs", time.Since(start).Seconds())
	if len(cl.Addons) != 4 {
		t.Fatalf("recorded add-ons %+v, want controller, cainjector, prometheus and prometheus-adapter", cl.Addons)
	}

	prom, ok := cl.addon(prometheusName)
	if !ok {
		t.Fatal("prometheus not running")
	}
	if err := prom.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, healthy, err := Status(ctx, cfg); err != nil || !healthy {
		t.Fatalf("core cluster unhealthy after an add-on died: %v", err)
	}
	if _, err := cl.StartPrometheus(ctx, []string{apiserver}); err != nil {
		t.Fatalf("restarting a dead prometheus: %v", err)
	}
	if p, ok := cl.addon(prometheusName); !ok || p.PID == prom.PID {
		t.Fatalf("prometheus not restarted: %+v", p)
	}

	// Down, from the recorded state as `localcluster down` does it.
	all := append(append([]Process{}, cl.Processes...), cl.Addons...)
	if err := DownDir(cfg); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.alive() {
			t.Errorf("%s (pid %d) still runs after Down", p.Name, p.PID)
		}
	}
	if _, err := os.Stat(cfg.Dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Down: %v", cfg.Dir, err)
	}
}
