package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/test/cluster"
)

// TestSmoke proves the harness does the real thing: a Deployment's pods are
// created by the ReplicaSet controller, placed on kwok nodes by kube-scheduler
// and Running; the Eviction API honours a PodDisruptionBudget (429 while it
// allows no disruption, 201 once it does) and the ReplicaSet replaces the
// evicted pod.
func TestSmoke(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	labels := map[string]string{"app": "smoke"}
	dep := deployment("smoke", 3, nil)
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment: %v", err)
	}

	var pods []corev1.Pod
	eventually(t, 60*time.Second, func() error {
		var err error
		pods, err = e.runningPods(ctx, "app=smoke")
		if err == nil && len(pods) != 3 {
			err = fmt.Errorf("%d of 3 pods Running", len(pods))
		}
		return err
	})
	nodes, err := e.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	capacityOf := map[string]string{}
	for _, n := range nodes.Items {
		capacityOf[n.Name] = n.Labels[cluster.LabelCapacityType]
	}
	for _, p := range pods {
		// The pods tolerate nothing, so the scheduler must have kept them off
		// the tainted spot nodes.
		if got := capacityOf[p.Spec.NodeName]; got != cluster.CapacityOnDemand {
			t.Errorf("pod %s landed on %s (capacity %q); the spot taint should keep it on on-demand", p.Name, p.Spec.NodeName, got)
		}
		if !scheduledBy(ctx, t, e, p, "default-scheduler") {
			t.Errorf("pod %s has no Scheduled event from default-scheduler", p.Name)
		}
	}

	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: e.namespace},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			Selector:       &metav1.LabelSelector{MatchLabels: labels},
		},
	}
	if pdb, err = e.cs.PolicyV1().PodDisruptionBudgets(e.namespace).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPDBObserved(ctx, t, e, pdb.Name, 0)

	victim := pods[0]
	err = e.evict(ctx, victim.Name)
	if code := statusCode(err); code != http.StatusTooManyRequests {
		t.Fatalf("evicting %s under a PDB allowing 0 disruptions: got %v (HTTP %d), want HTTP 429", victim.Name, err, code)
	}

	pdb, err = e.cs.PolicyV1().PodDisruptionBudgets(e.namespace).Get(ctx, pdb.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Spec.MaxUnavailable = ptr.To(intstr.FromInt32(1))
	if _, err = e.cs.PolicyV1().PodDisruptionBudgets(e.namespace).Update(ctx, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPDBObserved(ctx, t, e, pdb.Name, 1)
	// 429 means "retry later" in the Eviction API (kubectl drain retries
	// it): the disruption controller may still recount the pods after the
	// status we read. Anything else fails at once.
	eventually(t, 30*time.Second, func() error {
		err := e.evict(ctx, victim.Name)
		if err != nil && statusCode(err) != http.StatusTooManyRequests {
			t.Fatalf("evicting %s once the PDB allows it: %v", victim.Name, err)
		}
		return err
	})

	eventually(t, 60*time.Second, func() error {
		running, err := e.runningPods(ctx, "app=smoke")
		if err != nil {
			return err
		}
		for _, p := range running {
			if p.Name == victim.Name {
				return fmt.Errorf("evicted pod %s still running", victim.Name)
			}
		}
		if len(running) != 3 {
			return fmt.Errorf("%d of 3 pods Running after the eviction", len(running))
		}
		return nil
	})
}

func (e *env) evict(ctx context.Context, pod string) error {
	return e.cs.PolicyV1().Evictions(e.namespace).Evict(ctx, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: e.namespace},
	})
}

// waitPDBObserved waits until the disruption controller has processed the
// PDB's latest spec; until then the Eviction API refuses every eviction.
func waitPDBObserved(ctx context.Context, t *testing.T, e *env, name string, allowed int32) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		pdb, err := e.cs.PolicyV1().PodDisruptionBudgets(e.namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pdb.Status.ObservedGeneration != pdb.Generation || pdb.Status.DisruptionsAllowed != allowed {
			return fmt.Errorf("PDB %s: observed generation %d of %d, %d disruptions allowed (want %d)",
				name, pdb.Status.ObservedGeneration, pdb.Generation, pdb.Status.DisruptionsAllowed, allowed)
		}
		return nil
	})
}

func scheduledBy(ctx context.Context, t *testing.T, e *env, p corev1.Pod, scheduler string) bool {
	t.Helper()
	found := false
	eventually(t, 10*time.Second, func() error {
		events, err := e.cs.CoreV1().Events(e.namespace).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + p.Name + ",reason=Scheduled",
		})
		if err != nil {
			return err
		}
		for _, ev := range events.Items {
			if ev.Source.Component == scheduler || ev.ReportingController == scheduler {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("no Scheduled event for %s yet", p.Name)
		}
		return nil
	})
	return found
}

func statusCode(err error) int32 {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Code
	}
	return 0
}
