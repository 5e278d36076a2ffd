package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	eventuallyExplained(t, timeout, f, nil)
}

// eventuallyExplained is eventually, adding explain's account of the scene
// (nil: none) to the failure, read once when the timeout passes.
func eventuallyExplained(t testing.TB, timeout time.Duration, f func() error, explain func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if explain != nil {
				t.Fatalf("condition not met after %s: %v\n%s", timeout, err, explain())
			}
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

// podStates sums up where the namespace's pods matching selector stand, for
// a failure message that says why a rollout or a wait stalled: how many are
// unscheduled (with the scheduler's reason), bound but not Running, Running
// but not Ready, Ready, or terminating.
func (e *env) podStates(ctx context.Context, selector string) string {
	pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return fmt.Sprintf("listing pods: %v", err)
	}
	counts := map[string]int{}
	for _, p := range pods.Items {
		counts[podState(&p)]++
	}
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return strings.Join(parts, "; ")
}

// podState is one pod's line in podStates.
func podState(p *corev1.Pod) string {
	ready, why := false, ""
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return fmt.Sprintf("unscheduled (%s: %s)", c.Reason, c.Message)
		}
		if c.Type == corev1.PodReady {
			ready = c.Status == corev1.ConditionTrue
			why = fmt.Sprintf("Ready=%s %s %q", c.Status, c.Reason, c.Message)
		}
	}
	// Who wrote the status: the kubelet's part is kwok's here. No times,
	// so pods in the same state sum up on one line.
	var writers []string
	for _, f := range p.ManagedFields {
		if f.Subresource == "status" {
			writers = append(writers, f.Manager)
		}
	}
	switch {
	case p.DeletionTimestamp != nil:
		return "terminating"
	case p.Spec.NodeName == "":
		return "not yet scheduled"
	case p.Status.Phase != corev1.PodRunning:
		return fmt.Sprintf("%s on a node", p.Status.Phase)
	case !ready:
		return fmt.Sprintf("Running, not Ready (%s; status written by %v)", why, writers)
	}
	return "Ready"
}
