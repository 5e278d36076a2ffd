package mutating

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

var restartAt = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// podAt is a pod of namespace ns created at restartAt+offset with decision d.
func podAt(ns, name string, offset time.Duration, d PodDecision) corev1.Pod {
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(restartAt.Add(offset).Truncate(time.Second)), Annotations: map[string]string{}}}
	if _, err := d.annotate(pod.Annotations, annotationLimit); err != nil {
		panic(err)
	}
	return pod
}

func webhookEvent(ns, kind, name, reason string, offset time.Duration, related string) eventsv1.Event {
	ev := eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: ns, Name: name + "." + related},
		EventTime:           metav1.NewMicroTime(restartAt.Add(offset)),
		ReportingController: EventSource, ReportingInstance: EventSource + "-host",
		Reason: reason, Action: "Admit", Type: corev1.EventTypeNormal,
		Regarding: corev1.ObjectReference{Namespace: ns, Kind: kind, Name: name},
	}
	if related != "" {
		ev.Related = &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: related, UID: types.UID("uid-" + related)}
	}
	return ev
}

func TestUnreported(t *testing.T) {
	web := func(id string, p capacity.Type, base bool) PodDecision { return placed(id, "Deployment/web", p, base) }
	shadow := PodDecision{AdmissionID: "s", Workload: "Deployment/web", Mode: config.ModeShadow, Placement: capacity.Spot}
	webCA := batchKey{workload: WorkloadKey{Namespace: "ns", Kind: "Deployment", Name: "web"}, reason: ReasonCapacityAssigned}
	cases := []struct {
		name   string
		pods   []corev1.Pod
		events []eventsv1.Event
		// own are the workloads this process wrote Events on.
		own  map[batchKey]bool
		want map[batchKey]int // pods missed per key
	}{
		{name: "no pods"},
		{
			name: "a batch lost to a kill: pods after the newest Event",
			pods: []corev1.Pod{
				podAt("ns", "a", -20*time.Second, web("a", capacity.OnDemand, true)),
				podAt("ns", "b", -8*time.Second, web("b", capacity.Spot, false)),
				podAt("ns", "c", -6*time.Second, web("c", capacity.Spot, false)),
			},
			events: []eventsv1.Event{webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -19500*time.Millisecond, "a")},
			want:   map[batchKey]int{webCA: 2},
		},
		{
			name: "all reported: the newest Event counted up to the last pod",
			pods: []corev1.Pod{
				podAt("ns", "a", -20*time.Second, web("a", capacity.OnDemand, true)),
				podAt("ns", "b", -8*time.Second, web("b", capacity.Spot, false)),
			},
			events: []eventsv1.Event{
				webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -19500*time.Millisecond, "a"),
				webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -7500*time.Millisecond, "b"),
			},
		},
		{
			name: "no Event at all (the first one was lost too)",
			pods: []corev1.Pod{podAt("ns", "a", -3*time.Second, web("a", capacity.OnDemand, true))},
			want: map[batchKey]int{webCA: 1},
		},
		{
			name: "pods of this process, and pods older than the window, are not counted",
			pods: []corev1.Pod{
				podAt("ns", "old", -RecoverWindow-time.Second, web("old", capacity.Spot, false)),
				podAt("ns", "new", time.Second, web("new", capacity.Spot, false)),
			},
		},
		{
			name: "an Event this process wrote does not cover the earlier process's pods",
			pods: []corev1.Pod{podAt("ns", "a", -3*time.Second, web("a", capacity.Spot, false))},
			events: []eventsv1.Event{
				webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, 2*time.Second, "z"),
			},
			own:  map[batchKey]bool{webCA: true},
			want: map[batchKey]int{webCA: 1},
		},
		{
			name: "another manager on the same host wrote it (this one wrote nothing on the workload): it counts",
			pods: []corev1.Pod{podAt("ns", "a", -3*time.Second, web("a", capacity.Spot, false))},
			events: []eventsv1.Event{
				webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, 2*time.Second, "a"),
			},
		},
		{
			name: "a rolling update: the old replica's last batch, written after this start, counts",
			pods: []corev1.Pod{podAt("ns", "a", -3*time.Second, web("a", capacity.Spot, false))},
			events: func() []eventsv1.Event {
				ev := webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, 2*time.Second, "a")
				ev.ReportingInstance = EventSource + "-old-pod"
				return []eventsv1.Event{ev}
			}(),
		},
		{
			name: "another controller's Event does not count",
			pods: []corev1.Pod{podAt("ns", "a", -3*time.Second, web("a", capacity.Spot, false))},
			events: func() []eventsv1.Event {
				ev := webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -time.Second, "a")
				ev.ReportingController = "someone-else"
				return []eventsv1.Event{ev}
			}(),
			want: map[batchKey]int{webCA: 1},
		},
		{
			name: "per reason: a shadow pod is not covered by a CapacityAssigned Event",
			pods: []corev1.Pod{
				podAt("ns", "a", -3*time.Second, web("a", capacity.Spot, false)),
				podAt("ns", "s", -2*time.Second, shadow),
			},
			events: []eventsv1.Event{webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -time.Second, "a")},
			want:   map[batchKey]int{{workload: webCA.workload, reason: ReasonDecisionRecorded}: 1},
		},
		{
			name: "the same second as the Event: counted again, but not its related pod",
			pods: []corev1.Pod{
				podAt("ns", "a", -5*time.Second, web("a", capacity.Spot, false)),
				podAt("ns", "b", -5*time.Second, web("b", capacity.Spot, false)),
			},
			events: []eventsv1.Event{webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -4500*time.Millisecond, "a")},
			want:   map[batchKey]int{webCA: 1},
		},
		{
			name: "a pod without a decision or naming no workload",
			pods: []corev1.Pod{
				{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bare", CreationTimestamp: metav1.NewTime(restartAt.Add(-time.Second))}},
				podAt("ns", "x", -time.Second, placed("x", "nonsense", capacity.Spot, false)),
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[batchKey]int{}
			for _, m := range unreported(c.pods, lastReported(c.events, EventSource+"-host", restartAt, c.own), restartAt, RecoverWindow) {
				got[m.k] = m.tally.Pods
				if m.last == nil || m.first.After(m.latest) {
					t.Errorf("%v: last %v, first %s after latest %s", m.k, m.last, m.first, m.latest)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("missed %v, want %v", got, c.want)
			}
			for k, n := range c.want {
				if got[k] != n {
					t.Errorf("missed %v, want %v", got, c.want)
				}
			}
		})
	}
}

