package mutating

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/trimtab-dev/trimtab/config"
)

// ReasonCapacityAssigned is the reason of the Event on a pod trimtab placed;
// ReasonDecisionRecorded the reason in shadow mode or when the user pinned
// the capacity type.
const (
	ReasonCapacityAssigned = "CapacityAssigned"
	ReasonDecisionRecorded = "DecisionRecorded"
)

// EventQueue repeats each admission decision as an Event on the pod. At
// admission the pod has no name (generateName is resolved later) and no UID,
// so an Event cannot be attached then; the queue holds the decision until the
// pod informer shows a pod carrying the same admission ID, and records the
// Event on it. Only the replica that admitted a pod records its Event, and a
// restart never repeats old Events, because the queue lives in memory.
type EventQueue struct {
	recorder events.EventRecorder
	clock    clock.PassiveClock
	ttl      time.Duration

	mu      sync.Mutex
	pending map[string]pendingEvent
}

type pendingEvent struct {
	decision PodDecision
	at       time.Time
}

// NewEventQueue returns a queue recording through recorder. Decisions whose
// pod does not appear within ttl (the create failed after admission) are
// dropped.
func NewEventQueue(recorder events.EventRecorder, c clock.PassiveClock, ttl time.Duration) *EventQueue {
	return &EventQueue{recorder: recorder, clock: c, ttl: ttl, pending: map[string]pendingEvent{}}
}

// Expect queues d until its pod appears.
func (q *EventQueue) Expect(d PodDecision) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for id, p := range q.pending {
		if now.Sub(p.at) > q.ttl {
			delete(q.pending, id)
		}
	}
	q.pending[d.AdmissionID] = pendingEvent{decision: d, at: now}
}

// Observe is called for every pod the informer shows; it records the Event
// if the pod's decision is queued here.
func (q *EventQueue) Observe(pod *corev1.Pod) {
	d, ok := decisionOf(pod.Annotations)
	if !ok {
		return
	}
	q.mu.Lock()
	_, queued := q.pending[d.AdmissionID]
	delete(q.pending, d.AdmissionID)
	q.mu.Unlock()
	if !queued {
		return
	}
	reason := ReasonCapacityAssigned
	if d.Placement == "" || d.Mode != config.ModeEnforce {
		reason = ReasonDecisionRecorded
	}
	q.recorder.Eventf(pod, nil, corev1.EventTypeNormal, reason, "Admit", "%s", d.String())
}
