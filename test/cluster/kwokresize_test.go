package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestKwokResize: kwok plays the kubelet's part of an in-place resize. A
// running pod reports its containers' resources in its status; after the
// apiserver accepts a pods/resize, the status reports the new ones, the
// resize conditions a kubelet would have set are gone, and the container
// keeps running (same state, no restart).
func TestKwokResize(t *testing.T) {
	cl := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, err := cl.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kwok-resize-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })
	q := resource.MustParse
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns.Name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "main", Image: "example/app", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: q("100m"), corev1.ResourceMemory: q("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: q("256Mi")},
			}},
			{Name: "side", Image: "example/side"},
		}},
	}
	if _, err := cs.CoreV1().Pods(ns.Name).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// reports waits until the status of main reports want (requests and
	// limits) and returns the pod.
	reports := func(what string, want corev1.ResourceRequirements) *corev1.Pod {
		var got *corev1.Pod
		poll(t, ctx, what, func() error {
			p, err := cs.CoreV1().Pods(ns.Name).Get(ctx, "app", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 2 {
				return fmt.Errorf("phase %s, %d container statuses", p.Status.Phase, len(p.Status.ContainerStatuses))
			}
			s := p.Status.ContainerStatuses[0]
			if s.Name != "main" || s.Resources == nil || s.State.Running == nil {
				return fmt.Errorf("status of main: %+v", s)
			}
			if !equal(s.Resources.Requests, want.Requests) || !equal(s.Resources.Limits, want.Limits) || !equal(s.AllocatedResources, want.Requests) {
				return fmt.Errorf("main reports resources %v, allocated %v; want %v", s.Resources, s.AllocatedResources, want)
			}
			if side := p.Status.ContainerStatuses[1]; side.Resources == nil || len(side.Resources.Requests) != 0 || side.State.Running == nil {
				return fmt.Errorf("status of side: %+v, want running with no requests", side)
			}
			got = p
			return nil
		})
		return got
	}
	start := time.Now()
	before := reports("the running pod reports its resources", pod.Spec.Containers[0].Resources)
	t.Logf("resources in the status %.1fs after the pod was created", time.Since(start).Seconds())

	// A resize, with the conditions a kubelet sets while it works on one
	// (the apiserver sets none), which kwok clears once it is applied.
	conds := []byte(`{"status":{"conditions":[{"type":"PodResizeInProgress","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`)
	if _, err := cs.CoreV1().Pods(ns.Name).Patch(ctx, "app", types.StrategicMergePatchType, conds, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("setting PodResizeInProgress: %v", err)
	}
	after := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: q("150m"), corev1.ResourceMemory: q("200Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: q("400Mi")},
	}
	start = time.Now()
	for range 5 { // a status write of kwok's may race ours
		cur, err := cs.CoreV1().Pods(ns.Name).Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		resized := cur.DeepCopy()
		resized.Spec.Containers[0].Resources = after
		if _, err = cs.CoreV1().Pods(ns.Name).UpdateResize(ctx, "app", resized, metav1.UpdateOptions{}); err == nil {
			break
		}
		t.Logf("resize: %v", err)
	}
	p := reports("the resized pod reports the new resources", after)
	t.Logf("resize reported applied %.1fs after the apiserver accepted it", time.Since(start).Seconds())
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodResizePending || c.Type == corev1.PodResizeInProgress {
			t.Errorf("condition %s still set after the resize: %+v", c.Type, c)
		}
	}
	s, b := p.Status.ContainerStatuses[0], before.Status.ContainerStatuses[0]
	if s.RestartCount != b.RestartCount || !s.State.Running.StartedAt.Equal(&b.State.Running.StartedAt) || !s.Ready {
		t.Errorf("main after the resize: %+v; want it still running, ready, not restarted (before: %+v)", s, b)
	}
	if p.Generation > 1 && p.Status.ObservedGeneration != 0 && p.Status.ObservedGeneration != p.Generation {
		t.Errorf("status.observedGeneration %d, want the pod's generation %d", p.Status.ObservedGeneration, p.Generation)
	}
}

func equal(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}
