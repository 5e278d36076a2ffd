package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"

	"github.com/trimtab-dev/trimtab/test/cluster"
)

// env is what a test needs: a clientset and a namespace of its own that is
// deleted when the test ends.
type env struct {
	cs        *kubernetes.Clientset
	namespace string
}

func newEnv(t testing.TB, labels map[string]string) *env {
	t.Helper()
	cl := cluster.Start(t)
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	// A namespace name is an RFC 1123 label: subtest names ("workloads=1000")
	// carry characters it refuses, and it holds at most 63 of them.
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(fmt.Sprintf("e2e-%s-%s", t.Name(), rand.String(5))))
	if len(name) > 63 {
		name = name[len(name)-63:]
	}
	name = strings.TrimLeft(name, "-")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	// Pods need the namespace's default ServiceAccount, which the
	// controller-manager creates asynchronously.
	eventually(t, 30*time.Second, func() error {
		_, err := cs.CoreV1().ServiceAccounts(name).Get(context.Background(), "default", metav1.GetOptions{})
		return err
	})
	return &env{cs: cs, namespace: name}
}

// eventually polls f until it returns nil or the timeout passes, then fails
// the test with f's last error.
func eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runningPods lists the namespace's pods matching selector that are Running
// on a node and not being deleted.
func (e *env) runningPods(ctx context.Context, selector string) ([]corev1.Pod, error) {
	pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

func resourceMust(s string) resource.Quantity { return resource.MustParse(s) }
