package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// TestHelmInstall installs the chart with real cert-manager running and
// follows the whole chain: the chart's Certificate becomes Ready, the
// cainjector fills caBundle in both webhook configurations, and the
// apiserver calls a trimtab manager serving the Secret cert-manager issued,
// trusting the injected CA (the chart's webhooks re-pointed at it by the
// webhook.url development switch, because kwok pods run no containers). The
// manager runs with the chart's own ServiceAccount token, so the chart's RBAC
// is proven sufficient. A real Prometheus scrapes its metrics and is queried
// back. helm upgrade keeps the CA injected; helm uninstall leaves nothing of
// the chart's behind.
func TestHelmInstall(t *testing.T) {
	ctx := context.Background()
	cl := cluster.Start(t)
	if err := cl.StartCertManager(ctx); err != nil {
		t.Fatalf("starting cert-manager: %v", err)
	}
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	adminCfg, err := cl.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(adminCfg)
	if err != nil {
		t.Fatal(err)
	}

	release := "trimtab-e2e"
	ns := "trimtab-e2e-" + rand.String(5)
	port := freePort(t)
	metricsPort := freePort(t)
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })

	adoptCRDs(t, release, ns)
	out, err := helmCmd(t, cl, "install", release, chartPath(t), "--namespace", ns, "--create-namespace",
		"--set", "webhook.url="+url, "--wait=false")
	if err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	uninstalled := false
	t.Cleanup(func() {
		if !uninstalled {
			_, _ = helmCmd(t, cl, "uninstall", release, "--namespace", ns)
		}
	})
	if !strings.Contains(out, "kubectl label namespace") {
		t.Errorf("helm install printed no next steps (NOTES.txt):\n%s", out)
	}

	// Certificate → Secret.
	certs := schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	eventually(t, 60*time.Second, func() error {
		c, err := dyn.Resource(certs).Namespace(ns).Get(ctx, release+"-webhook", metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructuredSlice(c.Object, "status", "conditions")
		for _, cond := range conds {
			if cond["type"] == "Ready" && cond["status"] == "True" {
				return nil
			}
		}
		return fmt.Errorf("certificate %s/%s-webhook not Ready: %v", ns, release, conds)
	})
	secret, err := cs.CoreV1().Secrets(ns).Get(ctx, release+"-webhook-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("cert-manager issued no Secret: %v", err)
	}
	ca := secret.Data["ca.crt"]
	if len(ca) == 0 || len(secret.Data["tls.crt"]) == 0 || len(secret.Data["tls.key"]) == 0 {
		t.Fatalf("Secret %s lacks ca.crt, tls.crt or tls.key", secret.Name)
	}

	// Secret → caBundle, in both configurations.
	eventually(t, 60*time.Second, func() error { return caInjected(ctx, cl, release, ca) })

	// caBundle → AdmissionReview: the manager serves the issued certificate,
	// as the chart's ServiceAccount.
	certDir := t.TempDir()
	for _, f := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(certDir, f), secret.Data[f], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	saCfg := serviceAccountConfig(t, ctx, cl, adminCfg, ns, release)
	checkChartMetricsRBAC(t, ctx, &env{cs: cs, namespace: ns}, saCfg, release)
	mgr, err := manager.New(saCfg, manager.Options{
		Settings:                config.DefaultSettings(),
		MetricsAddr:             fmt.Sprintf("127.0.0.1:%d", metricsPort),
		ProbeAddr:               "0",
		WebhookHost:             "127.0.0.1",
		WebhookPort:             port,
		CertDir:                 certDir,
		LeaderElect:             true,
		LeaderElectionNamespace: ns,
	})
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
	t.Cleanup(stop)
	select {
	case <-mgr.Elected():
	case err := <-done:
		t.Fatalf("manager with the chart's ServiceAccount exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the manager, with the chart's RBAC, never won leader election")
	}

	// The run label keeps a `make run`/demo manager's webhooks away; the
	// chart's webhooks select the namespace by the opt-in label alone.
	e := newEnv(t, map[string]string{config.NamespaceLabel: config.NamespaceLabelValue, runLabel: release})
	e.waitActive(t)
	dep := deployment("web", 3, map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.waitRunning(t, "app=web", 3) {
		if p.Labels[mutating.LabelPlacement] != "spot" {
			t.Errorf("pod %s was not placed through the chart's webhook: labels %v", p.Name, p.Labels)
		}
	}

	// Prometheus scrapes the manager; the admission metrics come back.
	promURL, err := cl.StartPrometheus(ctx, []string{fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := promapi.NewClient(promapi.Config{Address: promURL})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		v, _, _, err := promv1.NewAPI(pc).Query(ctx, `sum(trimtab_pod_admissions_total{outcome="placed",placement="spot"})`, time.Now())
		if err != nil {
			return err
		}
		if vec, ok := v.(model.Vector); !ok || len(vec) != 1 || vec[0].Value < 3 {
			return fmt.Errorf("prometheus returned %v, want ≥ 3 spot placements", v)
		}
		return nil
	})

	// helm upgrade: the new value lands and the CA stays injected.
	if out, err := helmCmd(t, cl, "upgrade", release, chartPath(t), "--namespace", ns, "--reuse-values", "--set", "webhook.timeoutSeconds=3"); err != nil {
		t.Fatalf("helm upgrade: %v\n%s", err, out)
	}
	eventually(t, 30*time.Second, func() error {
		m, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if *m.Webhooks[0].TimeoutSeconds != 3 {
			return fmt.Errorf("timeout %d after upgrade, want 3", *m.Webhooks[0].TimeoutSeconds)
		}
		return caInjected(ctx, cl, release, ca)
	})

	// Stop the manager first: it records a leader-election Event on its way
	// out, with RBAC the uninstall removes.
	stop()

	// helm uninstall: nothing labelled with the release remains. The Secrets
	// cert-manager issued are cert-manager's (it sets no owner reference by
	// default), so they are the documented exception.
	if out, err := helmCmd(t, cl, "uninstall", release, "--namespace", ns, "--wait"); err != nil {
		t.Fatalf("helm uninstall: %v\n%s", err, out)
	}
	uninstalled = true
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release}
	var left []string
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Version: "v1", Resource: "services"},
		{Version: "v1", Resource: "serviceaccounts"},
		{Version: "v1", Resource: "configmaps"},
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"},
		{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"},
		{Group: "cert-manager.io", Version: "v1", Resource: "certificates"},
		{Group: "cert-manager.io", Version: "v1", Resource: "issuers"},
	} {
		list, err := dyn.Resource(gvr).List(ctx, sel)
		if err != nil {
			t.Fatalf("listing %s: %v", gvr.Resource, err)
		}
		for _, o := range list.Items {
			left = append(left, gvr.Resource+"/"+o.GetName())
		}
	}
	if len(left) > 0 {
		t.Errorf("helm uninstall left %v", left)
	}
	// The documented exception: cert-manager keeps the Secrets it issued,
	// labelled so the README's one command removes them.
	secrets, err := cs.CoreV1().Secrets(ns).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range secrets.Items {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	if want := []string{release + "-ca", release + "-webhook-tls"}; !slices.Equal(names, want) {
		t.Errorf("Secrets labelled with the release after uninstall: %v, want exactly cert-manager's %v", names, want)
	}
}

