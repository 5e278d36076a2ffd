package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// cert-manager on the local cluster. StartCertManager runs cert-manager's
// controller and cainjector (our own small mains, see tools/certmanager) as
// add-on processes. cert-manager's own webhook is NOT run: nothing registers
// its Validating/MutatingWebhookConfigurations, so the apiserver checks
// cert-manager objects against the CRDs' OpenAPI schemas only. A malformed
// Certificate is therefore accepted and reported by the controller as not
// Ready instead of being rejected at admission, and CertificateRequests carry
// no requester identity (the webhook would set spec.username); the built-in
// approver does not need it.
const (
	// CertManagerNamespace is cert-manager's cluster resource namespace:
	// ClusterIssuers read their Secrets from it.
	CertManagerNamespace = "cert-manager"
	// SelfSignedClusterIssuer is a self-signed ClusterIssuer StartCertManager
	// creates and proves by issuing a Certificate; tests may use it.
	SelfSignedClusterIssuer = "trimtab-local-selfsigned"

	certManagerController = "cert-manager-controller"
	certManagerCAInjector = "cert-manager-cainjector"
	// probeCertificate is issued by SelfSignedClusterIssuer in
	// CertManagerNamespace to prove the controllers work.
	probeCertificate = "trimtab-local-probe"
	fieldManager     = "trimtab-localcluster"
)

var (
	crdGVR           = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	clusterIssuerGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
	certificateGVR   = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
)

// StartCertManager installs cert-manager's CRDs (server-side apply) and runs
// its controller and cainjector against the cluster, recorded in state.json so
// Down stops them. It returns once a Certificate from a self-signed
// ClusterIssuer is Ready and the cainjector has filled a probe webhook
// configuration's caBundle from it. It is idempotent: running add-ons whose
// probe Certificate is Ready are reused.
func (cl *Cluster) StartCertManager(ctx context.Context) error {
	c := cl.Config
	if err := c.checkCertManager(); err != nil {
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
	return cl.withState(func(st *Cluster) error {
		_, okCtrl := st.addon(certManagerController)
		_, okInj := st.addon(certManagerCAInjector)
		if okCtrl && okInj && certificateReady(ctx, dyn, CertManagerNamespace, probeCertificate) == nil {
			return nil
		}
		for _, name := range []string{certManagerCAInjector, certManagerController} {
			if err := st.stopAddon(name); err != nil {
				return err
			}
		}
		if err := applyCRDs(ctx, dyn, c.CertManagerCRDs); err != nil {
			return err
		}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: CertManagerNamespace}}, metav1.CreateOptions{}); ignoreAlreadyExists(err) != nil {
			return fmt.Errorf("creating namespace %s: %w", CertManagerNamespace, err)
		}
		ctrl, err := startProcess(certManagerController, filepath.Join(c.CertManagerBin, certManagerController), c.path("logs"),
			"-kubeconfig="+c.Kubeconfig(), "-cluster-resource-namespace="+CertManagerNamespace, "-v=1")
		if err != nil {
			return err
		}
		st.setAddon(ctrl)
		inj, err := startProcess(certManagerCAInjector, filepath.Join(c.CertManagerBin, certManagerCAInjector), c.path("logs"),
			"--kubeconfig="+c.Kubeconfig(), "-v=1")
		if err != nil {
			return err
		}
		st.setAddon(inj)
		if err := st.waitFor(ctx, ctrl, 60*time.Second, func(ctx context.Context) error {
			return issueProbe(ctx, dyn)
		}); err != nil {
			return fmt.Errorf("cert-manager issuing a self-signed Certificate: %w", err)
		}
		if err := st.waitFor(ctx, inj, 60*time.Second, func(ctx context.Context) error {
			return injectProbe(ctx, cs)
		}); err != nil {
			return fmt.Errorf("cert-manager's cainjector filling a caBundle: %w", err)
		}
		return cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, probeCertificate, metav1.DeleteOptions{})
	})
}

// checkCertManager reports missing binaries or CRDs with the fix.
func (c Config) checkCertManager() error {
	for _, p := range []string{filepath.Join(c.CertManagerBin, certManagerController), filepath.Join(c.CertManagerBin, certManagerCAInjector)} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("cert-manager not built: %s missing; run `bash test/cluster/tools/build.sh certmanager` (~3 min the first time)", p)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(c.CertManagerCRDs, "*.yaml")); len(files) == 0 {
		return fmt.Errorf("cert-manager CRDs missing in %s; run `bash test/cluster/tools/build.sh certmanager`", c.CertManagerCRDs)
	}
	return nil
}

