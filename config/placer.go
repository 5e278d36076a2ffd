package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PlacerSettings are the operator's settings of the placer: what signals an
// interruption, how fast it may evict, and whether it evicts at all. Flags
// and Helm values (placer.*) map onto them; docs/placer.md explains each.
type PlacerSettings struct {
	// DryRun plans and records every move on the Decisions and evicts
	// nothing.
	DryRun bool
	// InterruptionTaints are taint keys that mark a spot node about to go
	// (a spot interruption notice, a rebalance recommendation, a
	// disruption): its batch pods are moved off it once. Default: AWS Node
	// Termination Handler's four and Karpenter's disrupted taint.
	InterruptionTaints []string
	// InterruptionConditions are node condition types whose status True
	// means the same (e.g. a node-problem-detector condition). Default none.
	InterruptionConditions []string
	// WorkloadBudget bounds the evictions of one workload and ClusterBudget
	// those of the whole cluster, each over a sliding window.
	WorkloadBudget, ClusterBudget Budget
	// AllowPending evicts a pod even when the simulation finds no node for
	// its replacement, because a node provisioner (Karpenter,
	// cluster-autoscaler) will add one. Off: such a pod stays put and the
	// plan says why.
	AllowPending bool
	// Settle is how long the placer waits after a workload's Decision
	// shows the new capacity before evicting, so every webhook replica's
	// cache has it and the replacements land where the split now says.
	Settle time.Duration
	// BackoffBase and BackoffMax bound the wait after a refused eviction
	// (429): it doubles from BackoffBase up to BackoffMax.
	BackoffBase, BackoffMax time.Duration
	// MaxMoves bounds one workload's plan: a larger move is made in rounds
	// of MaxMoves pods, so a Decision's status stays small.
	MaxMoves int
}

// Budget is at most Evictions evictions in any Per.
type Budget struct {
	Evictions int
	Per       time.Duration
}

// String prints the budget as ParseBudget reads it, e.g. "2/1m0s".
func (b Budget) String() string { return strconv.Itoa(b.Evictions) + "/" + b.Per.String() }

// ParseBudget reads "N/duration", e.g. "2/1m": at most N evictions in any
// minute.
func ParseBudget(s string) (Budget, error) {
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Budget{}, fmt.Errorf("budget %q: want evictions/duration, e.g. \"2/1m\"", s)
	}
	e, err := strconv.Atoi(n)
	if err != nil || e < 0 {
		return Budget{}, fmt.Errorf("budget %q: %q is not a whole number ≥ 0 of evictions, e.g. \"2/1m\"", s, n)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Budget{}, fmt.Errorf("budget %q: %q is not a positive duration, e.g. \"2/1m\"", s, per)
	}
	return Budget{Evictions: e, Per: d}, nil
}

// Interruption signals of AWS Node Termination Handler (its taint keys,
// pkg/node/node.go) and Karpenter (karpenter.sh/disrupted, set before it
// drains a node it disrupts).
var (
	NTHTaints = []string{
		"aws-node-termination-handler/spot-itn",
		"aws-node-termination-handler/rebalance-recommendation",
		"aws-node-termination-handler/scheduled-maintenance",
		"aws-node-termination-handler/asg-lifecycle-termination",
	}
	KarpenterDisruptedTaint = "karpenter.sh/disrupted"
)

// DefaultPlacerSettings returns the defaults: evict, NTH's and Karpenter's
// taints, 2 evictions a minute per workload and 20 in the cluster, nothing
// evicted whose replacement would not fit now.
func DefaultPlacerSettings() PlacerSettings {
	return PlacerSettings{
		InterruptionTaints: append(append([]string(nil), NTHTaints...), KarpenterDisruptedTaint),
		WorkloadBudget:     Budget{Evictions: 2, Per: time.Minute},
		ClusterBudget:      Budget{Evictions: 20, Per: time.Minute},
		Settle:             5 * time.Second,
		BackoffBase:        10 * time.Second,
		BackoffMax:         5 * time.Minute,
		MaxMoves:           50,
	}
}

// Validate reports every invalid placer setting at once.
func (s PlacerSettings) Validate() error {
	var errs field.ErrorList
	root := field.NewPath("placer")
	for i, k := range s.InterruptionTaints {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(root.Child("interruptionTaints").Index(i), k, "must be a taint key, e.g. \"aws-node-termination-handler/spot-itn\": "+msg))
		}
	}
	for i, c := range s.InterruptionConditions {
		for _, msg := range validation.IsQualifiedName(c) {
			errs = append(errs, field.Invalid(root.Child("interruptionConditions").Index(i), c, "must be a node condition type, e.g. \"SpotInterruption\": "+msg))
		}
	}
	for _, b := range []struct {
		name string
		b    Budget
	}{{"workloadBudget", s.WorkloadBudget}, {"clusterBudget", s.ClusterBudget}} {
		if b.b.Evictions < 0 || b.b.Per <= 0 {
			errs = append(errs, field.Invalid(root.Child(b.name), b.b.String(), "want evictions ≥ 0 over a positive duration, e.g. \"2/1m\""))
		}
	}
	if s.Settle < 0 {
		errs = append(errs, field.Invalid(root.Child("settle"), s.Settle.String(), "want a duration ≥ 0"))
	}
	if s.BackoffBase <= 0 || s.BackoffMax < s.BackoffBase {
		errs = append(errs, field.Invalid(root.Child("backoffMax"), s.BackoffMax.String(),
			fmt.Sprintf("want a positive backoffBase (%v) and backoffMax ≥ it", s.BackoffBase)))
	}
	if s.MaxMoves < 1 {
		errs = append(errs, field.Invalid(root.Child("maxMoves"), s.MaxMoves, "want at least 1"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid placer settings: %w", errs.ToAggregate())
	}
	return nil
}
