package mutating

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trimtab-dev/trimtab/internal/eventnote"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// ReasonCapacityAssigned is the reason of the Event on a workload whose pods
// trimtab placed; ReasonDecisionRecorded the reason in shadow mode or when
// the user pinned the capacity type.
const (
	ReasonCapacityAssigned = "CapacityAssigned"
	ReasonDecisionRecorded = "DecisionRecorded"
)

// DefaultEventInterval is how long the EventQueue gathers a workload's
// placements into one Event: at 200 pods/s one Event per workload per 10 s
// instead of 200 Event writes a second, which the client throttle delayed by
// tens of seconds and the apiserver's event rate limit dropped (issue 17).
const DefaultEventInterval = 10 * time.Second

// EventQueue repeats admission decisions as Events on the workload, one per
// workload per interval, as kube-scheduler and Karpenter aggregate theirs.
// Each pod keeps its own decision in its annotations (`kubectl describe
// pod`); the Event says what a workload's pods got (`kubectl describe
// deployment`): "placed 17 pods in 10s: 3 on-demand (base), 14 spot".
//
// At admission the pod has no name (generateName is resolved later), so
// the queue holds the decision until the pod informer shows a pod carrying
// the same admission ID: the Event then counts only pods that exist. The
// first pod of a workload quiet for an interval is reported at once with its
// whole decision, so a single pod's Event is not late; the pods after it
// are gathered until the interval has passed since, and Flush writes them.
// Only the replica that admitted a pod counts it. The queue lives in
// memory; what a restart loses, Recover finds again from the pods and the
// Events already written (eventrecovery.go).
type EventQueue struct {
	recorder events.EventRecorder
	clock    clock.PassiveClock
	ttl      time.Duration
	// Interval is how long placements are gathered per workload.
	Interval time.Duration
	// UIDOf, if set, returns the UID of a workload so its Events carry it:
	// `kubectl describe` finds a workload's Events by UID. Empty when not
	// known.
	UIDOf func(WorkloadKey) types.UID

	// Instance is the reporting instance of the queue's Events
	// (ReportingInstance), so Recover tells its own Events from those an
	// earlier process or another replica wrote.
	Instance string
	// started is when the queue was made: pods created before it were
	// admitted by an earlier process (Recover).
	started time.Time

	mu      sync.Mutex
	pending map[string]pendingEvent
	batches map[batchKey]*batch
	// wrote holds the workloads and reasons this queue has written Events
	// for, until Recover has run (nil after).
	wrote map[batchKey]bool
}

type pendingEvent struct {
	decision PodDecision
	at       time.Time
}

// batchKey is one workload's Events of one reason.
type batchKey struct {
	workload WorkloadKey
	reason   string
}

// batch gathers a workload's placements since opened.
type batch struct {
	opened time.Time
	tally  Tally
	// last is the last pod counted, the Event's related object. It also
	// keeps each Event apart for the events library, which folds Events
	// with the same regarding, related, reason and action into a series
	// of the first one, message and all (client-go tools/events getKey).
	last *corev1.ObjectReference
}

// Tally counts a workload's decisions by where they put the pods.
type Tally struct {
	Pods int
	// Base counts pods placed on on-demand to fill the base, OnDemand those
	// on on-demand beyond it, Spot those on spot, Unplaced those trimtab
	// did not place (the user pinned them).
	Base, OnDemand, Spot, Unplaced int
	// Last is the last decision counted, quoted in the message.
	Last PodDecision
}

// Add counts d.
func (t *Tally) Add(d PodDecision) {
	t.Pods++
	switch {
	case d.Placement == capacity.OnDemand && d.Base:
		t.Base++
	case d.Placement == capacity.OnDemand:
		t.OnDemand++
	case d.Placement == capacity.Spot:
		t.Spot++
	default:
		t.Unplaced++
	}
	t.Last = d
}

// maxEventNote is how much of a message an Event carries: the events API
// refuses a note over 1 KiB.
const maxEventNote = eventnote.Max

// Message says what the tally counts, e.g. "placed 17 pods in 10s: 3
// on-demand (base), 14 spot; last: spot (preferred): on-demand base 3
// filled, spot preferred for the rest".
func (t Tally) Message(reason string, window time.Duration) string {
	return t.message(reason, window, "")
}

