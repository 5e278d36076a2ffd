package executor

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/placer"
)

// TestMetrics: an eviction accepted and one refused by the PDB count as
// evicted and blocked, the accepted one as a move done; a workload with
// evictions in the window reports its unbound pods as pending. The moves
// here are of kind BaseShortfall, which no other test of the package
// uses, so the parallel tests' evictions do not change the counts read.
func TestMetrics(t *testing.T) {
	h := newHarness(t, settings())
	w, pods := h.workload("metrics", config.ClassBatch, 2)
	h.pdb("metrics", 1)
	plan := h.evictAll(w, pods)
	for i := range plan {
		plan[i].Kind = placer.BaseShortfall
	}
	kind := string(placer.BaseShortfall)
	evicted0 := metric(t, "trimtab_placer_evictions_total", "outcome", OutcomeEvicted, "kind", kind)
	blocked0 := metric(t, "trimtab_placer_evictions_total", "outcome", OutcomeBlocked, "kind", kind)
	done0 := metric(t, "trimtab_placer_moves_done_total", "kind", kind)
	if _, err := h.ex.Apply(context.Background(), placer.Input{Workloads: []placer.Workload{w}}, placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: plan}}); err != nil {
		t.Fatal(err)
	}
	if d := metric(t, "trimtab_placer_evictions_total", "outcome", OutcomeEvicted, "kind", kind) - evicted0; d != 1 {
		t.Errorf("evicted +%v, want +1", d)
	}
	if d := metric(t, "trimtab_placer_evictions_total", "outcome", OutcomeBlocked, "kind", kind) - blocked0; d != 1 {
		t.Errorf("blocked (429) +%v, want +1", d)
	}
	if d := metric(t, "trimtab_placer_moves_done_total", "kind", kind) - done0; d != 1 {
		t.Errorf("moves done +%v, want +1", d)
	}

	// The replacement is pending: the workload's unbound pod is counted.
	w.Evictions = []placer.Eviction{{Time: h.clock.Now(), Workload: w.Key, Pod: pods[0].Name, UID: pods[0].UID}}
	w.Pods = append(w.Pods, &corev1.Pod{})
	quiet := placer.Workload{Key: placer.Key{Namespace: h.ns, Kind: "Deployment", Name: "quiet"}, Pods: []*corev1.Pod{{}}}
	RecordPending([]placer.Workload{w, quiet})
	if got := metric(t, "trimtab_placer_pending_pods", "namespace", w.Key.Namespace, "kind", w.Key.Kind, "name", w.Key.Name); got != 1 {
		t.Errorf("pending pods %v, want 1", got)
	}
	if n := series(t, "trimtab_placer_pending_pods"); n != 1 {
		t.Errorf("%d pending series, want only the workload with evictions", n)
	}
}

// metric reads a counter's or gauge's value from the manager's registry,
// the series with the label pairs given (0 when there is none).
func metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue next
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return 0
}

// series counts a metric's series in the manager's registry.
func series(t *testing.T, name string) int {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}
