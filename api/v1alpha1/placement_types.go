package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PlacementStatus is the placer's record for one workload (docs/placer.md).
type PlacementStatus struct {
	// Summary is the placer's state in a few words, e.g. "moving out 2/6:
	// c3.xlarge/us-east-1a off spot"; empty when there is nothing to say.
	// +optional
	Summary string `json:"summary,omitempty"`
	// Outlook is the spot outlook the workload's capacity split follows:
	// off spot while a market its pods may run in is forecast to spike.
	// +optional
	Outlook *OutlookStatus `json:"outlook,omitempty"`
	// Moves is the current plan, one entry per pod; entries leave once
	// their pod is gone, or when the plan no longer calls for the move.
	// +optional
	// +listType=atomic
	Moves []PodMove `json:"moves,omitempty"`
	// Evictions are the workload's evictions within the budget window;
	// they count against its budget and the cluster's.
	// +optional
	// +listType=atomic
	Evictions []EvictionRecord `json:"evictions,omitempty"`
	// DryRun says the placer only plans: the moves are written here and no
	// pod is evicted.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// LastPlanTime is when the placer last planned for the workload.
	// +optional
	LastPlanTime *metav1.Time `json:"lastPlanTime,omitempty"`
	// Conditions: PricesFresh says whether the spot prices of the markets
	// the workload may run in are fresh enough to act on; PlacementScores
	// whether their spot placement scores are read and fresh.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// OutlookStatus is the spot outlook of one workload.
type OutlookStatus struct {
	// OffSpot says new pods beyond the on-demand base go to on-demand.
	OffSpot bool `json:"offSpot"`
	// Markets are the spot markets (instance-type/zone) holding the
	// workload off spot; empty when it is on spot.
	// +optional
	// +listType=atomic
	Markets []string `json:"markets,omitempty"`
	// Reason says why, in words: the market, its price and threshold, the
	// forecast probability or placement score, since when.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Since is when the workload went off spot.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
	// EarliestBack is the earliest time the forecaster's hysteresis lets it
	// go back, if the market stays calm.
	// +optional
	EarliestBack *metav1.Time `json:"earliestBack,omitempty"`
}

// Move kinds: why a pod is moved.
const (
	// MoveOut moves a pod off a spot market forecast to spike.
	MoveOut = "MoveOut"
	// MoveBack returns a pod to spot once the spike has passed.
	MoveBack = "MoveBack"
	// MoveInterruption moves a pod off a node with an interruption or
	// rebalance signal.
	MoveInterruption = "Interruption"
	// MoveBaseShortfall moves a spot pod to on-demand because fewer pods
	// than the on-demand base run there.
	MoveBaseShortfall = "BaseShortfall"
)

// Move states.
const (
	// MovePlanned: the pod will be evicted when the budgets and the
	// backoff allow.
	MovePlanned = "Planned"
	// MoveEvicting: the eviction was about to be requested when this was
	// written; a new leader finding it checks the pod before asking again.
	MoveEvicting = "Evicting"
	// MoveEvicted: the Eviction API accepted; the pod is going.
	MoveEvicted = "Evicted"
	// MoveBlocked: the Eviction API refused (429: a PodDisruptionBudget
	// allows no disruption now); retried at NextAttempt.
	MoveBlocked = "Blocked"
	// MoveDryRun: dry-run or shadow mode; the pod would have been evicted.
	MoveDryRun = "DryRun"
)

// PodMove is one pod in the plan.
type PodMove struct {
	// Pod is the pod's name in the Decision's namespace.
	Pod string `json:"pod"`
	// UID is the pod's UID: the eviction carries it as a precondition, so
	// a pod of the same name created since is never evicted by mistake.
	UID types.UID `json:"uid"`
	// Node is the node the pod was on when planned.
	Node string `json:"node"`
	// Market is the node's spot market (instance-type/zone), if known.
	// +optional
	Market string `json:"market,omitempty"`
	// Kind is MoveOut, MoveBack, Interruption or BaseShortfall.
	Kind string `json:"kind"`
	// Reason says why the pod moves and where its replacement lands.
	Reason string `json:"reason"`
	// State is Planned, Evicting, Evicted, Blocked or DryRun.
	State string `json:"state"`
	// Attempts counts eviction requests refused so far.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// NextAttempt is when a refused eviction is tried again.
	// +optional
	NextAttempt *metav1.Time `json:"nextAttempt,omitempty"`
	// Message is the last answer of the Eviction API, or what holds the
	// move (a budget, a backoff).
	// +optional
	Message string `json:"message,omitempty"`
	// PlannedAt is when the move entered the plan.
	PlannedAt metav1.Time `json:"plannedAt"`
}

// EvictionRecord is one eviction the placer made.
type EvictionRecord struct {
	// Time is when the Eviction API accepted it.
	Time metav1.Time `json:"time"`
	// Pod and UID name the evicted pod.
	Pod string    `json:"pod"`
	UID types.UID `json:"uid"`
	// Kind is the move's kind.
	Kind string `json:"kind"`
}

// PricesFresh is the placement condition saying whether the spot prices of
// the markets a workload may run in were refreshed recently enough to act
// on; False holds every price-driven move (interruptions still move).
const PricesFresh = "PricesFresh"

// PlacementScores is the placement condition saying whether EC2's spot
// placement scores of the markets a workload may run in are read and
// fresh; False (the permission missing, too few instance types to ask
// about, or readings too old) means its capacity follows the prices alone,
// or holds what the scores last said.
const PlacementScores = "PlacementScores"
