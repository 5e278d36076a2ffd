package executor

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/trimtab-dev/trimtab/placer"
)

// Eviction outcomes, the values of the outcome label.
const (
	// OutcomeEvicted: the Eviction API accepted.
	OutcomeEvicted = "evicted"
	// OutcomeBlocked: refused with 429 (a PodDisruptionBudget); retried
	// after a backoff.
	OutcomeBlocked = "blocked"
	// OutcomeDropped: the pod was gone or replaced (404, or the UID
	// precondition failed); nothing left to do.
	OutcomeDropped = "dropped"
	// OutcomeFailed: any other error; the move is planned again.
	OutcomeFailed = "failed"
)

var (
	evictionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trimtab_placer_evictions_total",
		Help: "Eviction requests the placer made, by outcome (evicted: accepted; blocked: 429, a PodDisruptionBudget refused; dropped: the pod was gone or replaced; failed: any other error) and move kind (MoveOut, MoveBack, Interruption, BaseShortfall).",
	}, []string{"outcome", "kind"})
	movesPlanned = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_placer_moves",
		Help: "Moves in the placer's current plans (the Decisions' status.placement.moves), by state: Planned (waiting for a gate), Blocked (a refused eviction, backing off), Evicting, Evicted (the pod is terminating), DryRun.",
	}, []string{"state"})
	movesDone = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trimtab_placer_moves_done_total",
		Help: "Moves done: evictions the Eviction API accepted, including those found accepted after a restart, by move kind.",
	}, []string{"kind"})
	pendingAfterMove = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_placer_pending_pods",
		Help: "Pods not yet bound to a node, of workloads the placer evicted from within the eviction budget's window: the replacements a move is waiting for (a move with allowPending may leave them pending until a node provisioner adds capacity).",
	}, []string{"namespace", "kind", "name"})
)

func init() {
	metrics.Registry.MustRegister(evictionsTotal, movesPlanned, movesDone, pendingAfterMove)
}

// recordMoves sets the moves gauge from the plans written this round.
func recordMoves(states map[placer.State]int) {
	for _, s := range []placer.State{placer.Planned, placer.Blocked, placer.Evicting, placer.Evicted, placer.DryRun} {
		movesPlanned.WithLabelValues(string(s)).Set(float64(states[s]))
	}
}

// RecordPending sets, for each workload that has evictions within the
// budget window, how many of its pods are not bound to a node; workloads
// without recent evictions are dropped from the gauge.
func RecordPending(ws []placer.Workload) {
	pendingAfterMove.Reset()
	for _, w := range ws {
		if len(w.Evictions) == 0 {
			continue
		}
		n := 0
		for _, p := range w.Pods {
			if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
				n++
			}
		}
		pendingAfterMove.WithLabelValues(w.Key.Namespace, w.Key.Kind, w.Key.Name).Set(float64(n))
	}
}
