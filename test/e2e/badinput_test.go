package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// TestBadInputNotAmplified, through the real apiserver: a 200 KiB invalid
// policy value is refused with a message that quotes only its first bytes
// (it used to come back whole, 205 KB), "+3" and "+2..5" are refused, and an
// on-demand base above spec.replicas warns with no replicas annotation.
func TestBadInputNotAmplified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)

	huge := strings.Repeat("x", 200*1024)
	_, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, deployment("huge", 1, map[string]string{config.AnnotationClass: huge}), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("a 200 KiB class: got %v, want Invalid", truncate(err, 300))
	}
	if n := len(err.Error()); n > 2048 {
		t.Errorf("the denial of a 200 KiB value is %d bytes, want a short prefix: %s", n, truncate(err, 300))
	} else {
		t.Logf("the denial of a 200 KiB value is %d bytes (it used to be 205 KB): %s", n, err)
	}
	if !strings.Contains(err.Error(), "the value is 204800 bytes") {
		t.Errorf("the denial does not say how long the value was: %s", truncate(err, 600))
	}
	if st, ok := err.(apierrors.APIStatus); ok {
		for _, c := range st.Status().Details.Causes {
			if len(c.Message) > 1024 {
				t.Errorf("a cause of the denial is %d bytes", len(c.Message))
			}
		}
	}

	for key, v := range map[string]string{config.AnnotationOnDemandBase: "+3", config.AnnotationReplicas: "+2..5"} {
		_, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, deployment("signed", 1, map[string]string{key: v}), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %q: got %v, want Invalid naming the key", key, v, err)
		}
	}

	var w warnings
	cfg, err := cluster.Start(t).RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = &w
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dep := deployment("base", 2, map[string]string{config.AnnotationCapacity: "auto", config.AnnotationOnDemandBase: "3"})
	if _, err := cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if got := w.all(); !strings.Contains(got, `is at least spec.replicas 2`) {
		t.Errorf("a base of 3 over spec.replicas 2: warnings %q, want the base-covers-replicas warning", got)
	} else {
		t.Logf("the client saw the warning: %s", got)
	}
}

// warnings collects the apiserver's warning headers.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.list, "\n")
}

func truncate(err error, n int) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