// TestRecoverWritesTheLostBatch: a queue started after a restart writes one
// Event for the pods the earlier process admitted after its last Event,
// and nothing when asked again once that Event exists.
func TestRecoverWritesTheLostBatch(t *testing.T) {
	clk := clocktesting.NewFakeClock(restartAt)
	rec := &fakeRecorder{t: t, clock: clk}
	q := NewEventQueue(rec, clk, time.Minute)
	q.Instance = EventSource + "-host"
	web := func(id string, p capacity.Type, base bool) PodDecision { return placed(id, "Deployment/web", p, base) }
	pods := []corev1.Pod{
		podAt("ns", "a", -20*time.Second, web("a", capacity.OnDemand, true)),
		podAt("ns", "b", -8*time.Second, web("b", capacity.OnDemand, true)),
		podAt("ns", "c", -7*time.Second, web("c", capacity.Spot, false)),
		podAt("ns", "d", -6*time.Second, web("d", capacity.Spot, false)),
		podAt("other", "e", -6*time.Second, placed("e", "Job/batch", capacity.Spot, false)),
	}
	first := webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -19500*time.Millisecond, "a")
	s := runtime.NewScheme()
	if err := eventsv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	other := webhookEvent("ns", "Deployment", "web", ReasonCapacityAssigned, -time.Second, "d")
	other.Name, other.ReportingController = "other", "someone-else"
	live := fake.NewClientBuilder().WithScheme(s).WithObjects(&first, &other).
		WithIndex(&eventsv1.Event{}, "reportingController", func(o client.Object) []string {
			return []string{o.(*eventsv1.Event).ReportingController}
		}).Build()
	n, err := q.Recover(context.Background(), pods, live)
	if err != nil {
		t.Fatal(err)
	}
	evs := rec.take()
	if n != 2 || len(evs) != 2 {
		t.Fatalf("wrote %d Events (%v), want 2: Deployment/web and Job/batch", n, evs)
	}
	var web0 *recorded
	for i := range evs {
		if evs[i].regarding.(*corev1.ObjectReference).Name == "web" {
			web0 = &evs[i]
		}
	}
	want := "placed 3 pods in 3s before a restart, not reported then: 1 on-demand (base), 2 spot; last: spot (preferred)"
	if web0 == nil || !strings.HasPrefix(web0.note, want) || web0.reason != ReasonCapacityAssigned {
		t.Fatalf("Deployment/web's recovered Event %+v, want note starting %q", web0, want)
	}
	if rel := web0.related.(*corev1.ObjectReference); rel.Name != "d" {
		t.Errorf("related %s, want the last pod d", rel.Name)
	}
}