// applyCRDs server-side applies every CRD in dir and waits until each is
// Established, so the controllers' informers find their resources.
func applyCRDs(ctx context.Context, dyn dynamic.Interface, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	var names []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(raw, &obj); err != nil {
			return fmt.Errorf("parsing CRD %s: %w", f, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() != "CustomResourceDefinition" {
			return fmt.Errorf("%s: kind %q, want CustomResourceDefinition", f, u.GetKind())
		}
		if _, err := dyn.Resource(crdGVR).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
			return fmt.Errorf("applying CRD %s from %s: %w", u.GetName(), f, err)
		}
		names = append(names, u.GetName())
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range names {
		for {
			u, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err == nil && conditionTrue(u, "Established") == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not Established after 30s (last error: %v)", name, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// issueProbe applies the self-signed ClusterIssuer and the probe Certificate
// and reports whether the Certificate is Ready.
func issueProbe(ctx context.Context, dyn dynamic.Interface) error {
	issuer := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
		"metadata": map[string]any{"name": SelfSignedClusterIssuer},
		"spec":     map[string]any{"selfSigned": map[string]any{}},
	}}
	if _, err := dyn.Resource(clusterIssuerGVR).Apply(ctx, SelfSignedClusterIssuer, issuer, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return fmt.Errorf("applying ClusterIssuer %s: %w", SelfSignedClusterIssuer, err)
	}
	cert := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": probeCertificate, "namespace": CertManagerNamespace},
		"spec": map[string]any{
			"secretName": probeCertificate, "commonName": probeCertificate, "isCA": true,
			"issuerRef": map[string]any{"name": SelfSignedClusterIssuer, "kind": "ClusterIssuer"},
		},
	}}
	if _, err := dyn.Resource(certificateGVR).Namespace(CertManagerNamespace).Apply(ctx, probeCertificate, cert, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return fmt.Errorf("applying Certificate %s/%s: %w", CertManagerNamespace, probeCertificate, err)
	}
	return certificateReady(ctx, dyn, CertManagerNamespace, probeCertificate)
}

// injectProbe applies a webhook configuration that can never be called (URL
// 127.0.0.1:1, a namespace selector nothing matches, failurePolicy Ignore)
// annotated for CA injection from the probe Certificate, and reports whether
// its caBundle is filled.
func injectProbe(ctx context.Context, cs kubernetes.Interface) error {
	api := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	got, err := api.Get(ctx, probeCertificate, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		got, err = api.Create(ctx, NeverCalledWebhook(probeCertificate, CertManagerNamespace+"/"+probeCertificate), metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	if len(got.Webhooks) == 0 || len(got.Webhooks[0].ClientConfig.CABundle) == 0 {
		return fmt.Errorf("ValidatingWebhookConfiguration %s has no caBundle yet", probeCertificate)
	}
	return nil
}

// NeverCalledWebhook returns a ValidatingWebhookConfiguration that the
// apiserver never calls (its namespace selector matches no namespace, its URL
// is 127.0.0.1:1 and failures are ignored), annotated
// cert-manager.io/inject-ca-from: injectFrom ("<namespace>/<Certificate>").
// It proves the cainjector without affecting anything.
func NeverCalledWebhook(name, injectFrom string) *admissionv1.ValidatingWebhookConfiguration {
	url := "https://127.0.0.1:1/never"
	ignore := admissionv1.Ignore
	none := admissionv1.SideEffectClassNone
	timeout := int32(1)
	return &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"cert-manager.io/inject-ca-from": injectFrom}},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name:                    "never.trimtab.dev",
			ClientConfig:            admissionv1.WebhookClientConfig{URL: &url},
			Rules:                   []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create}, Rule: admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"trimtab.dev/never-matches": "true"}},
			FailurePolicy:           &ignore,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
}

// certificateReady reports whether a cert-manager Certificate is Ready,
// quoting its Ready condition when it is not.
func certificateReady(ctx context.Context, dyn dynamic.Interface, ns, name string) error {
	u, err := dyn.Resource(certificateGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if err := conditionTrue(u, "Ready"); err != nil {
		return fmt.Errorf("certificate %s/%s: %w", ns, name, err)
	}
	return nil
}

// conditionTrue reports whether status.conditions holds typ=True, quoting the
// condition's reason and message when it does not.
func conditionTrue(u *unstructured.Unstructured, typ string) error {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != typ {
			continue
		}
		if m["status"] == "True" {
			return nil
		}
		return fmt.Errorf("%s=%v: %v: %v", typ, m["status"], m["reason"], m["message"])
	}
	return fmt.Errorf("no %s condition yet", typ)
}
