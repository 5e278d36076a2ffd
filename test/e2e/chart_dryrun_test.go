package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/trimtab-dev/trimtab/test/cluster"
)

// TestChartServerSideDryRun renders the chart with default and non-default
// values and has the real apiserver validate every object (server-side dry
// run, cert-manager's CRDs installed, so Issuers and Certificates are checked
// against their schemas too). The ServiceMonitor is left out: the
// prometheus-operator CRD is not available here; the chart tests check its
// shape.
func TestChartServerSideDryRun(t *testing.T) {
	ctx := context.Background()
	cl := cluster.Start(t)
	if err := cl.StartCertManager(ctx); err != nil {
		t.Fatalf("starting cert-manager (for its CRDs): %v", err)
	}
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ns := "trimtab-dryrun-" + rand.String(5)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })

	for name, set := range map[string]string{
		"default": "",
		"non-default": strings.Join([]string{
			"manager.replicas=3", "manager.priorityClassName=system-cluster-critical",
			"certManager.issuerRef.name=corp-ca", "certManager.issuerRef.kind=ClusterIssuer",
			"metrics.dashboard.enabled=true", "webhook.url=https://127.0.0.1:19443",
			"webhook.pods.failurePolicy=Fail", "settings.spotTaint=",
			"placer.enabled=true", "placer.dryRun=true", "placer.ec2.region=us-east-1", "placer.ec2.endpoint=http://127.0.0.1:8470", "placer.ec2.pricePeriod=2m",
			"networkPolicy.enabled=true", "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring",
		}, ","),
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"template", "dryrun", chartPath(t), "--namespace", ns, "--kube-version", cluster.KubernetesVersion}
			if set != "" {
				args = append(args, "--set", set)
			}
			rendered, err := helmCmd(t, cl, args...)
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, rendered)
			}
			cmd := exec.Command(filepath.Join(cl.Config.KubernetesBin, "kubectl"), "--kubeconfig", cl.Config.Kubeconfig(),
				"--cache-dir", t.TempDir(), "apply", "--dry-run=server", "-f", "-")
			cmd.Stdin = strings.NewReader(rendered)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("server-side dry run refused the rendered chart: %v\n%s", err, out)
			}
			for _, want := range []string{"deployment.apps/dryrun-trimtab", "mutatingwebhookconfiguration.admissionregistration.k8s.io/dryrun-trimtab", "certificate.cert-manager.io/dryrun-trimtab-webhook"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("dry run output lacks %s:\n%s", want, out)
				}
			}
		})
	}
}
