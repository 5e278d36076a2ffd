package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// (6a of issue 15) Learned requests reach new pods: a Deployment with
// requests: auto in enforce mode whose pods use, by kwok's usage
// annotations, far less than they request. The requests controller reads
// that usage from the real Prometheus (kwok's kubelet-style resource
// series), records a lower target on the Decision, and the next pod the
// ReplicaSet creates is admitted with it, the pod's trimtab.dev/resources
// saying what changed and why. The controller runs at a 10s step and
// lowers after a minute of usage (production: 5 min and a day), so the
// test takes about two minutes.
func TestRequestsReachNewPods(t *testing.T) {
	t.Parallel()
	cl := cluster.Start(t)
	if !cl.Config.KwokUsage {
		t.Skip("the cluster runs kwok without usage emulation")
	}
	base, err := cl.StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := decisionManager(t, base, func(o *manager.Options) {
		o.Requests = true
		o.RequestsPeriod = 5 * time.Second
		o.RequestsStep = 10 * time.Second
		o.RequestsLag = 2 * time.Second
		o.RequestsMinHistory = time.Minute
	})
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	d := deployment("lean", 2, policy(config.AnnotationRequests, "auto", config.AnnotationMode, "enforce"))
	d.Spec.Template.Annotations = map[string]string{"kwok.x-k8s.io/usage-cpu": "20m", "kwok.x-k8s.io/usage-memory": "300Mi"}
	d.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resourceMust("1"), corev1.ResourceMemory: resourceMust("1Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resourceMust("2Gi")},
	}
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var target corev1.ResourceList
	eventually(t, 150*time.Second, func() error {
		dec := e.decision(t, c, "lean")
		if dec == nil || dec.Status.Requests == nil || len(dec.Status.Requests.Containers) == 0 {
			return fmt.Errorf("no recommendation yet: %+v", dec)
		}
		rec := dec.Status.Requests.Containers[0]
		mem := rec.Target[corev1.ResourceMemory]
		if mem.IsZero() || mem.Cmp(resourceMust("1Gi")) >= 0 {
			return fmt.Errorf("memory target %s (%s), want below the 1Gi requested", mem.String(), rec.MemoryReason)
		}
		target = rec.Target
		t.Logf("after %.0fs: app cpu %s (%s), memory %s (%s)", time.Since(start).Seconds(),
			rec.Target.Cpu(), rec.CPUReason, rec.Target.Memory(), rec.MemoryReason)
		return nil
	})
	// The next pod the ReplicaSet creates gets the learned requests.
	pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=lean"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("listing lean's pods: %v (%d)", err, len(pods.Items))
	}
	old := pods.Items[0].Name
	if err := e.cs.CoreV1().Pods(e.namespace).Delete(ctx, old, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var fresh corev1.Pod
	eventually(t, 60*time.Second, func() error {
		pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=lean"})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Name == old || p.Annotations[config.AnnotationResources] == "" || !strings.Contains(p.Annotations[config.AnnotationResources], "memory 1Gi→") {
				continue
			}
			fresh = p
			return nil
		}
		return fmt.Errorf("no new pod with learned requests yet")
	})
	got := fresh.Spec.Containers[0].Resources
	if mem := got.Requests[corev1.ResourceMemory]; mem.Cmp(resourceMust("1Gi")) >= 0 {
		t.Errorf("new pod requests memory %s, want below 1Gi", mem.String())
	}
	// The limit keeps its 2:1 ratio to the request.
	if lim, req := got.Limits[corev1.ResourceMemory], got.Requests[corev1.ResourceMemory]; lim.Value() < 2*req.Value()-2 || lim.Value() > 2*req.Value()+2 {
		t.Errorf("new pod memory limit %s for request %s: want the 2:1 ratio kept", lim.String(), req.String())
	}
	t.Logf("new pod %s: %s=%q (Decision target %v)", fresh.Name, config.AnnotationResources, fresh.Annotations[config.AnnotationResources], target)
	// kubectl describe pod shows the annotation with the per-container
	// change (the Events are on the Deployment, one per batch of pods).
	eventually(t, 30*time.Second, func() error {
		out, err := kubectl(t, "describe", "pod", "-n", e.namespace, fresh.Name)
		if err != nil {
			return err
		}
		if !strings.Contains(out, config.AnnotationResources) || !strings.Contains(out, "app: cpu 1→") {
			return fmt.Errorf("kubectl describe pod does not show %s with the requests:\n%s", config.AnnotationResources, out)
		}
		return nil
	})
}
