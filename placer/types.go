package placer

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/prices"
)

// Key names a workload: a Deployment, StatefulSet, Job or CronJob.
type Key struct {
	Namespace, Kind, Name string
}

// String is "namespace/Kind/name".
func (k Key) String() string { return k.Namespace + "/" + k.Kind + "/" + k.Name }

// Kind is why a pod moves; the values are the Decision's (api/v1alpha1).
type Kind string

// Move kinds.
const (
	MoveOut       Kind = "MoveOut"
	MoveBack      Kind = "MoveBack"
	Interruption  Kind = "Interruption"
	BaseShortfall Kind = "BaseShortfall"
)

// State is where a move stands; the values are the Decision's.
type State string

// Move states.
const (
	// Planned: evict when the gates allow (Action says whether now).
	Planned State = "Planned"
	// Evicting: the eviction was being requested when the plan was last
	// written; its outcome is unknown until the pod is looked at.
	Evicting State = "Evicting"
	// Evicted: the Eviction API accepted; the pod is going.
	Evicted State = "Evicted"
	// Blocked: the Eviction API refused; retried after NextAttempt.
	Blocked State = "Blocked"
	// DryRun: dry-run or shadow mode; the pod would have been evicted.
	DryRun State = "DryRun"
)

// Action is what the executor does with a move now.
type Action string

// Actions.
const (
	// Evict now.
	Evict Action = "evict"
	// Wait: a gate holds the move this round (Hold says which).
	Wait Action = "wait"
	// Record only: dry-run or shadow mode, or an eviction already made.
	Record Action = "record"
)

// Move is one pod in a plan.
type Move struct {
	Workload Key
	Pod      string
	UID      types.UID
	Node     string
	Market   prices.Market // zero when the node's market is unknown
	Kind     Kind
	// Reason says why the pod moves, in words.
	Reason string
	// Lands says where the simulation puts the replacement.
	Lands string
	State State
	// Action is what to do now; Hold says what holds a Wait.
	Action Action
	Hold   string
	// Attempts counts refused evictions; NextAttempt is when to retry.
	Attempts    int
	NextAttempt time.Time
	// Message is the Eviction API's last answer.
	Message   string
	PlannedAt time.Time
}

// String prints the move for logs and Events, e.g. "MoveOut shop/batch-1
// on spot-1 (c3.xlarge/us-east-1a/Linux/UNIX): <reason>; replacement: <lands>".
func (m Move) String() string {
	where := m.Node
	if m.Market != (prices.Market{}) {
		where += " (" + m.Market.String() + ")"
	}
	s := fmt.Sprintf("%s %s/%s on %s: %s", m.Kind, m.Workload.Namespace, m.Pod, where, m.Reason)
	if m.Lands != "" {
		s += "; replacement: " + m.Lands
	}
	if m.Action == Wait && m.Hold != "" {
		s += "; waiting: " + m.Hold
	}
	return s
}

// Skip is a pod the plan looked at and left where it is, and why.
type Skip struct {
	Workload Key
	Pod      string
	Node     string
	Reason   string
	// Job names the Job whose state or retries left the pod (jobs.go);
	// empty for every other reason.
	Job string
}

// String prints the skip for logs, e.g. "shop/web-1 on spot-1 stays: class
// critical: the placer only moves batch pods".
func (s Skip) String() string {
	return fmt.Sprintf("%s/%s on %s stays: %s", s.Workload.Namespace, s.Pod, s.Node, s.Reason)
}

// Eviction is one eviction made, counted against the budgets.
type Eviction struct {
	Time     time.Time
	Workload Key
	Pod      string
	UID      types.UID
	Kind     Kind
}
