package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/webhook"
)

// DevWebhookCerts makes a development CA and a serving certificate for
// 127.0.0.1 and localhost in dir, as tls.crt, tls.key and ca.crt (the layout
// the manager's --cert-dir reads), unless they are already there. It returns
// the CA certificate, the caBundle the apiserver needs to trust the webhook.
// In a real cluster cert-manager does this job.
func DevWebhookCerts(dir string) ([]byte, error) {
	caFile := filepath.Join(dir, "ca.crt")
	if ca, err := os.ReadFile(caFile); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "tls.key")); err == nil {
			return ca, nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := NewCA("trimtab-dev-webhook-ca")
	if err != nil {
		return nil, err
	}
	cert, key, err := ca.Issue("trimtab-webhook", nil, []string{"127.0.0.1", "localhost"}, false)
	if err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{"tls.crt": cert, "tls.key": key, "ca.crt": ca.CertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return ca.CertPEM, nil
}

// TestRunLabel routes a namespace to one test's manager. A namespace with it
// is served only by the manager registered for its value; managers
// registered without a run (`make run`, the demo) never see it, so a demo
// left running cannot disturb the tests.
const TestRunLabel = "e2e.trimtab.dev/run"

// TestTimeoutSeconds is the webhooks' timeout on the local control plane:
// longer than the chart's default (webhook.DefaultTimeoutSeconds), because
// tests share 2 loaded cores and a test that expects a decision must not
// see its pod fail open on a slow answer. TestManagerFaults sets the
// default itself.
const TestTimeoutSeconds = 5

// RegisterWebhooks creates or replaces trimtab's webhook configurations,
// named name, pointing by URL at a manager serving on baseURL (outside the
// cluster, as `make run` and the e2e tests run it). A non-empty run narrows
// them to namespaces labelled TestRunLabel=run; an empty run excludes every
// namespace carrying TestRunLabel.
func RegisterWebhooks(ctx context.Context, cs kubernetes.Interface, name, baseURL string, caBundle []byte, s config.Settings, run string) error {
	mut, val := webhook.Configurations(name, s, webhook.URLClientConfig(baseURL, caBundle), TestTimeoutSeconds)
	for _, sel := range []*metav1.LabelSelector{mut.Webhooks[0].NamespaceSelector, val.Webhooks[0].NamespaceSelector} {
		if run != "" {
			sel.MatchLabels[TestRunLabel] = run
		} else {
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: TestRunLabel, Operator: metav1.LabelSelectorOpDoesNotExist})
		}
	}
	mc := cs.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if cur, err := mc.Get(ctx, name, metav1.GetOptions{}); err == nil {
		mut.ResourceVersion = cur.ResourceVersion
		_, err = mc.Update(ctx, mut, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("updating MutatingWebhookConfiguration %s: %w", name, err)
		}
	} else if _, err := mc.Create(ctx, mut, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating MutatingWebhookConfiguration %s: %w", name, err)
	}
	vc := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if cur, err := vc.Get(ctx, name, metav1.GetOptions{}); err == nil {
		val.ResourceVersion = cur.ResourceVersion
		_, err = vc.Update(ctx, val, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("updating ValidatingWebhookConfiguration %s: %w", name, err)
		}
	} else if _, err := vc.Create(ctx, val, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating ValidatingWebhookConfiguration %s: %w", name, err)
	}
	return nil
}

// UnregisterWebhooks deletes the configurations RegisterWebhooks made.
func UnregisterWebhooks(ctx context.Context, cs kubernetes.Interface, name string) error {
	err1 := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, name, metav1.DeleteOptions{})
	err2 := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, name, metav1.DeleteOptions{})
	for _, err := range []error{err1, err2} {
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}
