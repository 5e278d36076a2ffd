package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// TestRolloutRestartKeepsBase: a Deployment of 20 with an on-demand base of
// 3 keeps 3 on-demand pods through `kubectl rollout restart` (issue 17: the
// new ReplicaSet's pods counted the old one's on-demand pods, which the
// rollout then deleted, leaving 0 on-demand and 20 spot), and through a
// scale 20 → 2 → 20.
func TestRolloutRestartKeepsBase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)

	dep := deployment("web", 20, map[string]string{
		config.AnnotationCapacity:     "auto",
		config.AnnotationOnDemandBase: "3",
		config.AnnotationMode:         "enforce",
	})
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment: %v", err)
	}
	before := placements(e.waitRunning(t, "app=web", 20))
	if before[string(capacity.OnDemand)] != 3 {
		t.Fatalf("before the rollout: placements %v, want 3 on-demand", before)
	}

	if _, err := kubectl(t, "rollout", "restart", "-n", e.namespace, "deployment/web"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var after []corev1.Pod
	eventuallyExplained(t, 150*time.Second, func() error {
		d, err := e.cs.AppsV1().Deployments(e.namespace).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !rolledOut(d) {
			return fmt.Errorf("rollout: %d updated, %d available of %d", d.Status.UpdatedReplicas, d.Status.AvailableReplicas, d.Status.Replicas)
		}
		pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		after = after[:0]
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil {
				after = append(after, p)
			}
		}
		if len(after) != 20 {
			return fmt.Errorf("%d pods not terminating, want 20 of the new ReplicaSet", len(after))
		}
		return nil
	}, func() string { return "pods: " + e.podStates(ctx, "app=web") })
	got := placements(after)
	t.Logf("rollout restart of 20 pods with base 3 took %.0fs: before %v, after %v", time.Since(start).Seconds(), before, got)
	if got[string(capacity.OnDemand)] != 3 || got[string(capacity.Spot)] != 17 {
		t.Errorf("after the rollout: placements %v, want 3 on-demand and 17 spot among the new ReplicaSet's pods", got)
	}

	// Scale 20 → 2 → 20: the base pods carry a higher pod-deletion-cost,
	// so scale-in removes spot pods first, and the ledger forgets the
	// deleted ones, so scale-out refills the base to exactly 3.
	scaleTo := func(n int) []corev1.Pod {
		t.Helper()
		if _, err := kubectl(t, "scale", "-n", e.namespace, "deployment/web", fmt.Sprintf("--replicas=%d", n)); err != nil {
			t.Fatal(err)
		}
		var pods []corev1.Pod
		eventually(t, 120*time.Second, func() error {
			list, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return err
			}
			pods = list.Items
			if len(pods) != n { // terminating pods still listed: not done
				return fmt.Errorf("%d pods, want %d", len(pods), n)
			}
			return nil
		})
		return pods
	}
	if got := placements(scaleTo(2)); got[string(capacity.OnDemand)] != 2 {
		t.Errorf("scaled in to 2: placements %v, want both on-demand (the base goes last)", got)
	}
	if got := placements(scaleTo(20)); got[string(capacity.OnDemand)] != 3 || got[string(capacity.Spot)] != 17 {
		t.Errorf("scaled back out to 20: placements %v, want 3 on-demand and 17 spot", got)
	}
}

// placements counts pods by the placement label the webhook set.
func placements(pods []corev1.Pod) map[string]int {
	out := map[string]int{}
	for _, p := range pods {
		out[p.Labels[mutating.LabelPlacement]]++
	}
	return out
}

// rolledOut reports whether d's latest revision runs all its replicas and
// no old pod remains.
func rolledOut(d *appsv1.Deployment) bool {
	want := *d.Spec.Replicas
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want &&
		d.Status.Replicas == want && d.Status.AvailableReplicas == want
}

// TestAnnotationsNearLimitCreatePods: a pod template whose annotations are
// 200 bytes under the apiserver's 256 KiB total still gets its pods, placed
// and labelled, with the JSON form of the decision left out (issue 17:
// trimtab's annotations pushed each pod over the limit and the ReplicaSet
// created none).
func TestAnnotationsNearLimitCreatePods(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)

	dep := deployment("big", 2, map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	const key = "example.com/filler"
	dep.Spec.Template.Annotations = map[string]string{key: strings.Repeat("x", apivalidation.TotalAnnotationSizeLimitB-200-len(key))}
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment: %v", err)
	}
	for _, p := range e.waitRunning(t, "app=big", 2) {
		if err := apivalidation.ValidateAnnotationsSize(p.Annotations); err != nil {
			t.Errorf("pod %s: %v", p.Name, err) // cannot happen for a stored pod; says what went wrong if it does
		}
		if p.Labels[mutating.LabelPlacement] != string(capacity.Spot) {
			t.Errorf("pod %s placement label %q, want spot", p.Name, p.Labels[mutating.LabelPlacement])
		}
		if _, ok := p.Annotations[config.AnnotationDecisionJSON]; ok {
			t.Errorf("pod %s carries %s although it cannot fit", p.Name, config.AnnotationDecisionJSON)
		}
		if s := p.Annotations[config.AnnotationDecision]; !strings.Contains(s, "256 KiB limit") {
			t.Errorf("pod %s decision %q, want the short form with the note that the JSON was left out", p.Name, s)
		}
	}
}