// helmCmd runs the helm tools/build.sh built against the local cluster.
func helmCmd(t *testing.T, cl *cluster.Cluster, args ...string) (string, error) {
	t.Helper()
	bin, err := cl.Config.Helm()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(bin, append([]string{"--kubeconfig", cl.Config.Kubeconfig()}, args...)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

func chartPath(t *testing.T) string {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "charts", "trimtab")
}

// caInjected checks both webhook configurations carry ca as their caBundle.
func caInjected(ctx context.Context, cl *cluster.Cluster, name string, ca []byte) error {
	cs, err := cl.Clientset()
	if err != nil {
		return err
	}
	m, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	v, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !bytes.Equal(m.Webhooks[0].ClientConfig.CABundle, ca) || !bytes.Equal(v.Webhooks[0].ClientConfig.CABundle, ca) {
		return fmt.Errorf("caBundle not injected yet (mutating %d bytes, validating %d bytes)", len(m.Webhooks[0].ClientConfig.CABundle), len(v.Webhooks[0].ClientConfig.CABundle))
	}
	return nil
}

// serviceAccountConfig returns a client configuration that authenticates as
// the chart's ServiceAccount, with a token from the TokenRequest API.
func serviceAccountConfig(t *testing.T, ctx context.Context, cl *cluster.Cluster, admin *rest.Config, ns, sa string) *rest.Config {
	t.Helper()
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	var tok *authenticationv1.TokenRequest
	eventually(t, 30*time.Second, func() error {
		var err error
		tok, err = cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrInt64(3600)},
		}, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("ServiceAccount %s/%s not there yet", ns, sa)
		}
		return err
	})
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = tok.Status.Token
	cfg.QPS, cfg.Burst = admin.QPS, admin.Burst
	return cfg
}

func ptrInt64(v int64) *int64 { return &v }

func unstructuredSlice(obj map[string]any, fields ...string) ([]map[string]any, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur = m[f]
	}
	list, ok := cur.([]any)
	if !ok {
		return nil, false, nil
	}
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out, true, nil
}

// trimtabCRDs are the CRDs the chart installs and keeps on uninstall.
var trimtabCRDs = []string{"decisions.trimtab.dev", "decisioncheckpoints.trimtab.dev"}

// adoptCRDs hands trimtab's CRDs, when the cluster already has them, to
// release in ns with the commands the README gives for a reinstall: CRDs
// kept by an earlier release, or applied by hand (make demo, or the other
// tests of an earlier run on a reused cluster), are refused by helm install
// ("invalid ownership metadata") until they name the new release.
func adoptCRDs(t *testing.T, release, ns string) {
	t.Helper()
	for _, crd := range trimtabCRDs {
		out, err := kubectl(t, "get", "crd", crd, "--ignore-not-found", "-o", "name")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) == "" {
			continue
		}
		if _, err := kubectl(t, "label", "crd", crd, "app.kubernetes.io/managed-by=Helm", "--overwrite"); err != nil {
			t.Fatal(err)
		}
		if _, err := kubectl(t, "annotate", "crd", crd, "meta.helm.sh/release-name="+release, "meta.helm.sh/release-namespace="+ns, "--overwrite"); err != nil {
			t.Fatal(err)
		}
	}
}
