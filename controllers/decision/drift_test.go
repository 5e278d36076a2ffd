package decision

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
)

// basePolicy is 20 replicas, capacity auto with an on-demand base of 3, in
// enforce mode.
func basePolicy() map[string]string {
	p := metricPolicy("vector(1000)", "50", "20..20", "enforce")
	p[config.AnnotationCapacity] = "auto"
	p[config.AnnotationOnDemandBase] = "3"
	return p
}

// rolledOut sets the Deployment's status as its controller would once
// updated pods of the current revision run: what envtest, without a
// controller-manager, does not do.
func (h *harness) rolledOut(d *appsv1.Deployment, replicas, updated int32) {
	h.t.Helper()
	ctx := context.Background()
	if err := h.c.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		h.t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: replicas, UpdatedReplicas: updated, ReadyReplicas: replicas}
	if err := h.c.Status().Update(ctx, d); err != nil {
		h.t.Fatal(err)
	}
}

// replicaSet creates revision rev of d's ReplicaSets.
func (h *harness) replicaSet(d *appsv1.Deployment, rev int) *appsv1.ReplicaSet {
	h.t.Helper()
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: fmt.Sprintf("%s-r%d", d.Name, rev), Labels: d.Spec.Template.Labels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(rev)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(0)), Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
	if err := h.c.Create(context.Background(), rs); err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// pods creates n pods of rs on node, labelled with placement unless it is
// empty (a pod admitted while trimtab was down carries no label).
func (h *harness) pods(rs *appsv1.ReplicaSet, n int, placement, node string) {
	h.t.Helper()
	for i := range n {
		labels := map[string]string{"app": rs.Spec.Template.Labels["app"]}
		if placement != "" {
			labels[labelPlacement] = placement
		}
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: fmt.Sprintf("%s-%s-%d", rs.Name, placement, i), Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "app"}}},
		}
		if err := h.c.Create(context.Background(), p); err != nil {
			h.t.Fatal(err)
		}
	}
}

// Pods created while trimtab was down (no placement label, all on
// on-demand nodes) show as drift on the Decision, with a BaseDrift Warning
// on the Deployment; a split kept by the webhook shows none, even with an
// older revision's on-demand pods still around.
func TestDriftReported(t *testing.T) {
	t.Run("admitted while trimtab was down", func(t *testing.T) {
		h := newHarness(t)
		dep := h.deployment("web", 20, basePolicy())
		h.prom.Set("vector(1000)", 1000)
		h.pods(h.replicaSet(dep, 1), 20, "", "on-demand-1")
		h.rolledOut(dep, 20, 20)
		h.sync()
		c := h.decision("web").Status.Capacity
		if c == nil || c.Drift == nil {
			t.Fatalf("status.capacity = %+v, want a drift", c)
		}
		d := c.Drift
		if d.Pods != 20 || d.Unplaced != 20 || d.WantOnDemand != 3 || d.Short != 3 || d.Over != 0 ||
			d.Message != "on-demand 3 short of 3; 20 of 20 pods without a placement" {
			t.Errorf("drift = %+v", *d)
		}
		ev := strings.Join(h.events(), "\n")
		if !strings.Contains(ev, "Warning "+ReasonBaseDrift+" Deployment web: 20 pods") {
			t.Errorf("no %s Warning among %q", ReasonBaseDrift, ev)
		}
		// The same drift next sync: no second Event, no status write.
		if st := h.sync(); st.StatusWrites != 0 {
			t.Errorf("an unchanged drift wrote the status %d times", st.StatusWrites)
		}
		if ev := strings.Join(h.events(), "\n"); strings.Contains(ev, ReasonBaseDrift) {
			t.Errorf("the same drift reported again: %q", ev)
		}
	})
	t.Run("split kept", func(t *testing.T) {
		h := newHarness(t)
		dep := h.deployment("web", 20, basePolicy())
		h.prom.Set("vector(1000)", 1000)
		// The old revision's pods, on-demand, terminating or scaled away,
		// do not count: the new revision has its own base.
		h.pods(h.replicaSet(dep, 1), 3, "on-demand", "on-demand-1")
		rs := h.replicaSet(dep, 2)
		h.pods(rs, 3, "on-demand", "on-demand-1")
		h.pods(rs, 17, "spot", "spot-1")
		h.rolledOut(dep, 20, 20)
		h.sync()
		c := h.decision("web").Status.Capacity
		if c == nil || c.Drift == nil || c.Drift.Message != "none" || c.Drift.Pods != 20 || c.Drift.OnDemand != 3 || c.Drift.Spot != 17 {
			t.Fatalf("status.capacity = %+v, want no drift over 3 on-demand and 17 spot", c)
		}
		if ev := strings.Join(h.events(), "\n"); strings.Contains(ev, ReasonBaseDrift) {
			t.Errorf("a kept split reported drift: %q", ev)
		}
	})
	t.Run("rolling out", func(t *testing.T) {
		h := newHarness(t)
		dep := h.deployment("web", 20, basePolicy())
		h.prom.Set("vector(1000)", 1000)
		h.pods(h.replicaSet(dep, 1), 20, "", "on-demand-1")
		h.rolledOut(dep, 25, 5) // a surge: old and new pods side by side
		h.sync()
		if c := h.decision("web").Status.Capacity; c == nil || c.Drift != nil {
			t.Errorf("status.capacity = %+v, want no drift measured mid-rollout", c)
		}
	})
}
