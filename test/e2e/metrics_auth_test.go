package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/trimtab-dev/trimtab/internal/manager"
)

// TestMetricsRequireAuthorization: with secure metrics (the command's and
// the chart's default) /metrics answers 401 without a token, 403 to a
// ServiceAccount that may not get /metrics, and the metrics to one bound to
// the chart's metrics-reader rule; the apiserver's TokenReview and
// SubjectAccessReview decide.
func TestMetricsRequireAuthorization(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	port := freePort(t)
	startManager(t, func(o *manager.Options) {
		o.MetricsAddr = fmt.Sprintf("127.0.0.1:%d", port)
		o.MetricsSecure = true
	})
	e := newEnv(t, nil)
	url := fmt.Sprintf("https://127.0.0.1:%d/metrics", port)
	// The certificate is self-signed, generated at start.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(token string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	expect := func(who, token string, want int) string {
		t.Helper()
		var body string
		eventually(t, 30*time.Second, func() error {
			code, b, err := get(token)
			if err != nil {
				return err
			}
			if code != want {
				return fmt.Errorf("%s: status %d, want %d: %.200s", who, code, want, b)
			}
			body = b
			return nil
		})
		return body
	}

	if _, err := e.cs.CoreV1().ServiceAccounts(e.namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "scraper"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := e.cs.CoreV1().ServiceAccounts(e.namespace).CreateToken(ctx, "scraper", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token := tr.Status.Token

	// The plain-HTTP scrape the chart used to publish is refused outright.
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(strings.Replace(url, "https:", "http:", 1)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP /metrics answered 200")
		}
	}
	expect("no token", "", http.StatusUnauthorized)
	// A token the TokenReview rejects: controller-runtime's filter answers
	// 500 "Authentication failed" (the review's error), not 401; refused
	// either way.
	if code, _, err := get("not-a-token"); err != nil || code == http.StatusOK {
		t.Errorf("an invalid token: status %d, %v; want it refused", code, err)
	}
	expect("a ServiceAccount without the metrics-reader rule", token, http.StatusForbidden)

	// The chart's metrics-reader ClusterRole (templates/rbac.yaml), bound
	// to the scraper.
	name := "trimtab-e2e-metrics-reader-" + e.namespace
	rbac := e.cs.RbacV1()
	if _, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	if _, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "scraper", Namespace: e.namespace}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rbac.ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	// The filter caches authorization decisions for a while; a fresh
	// token's first answer may still be the cached 403.
	body := expect("the metrics reader", token, http.StatusOK)
	if !strings.Contains(body, "trimtab_") {
		t.Errorf("/metrics holds no trimtab_ series:\n%.500s", body)
	}
}

// checkChartMetricsRBAC proves the chart's RBAC is what secure metrics
// need: as the chart's ServiceAccount (cfg), the reviews the metrics filter
// makes are allowed, and the chart's metrics-reader ClusterRole, bound to
// a subject, lets it get /metrics.
func checkChartMetricsRBAC(t *testing.T, ctx context.Context, e *env, cfg *rest.Config, release string) {
	t.Helper()
	sa, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sa.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: cfg.BearerToken}}, metav1.CreateOptions{})
	if err != nil || !tr.Status.Authenticated {
		t.Fatalf("the chart's ServiceAccount reviewing a token: %v, %+v; the metrics filter needs tokenreviews create", err, tr)
	}
	roles, err := e.cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil {
		t.Fatal(err)
	}
	reader := ""
	for _, r := range roles.Items {
		if strings.HasSuffix(r.Name, "-metrics-reader") {
			reader = r.Name
		}
	}
	if reader == "" {
		t.Fatalf("the chart installed no *-metrics-reader ClusterRole")
	}
	user := "e2e-scraper-" + e.namespace
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	if _, err := e.cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), user, metav1.DeleteOptions{})
	})
	eventually(t, 30*time.Second, func() error {
		sar, err := sa.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:                  user,
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
		}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("the chart's ServiceAccount creating a SubjectAccessReview (the metrics filter needs it): %w", err)
		}
		if !sar.Status.Allowed {
			return fmt.Errorf("a subject bound to %s may not get /metrics: %+v", reader, sar.Status)
		}
		return nil
	})
}
