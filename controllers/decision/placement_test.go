package decision

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
)

// TestStatusWritesKeepThePlacerRecord: status.placement is the placer's
// (controllers/placement/executor); the controller's own status writes leave it alone,
// or a leader change could lose the record of a move in flight.
func TestStatusWritesKeepThePlacerRecord(t *testing.T) {
	h := newHarness(t)
	h.deployment("etl", 2, metricPolicy("vector(100)", "50", "1..20", "enforce"))
	h.prom.Set("vector(100)", 100)
	h.sync()
	d := h.decision("etl")
	d.Status.Placement = &v1alpha1.PlacementStatus{Summary: "1 move(s): 1 evicting",
		Moves: []v1alpha1.PodMove{{Pod: "etl-0", UID: "u-1", Node: "spot-1", Kind: v1alpha1.MoveOut, Reason: "off spot", State: v1alpha1.MoveEvicting, PlannedAt: metav1.NewTime(h.clock.Now())}}}
	if err := h.c.Status().Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	h.prom.Set("vector(100)", 400) // a new target: the controller writes its status
	for range 3 {
		h.sync()
	}
	d = h.decision("etl")
	if d.Status.DesiredReplicas != 8 {
		t.Fatalf("desired %d, want 8: the controller did not write a new status", d.Status.DesiredReplicas)
	}
	if p := d.Status.Placement; p == nil || len(p.Moves) != 1 || p.Moves[0].State != v1alpha1.MoveEvicting {
		t.Errorf("placement after the controller's writes: %+v, want the placer's record untouched", p)
	}
}
