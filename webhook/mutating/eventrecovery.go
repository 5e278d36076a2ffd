package mutating

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Recovering the Events a restart lost.
//
// The EventQueue holds a workload's placements in memory for up to an
// interval (10 s) before one Event sums them up; a manager killed (kill -9,
// OOM, node loss) loses that batch, and the Event queue of the events
// library too. The pods themselves say what trimtab decided for them (the
// decision-json annotation, with the workload), and the Events already
// written say up to when their workload was reported. So a starting
// manager, once its pod cache has synced, looks for pods that carry a
// decision but were created after the newest Event trimtab wrote on their
// workload (other than this process's own), and sums them up in one Event
// per workload and reason, saying they were placed before a restart.
//
// It waits an interval and two flush ticks after the sync first. In a
// rolling update the old replica still serves while the new one starts,
// and writes its last batches when it stops; by then those Events exist,
// and the pods they count are not counted again. An Event is this
// process's own when it carries this process's reporting instance (the
// controller and host name: a container restarted in place keeps it) and
// was written since this process started, on a workload this process has
// written Events on. (Managers sharing a host name, as the e2e tests run
// them, then still tell each other's Events from their own.)
//
// Recomputing from the cluster rather than persisting each batch (in a
// ConfigMap, or on the Decision) costs no write per interval and covers
// what a per-flush write cannot: the pods admitted since the last flush,
// which are exactly those a kill loses. Its limits:
//
//   - The pod's creation timestamp has one-second resolution, so the pods
//     created in the same second as that newest Event, other than the one
//     it names as related, are counted again: a recovered Event may count
//     up to one second's pods twice. A pod created a second or more before
//     that Event but not yet in the old process's cache when it wrote it
//     (informer lag, normally milliseconds) is missed.
//   - Only pods younger than RecoverWindow are looked at: older ones had
//     their Events written, or their Events have expired (the apiserver
//     keeps Events for an hour) and a repeat would be noise.
//   - Pods whose JSON decision was left out (annotations near the limit)
//     and pods trimtab did not label (placement left to the user) are not
//     in the manager's pod cache or carry nothing to count.
//   - With several webhook replicas, another replica's Events count as
//     reporting everything created before them, so a replica killed with
//     pods unreported may miss those created before another's newer Event.
//     The chart runs one replica (see values.yaml).

// ReportingInstance is the reporting instance client-go's events library
// puts on the Events of controller from this host ("<controller>-<host>",
// k8s.io/client-go/tools/events NewRecorder).
func ReportingInstance(controller string) string {
	host, _ := os.Hostname()
	return controller + "-" + host
}

// RecoverWindow is how far back a starting manager looks for pods whose
// Event a restart lost.
const RecoverWindow = 10 * time.Minute

// EventSource is the controller name on the webhook's Events: the
// reportingController a recovery looks for.
const EventSource = "trimtab-webhook"

// reported is when a workload's Events of one reason were last written, and
// the pod the newest one names as related (the last pod it counted).
type reported struct {
	at      time.Time
	related types.UID
}

// missed is a workload's pods of one reason that no Event counted.
type missed struct {
	k      batchKey
	tally  Tally
	first  time.Time
	latest time.Time
	last   *corev1.ObjectReference
}

// unreported returns, per workload and reason, the pods among pods that
// carry trimtab's decision, were created in [started-window, started) and
// no Event in last counted (see the limits above). It is pure: last is
// built from the Events trimtab wrote before started.
func unreported(pods []corev1.Pod, last map[batchKey]reported, started time.Time, window time.Duration) []missed {
	byKey := map[batchKey]*missed{}
	sort.Slice(pods, func(i, j int) bool {
		return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp)
	})
	for i := range pods {
		pod := &pods[i]
		created := pod.CreationTimestamp.Time
		if !created.Before(started) || created.Before(started.Add(-window)) {
			continue
		}
		d, ok := decisionOf(pod.Annotations)
		if !ok {
			continue
		}
		w, ok := keyOf(pod.Namespace, d.Workload)
		if !ok {
			continue
		}
		k := batchKey{workload: w, reason: reasonOf(d)}
		if r, seen := last[k]; seen && (created.Before(r.at.Truncate(time.Second)) || pod.UID == r.related) {
			continue
		}
		m := byKey[k]
		if m == nil {
			m = &missed{k: k, first: created}
			byKey[k] = m
		}
		m.tally.Add(d)
		m.latest = created
		m.last = &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	}
	out := make([]missed, 0, len(byKey))
	for _, m := range byKey {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].k, out[j].k
		if a.workload != b.workload {
			return a.workload.String() < b.workload.String()
		}
		return a.reason < b.reason
	})
	return out
}

