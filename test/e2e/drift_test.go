package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/decision"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// TestDriftOfPodsAdmittedWhileDown (issue 17, item 2): a Deployment with an
// on-demand base created while the manager was down gets pods without a
// placement; once a manager runs the decision controller, its Decision
// reports the drift and a BaseDrift Warning lands on the Deployment.
func TestDriftOfPodsAdmittedWhileDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prom, err := cluster.Start(t).StartPrometheus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)
	m.stop()

	dep := deployment("web", 6, policy(config.AnnotationCapacity, "auto", config.AnnotationOnDemandBase, "2",
		config.AnnotationMode, "enforce", config.AnnotationMetric, "vector(300)", config.AnnotationTargetPerPod, "50",
		config.AnnotationReplicas, "6..6"))
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.waitRunning(t, "app=web", 6) {
		if _, ok := p.Annotations[config.AnnotationDecision]; ok {
			t.Fatalf("pod %s was placed although the manager was down", p.Name)
		}
	}

	decisionManager(t, prom, routedTo(m))
	c := e.client(t)
	start := time.Now()
	eventually(t, 2*time.Minute, func() error {
		d := e.decision(t, c, "web")
		if d == nil || d.Status.Capacity == nil || d.Status.Capacity.Drift == nil {
			return fmt.Errorf("no drift on the Decision yet: %+v", d)
		}
		if dr := d.Status.Capacity.Drift; dr.Pods != 6 || dr.Unplaced != 6 || dr.Short != 2 || dr.WantOnDemand != 2 {
			return fmt.Errorf("drift = %+v, want 6 pods unplaced, on-demand 2 short of 2", *dr)
		}
		return nil
	})
	t.Logf("drift reported %.0fs after the decision controller started", time.Since(start).Seconds())
	eventually(t, 30*time.Second, func() error {
		evs, err := e.cs.EventsV1().Events(e.namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, ev := range evs.Items {
			if ev.Reason == decision.ReasonBaseDrift && ev.Regarding.Kind == "Deployment" && ev.Regarding.Name == "web" &&
				strings.Contains(ev.Note, "on-demand 2 short of 2; 6 of 6 pods without a placement") {
				return nil
			}
		}
		return fmt.Errorf("no %s Event on Deployment/web among %d Events", decision.ReasonBaseDrift, len(evs.Items))
	})
}