// message is Message with a qualifier after the window, e.g. " before a
// restart, not reported then".
func (t Tally) message(reason string, window time.Duration, qualifier string) string {
	var b strings.Builder
	verb := "placed"
	if reason == ReasonDecisionRecorded {
		verb = "recorded decisions for"
	}
	pods := "pods"
	if t.Pods == 1 {
		pods = "pod"
	}
	fmt.Fprintf(&b, "%s %d %s in %s%s:", verb, t.Pods, pods, window.Round(time.Second), qualifier)
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{t.Base, "on-demand (base)"}, {t.OnDemand, "on-demand"}, {t.Spot, "spot"}, {t.Unplaced, "not placed"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	fmt.Fprintf(&b, " %s; last: %s", strings.Join(parts, ", "), t.Last.Summary())
	return clipNote(b.String())
}

func clipNote(s string) string { return eventnote.Clip(s) }

// NewEventQueue returns a queue recording through recorder every
// DefaultEventInterval. Decisions whose pod does not appear within ttl (the
// create failed after admission) are dropped.
func NewEventQueue(recorder events.EventRecorder, c clock.PassiveClock, ttl time.Duration) *EventQueue {
	return &EventQueue{recorder: recorder, clock: c, ttl: ttl, Interval: DefaultEventInterval, started: c.Now(),
		pending: map[string]pendingEvent{}, batches: map[batchKey]*batch{}, wrote: map[batchKey]bool{}}
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

// Observe is called for every pod the informer shows; it counts the pod's
// decision if it is queued here, and records it at once if it is the first
// of its workload in an interval.
func (q *EventQueue) Observe(pod *corev1.Pod) {
	d, ok := decisionOf(pod.Annotations)
	if !ok {
		return
	}
	reason := reasonOf(d)
	w, ok := keyOf(pod.Namespace, d.Workload)
	q.mu.Lock()
	_, queued := q.pending[d.AdmissionID]
	delete(q.pending, d.AdmissionID)
	if !queued {
		q.mu.Unlock()
		return
	}
	if !ok { // a decision naming no workload: say it on the pod, as before
		q.mu.Unlock()
		q.recorder.Eventf(pod, nil, corev1.EventTypeNormal, reason, "Admit", "%s", clipNote(d.String()))
		return
	}
	k := batchKey{workload: w, reason: reason}
	podRef := &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	if b, open := q.batches[k]; open {
		b.tally.Add(d)
		b.last = podRef
		q.mu.Unlock()
		return
	}
	q.batches[k] = &batch{opened: q.clock.Now()}
	if q.wrote != nil {
		q.wrote[k] = true
	}
	q.mu.Unlock()
	q.recorder.Eventf(q.ref(w), podRef, corev1.EventTypeNormal, reason, "Admit", "%s", clipNote("pod "+pod.Name+": "+d.String()))
}

// reasonOf is the reason of the Event that reports d.
func reasonOf(d PodDecision) string {
	if d.Placement == "" || d.Mode != config.ModeEnforce {
		return ReasonDecisionRecorded
	}
	return ReasonCapacityAssigned
}

// Flush records the batches whose interval has passed and opens the next
// interval's; a batch that gathered nothing is closed silently, so the next
// pod of its workload, quiet for a whole interval, is reported at once. all
// flushes and closes every batch (on shutdown).
func (q *EventQueue) Flush(all bool) {
	now := q.clock.Now()
	type record struct {
		k batchKey
		b batch
	}
	var due []record
	q.mu.Lock()
	for k, b := range q.batches {
		if !all && now.Sub(b.opened) < q.Interval {
			continue
		}
		if b.tally.Pods == 0 || all {
			delete(q.batches, k)
		} else {
			// Still busy: the next interval's pods go to the next batch,
			// not to an Event of their own.
			q.batches[k] = &batch{opened: now}
		}
		if b.tally.Pods > 0 {
			due = append(due, record{k, *b})
		}
	}
	q.mu.Unlock()
	for _, r := range due {
		q.recorder.Eventf(q.ref(r.k.workload), r.b.last, corev1.EventTypeNormal, r.k.reason, "Admit", "%s",
			r.b.tally.Message(r.k.reason, now.Sub(r.b.opened)))
	}
}

// ref is the object reference an Event on workload w regards.
func (q *EventQueue) ref(w WorkloadKey) *corev1.ObjectReference {
	apiVersion := "apps/v1"
	if w.Kind == "Job" || w.Kind == "CronJob" {
		apiVersion = "batch/v1"
	}
	r := &corev1.ObjectReference{APIVersion: apiVersion, Kind: w.Kind, Namespace: w.Namespace, Name: w.Name}
	if q.UIDOf != nil {
		r.UID = q.UIDOf(w)
	}
	return r
}