// lastReported reads, from a namespace's Events, when trimtab last reported
// each workload and reason, leaving out the Events of this process:
// reporting instance self, written since started, on a workload and reason
// in own.
func lastReported(events []eventsv1.Event, self string, started time.Time, own map[batchKey]bool) map[batchKey]reported {
	out := map[batchKey]reported{}
	for _, ev := range events {
		if ev.ReportingController != EventSource || (ev.Reason != ReasonCapacityAssigned && ev.Reason != ReasonDecisionRecorded) {
			continue
		}
		at := eventTime(ev)
		k := batchKey{workload: WorkloadKey{Namespace: ev.Regarding.Namespace, Kind: ev.Regarding.Kind, Name: ev.Regarding.Name}, reason: ev.Reason}
		if ev.ReportingInstance == self && !at.Before(started) && own[k] { // written by this process
			continue
		}
		if r, ok := out[k]; ok && !r.at.Before(at) {
			continue
		}
		r := reported{at: at}
		if ev.Related != nil {
			r.related = ev.Related.UID
		}
		out[k] = r
	}
	return out
}

// eventTime is when an Event was last written.
func eventTime(ev eventsv1.Event) time.Time {
	at := ev.EventTime.Time
	if ev.Series != nil && ev.Series.LastObservedTime.After(at) {
		at = ev.Series.LastObservedTime.Time
	}
	if ev.DeprecatedLastTimestamp.After(at) {
		at = ev.DeprecatedLastTimestamp.Time
	}
	return at
}

// Recover writes an Event for each workload whose pods, created before this
// queue started, no Event counted: pods admitted just before a restart.
// pods are the placed pods of the synced cache; live lists Events (the
// manager's API reader: the manager caches no Events).
func (q *EventQueue) Recover(ctx context.Context, pods []corev1.Pod, live client.Reader) (int, error) {
	started := q.started
	q.mu.Lock()
	own := q.wrote
	q.wrote = nil // a recovery runs once
	q.mu.Unlock()
	recent := map[string][]corev1.Pod{}
	for _, p := range pods {
		if c := p.CreationTimestamp.Time; c.Before(started) && !c.Before(started.Add(-RecoverWindow)) {
			recent[p.Namespace] = append(recent[p.Namespace], p)
		}
	}
	namespaces := make([]string, 0, len(recent))
	for ns := range recent {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	written := 0
	for _, ns := range namespaces {
		var events eventsv1.EventList
		// The apiserver filters Events by reportingController (a field
		// selector it supports for events.k8s.io/v1), so a namespace's
		// other Events are not sent.
		if err := live.List(ctx, &events, client.InNamespace(ns), client.MatchingFields{"reportingController": EventSource}); err != nil {
			return written, fmt.Errorf("listing the Events of namespace %s: %w", ns, err)
		}
		for _, m := range unreported(recent[ns], lastReported(events.Items, q.Instance, started, own), started, RecoverWindow) {
			q.recorder.Eventf(q.ref(m.k.workload), m.last, corev1.EventTypeNormal, m.k.reason, "Admit", "%s",
				m.tally.message(m.k.reason, m.latest.Sub(m.first)+time.Second, " before a restart, not reported then"))
			written++
		}
	}
	return written, nil
}
