package mutating

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// recorded is one Event write the fake recorder saw.
type recorded struct {
	at                 time.Time
	regarding, related runtime.Object
	reason, note       string
}

// fakeRecorder keeps every Event write with the fake clock's time. Like
// client-go's events library it folds an Event whose regarding, related,
// reason and action repeat an earlier one's into that one's series (its
// message lost); it fails the test instead, since such an Event would never
// be seen.
type fakeRecorder struct {
	t      testing.TB
	clock  *clocktesting.FakeClock
	mu     sync.Mutex
	events []recorded
	keys   map[string]bool
}

func (r *fakeRecorder) Eventf(regarding, related runtime.Object, _, reason, action, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := fmt.Sprintf("%#v|%#v|%s|%s", regarding, related, reason, action)
	if r.keys[key] && r.t != nil {
		r.t.Errorf("Event %q would fold into an earlier one's series: same regarding, related, reason and action", fmt.Sprintf(note, args...))
	}
	if r.keys == nil {
		r.keys = map[string]bool{}
	}
	r.keys[key] = true
	r.events = append(r.events, recorded{at: r.clock.Now(), regarding: regarding, related: related, reason: reason, note: fmt.Sprintf(note, args...)})
}

func (r *fakeRecorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// admitted is a pod as the informer shows it after q admitted it with d.
func admitted(q *EventQueue, name string, d PodDecision) *corev1.Pod {
	q.Expect(d)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Annotations: map[string]string{}}}
	if _, err := d.annotate(pod.Annotations, annotationLimit); err != nil {
		panic(err)
	}
	return pod
}

func placed(id, workload string, p capacity.Type, base bool) PodDecision {
	return PodDecision{AdmissionID: id, Workload: workload, Mode: config.ModeEnforce, Placement: p, Base: base, Required: base, Reason: "test"}
}

func TestEventQueueAggregatesPerWorkload(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rec := &fakeRecorder{t: t, clock: clk}
	q := NewEventQueue(rec, clk, time.Minute)
	q.UIDOf = func(w WorkloadKey) types.UID { return types.UID("uid-" + w.Name) }

	// The first pod of a quiet workload is reported at once, on the
	// workload, with its whole decision.
	q.Observe(admitted(q, "web-0", placed("a0", "Deployment/web", capacity.OnDemand, true)))
	got := rec.take()
	if len(got) != 1 {
		t.Fatalf("first pod: %d Events, want 1", len(got))
	}
	ref, ok := got[0].regarding.(*corev1.ObjectReference)
	if !ok || ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != "web" || ref.Namespace != "ns" || ref.UID != "uid-web" {
		t.Errorf("first Event regards %#v, want Deployment ns/web with its UID", got[0].regarding)
	}
	if got[0].reason != ReasonCapacityAssigned || !strings.HasPrefix(got[0].note, "pod web-0: Deployment/web: on-demand (required)") {
		t.Errorf("first Event = %s %q", got[0].reason, got[0].note)
	}

	// The next 16 within the interval are gathered: 2 more base, 14 spot.
	var web1 *corev1.Pod
	for i := 1; i <= 16; i++ {
		p, base := capacity.Spot, false
		if i <= 2 {
			p, base = capacity.OnDemand, true
		}
		pod := admitted(q, fmt.Sprintf("web-%d", i), placed(fmt.Sprintf("a%d", i), "Deployment/web", p, base))
		q.Observe(pod)
		if i == 1 {
			web1 = pod
		}
	}
	// A pod seen a second time (an update), or one this replica did not
	// admit, is not counted.
	q.Observe(web1)
	stranger := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x", Annotations: map[string]string{}}}
	_, _ = placed("zz", "Deployment/web", capacity.Spot, false).annotate(stranger.Annotations, annotationLimit)
	q.Observe(stranger)
	clk.Step(9 * time.Second)
	q.Flush(false)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("before the interval: %d Events, want none: %v", len(got), got)
	}
	clk.Step(time.Second)
	q.Flush(false)
	got = rec.take()
	if len(got) != 1 {
		t.Fatalf("after the interval: %d Events, want 1", len(got))
	}
	want := "placed 16 pods in 10s: 2 on-demand (base), 14 spot; last: spot (preferred): test"
	if got[0].note != want {
		t.Errorf("batch Event = %q\nwant %q", got[0].note, want)
	}

	// A busy workload's next pods go to the next batch; a batch that
	// gathered nothing closes silently, and the next pod is reported at
	// once again.
	q.Observe(admitted(q, "web-17", placed("a17", "Deployment/web", capacity.Spot, false)))
	if got := rec.take(); len(got) != 0 {
		t.Errorf("a busy workload's pod was reported alone: %v", got)
	}
	clk.Step(10 * time.Second)
	q.Flush(false)
	if got := rec.take(); len(got) != 1 || !strings.HasPrefix(got[0].note, "placed 1 pod in 10s: 1 spot;") {
		t.Errorf("second batch: %v, want one Event for web-17", got)
	}
	clk.Step(10 * time.Second)
	q.Flush(false)
	if got := rec.take(); len(got) != 0 {
		t.Errorf("empty batch wrote %d Events", len(got))
	}
	q.Observe(admitted(q, "web-20", placed("a20", "Deployment/web", capacity.Spot, false)))
	if got := rec.take(); len(got) != 1 || !strings.HasPrefix(got[0].note, "pod web-20: ") {
		t.Errorf("after a quiet interval: %v, want the pod reported at once", got)
	}

	// Shadow decisions are their own batch with their own reason, and a
	// stop flushes whatever is gathered.
	shadow := func(id string) PodDecision {
		d := placed(id, "StatefulSet/db", capacity.Spot, false)
		d.Mode = config.ModeShadow
		return d
	}
	q.Observe(admitted(q, "db-0", shadow("s0")))
	q.Observe(admitted(q, "db-1", shadow("s1")))
	q.Observe(admitted(q, "web-21", placed("a21", "Deployment/web", capacity.Spot, false)))
	q.Flush(true)
	got = rec.take()
	if len(got) != 3 {
		t.Fatalf("shadow and stop: %d Events, want 3 (db-0 at once, db batch, web batch): %v", len(got), got)
	}
	notes := map[string]string{}
	for _, e := range got {
		notes[e.regarding.(*corev1.ObjectReference).Name+" "+e.reason+" "+e.note[:10]] = e.note
	}
	if _, ok := notes["db DecisionRecorded recorded d"]; !ok {
		t.Errorf("no shadow batch for db among %v", notes)
	}
}

func TestEventQueueNoteIsClipped(t *testing.T) {
	tl := Tally{}
	d := placed("a", "Deployment/web", capacity.Spot, false)
	d.Reason = strings.Repeat("x", 5000)
	tl.Add(d)
	if n := len(tl.Message(ReasonCapacityAssigned, time.Second)); n != maxEventNote {
		t.Errorf("message of %d bytes, want clipped to %d", n, maxEventNote)
	}
}

var countRE = regexp.MustCompile(`^(?:placed|recorded decisions for) (\d+) pods?`)

// TestEventQueueKeepsUpAt200PodsPerSecond admits 200 pods/s for a minute
// across 5 workloads, with Flush every flushEvery as the runnable does, and
// measures Event writes and how late each pod's Event is. Issue 17 saw 16-24
// s of delay and half the Events lost at 20 pods/s with one Event per pod.
func TestEventQueueKeepsUpAt200PodsPerSecond(t *testing.T) {
	const (
		rate      = 200
		seconds   = 60
		workloads = 5
	)
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rec := &fakeRecorder{t: t, clock: clk}
	q := NewEventQueue(rec, clk, time.Minute)
	uncovered := map[string][]time.Time{} // workload → times of pods not yet in an Event
	var writes, counted int
	var maxLate, sumLate time.Duration
	cover := func() {
		for _, e := range rec.take() {
			writes++
			name := e.regarding.(*corev1.ObjectReference).Name
			n := 1
			if m := countRE.FindStringSubmatch(e.note); m != nil {
				n, _ = strconv.Atoi(m[1])
			}
			if n > len(uncovered[name]) {
				t.Fatalf("Event counts %d pods of %s, only %d admitted and not yet reported", n, name, len(uncovered[name]))
			}
			for _, at := range uncovered[name][:n] {
				late := e.at.Sub(at)
				sumLate += late
				maxLate = max(maxLate, late)
			}
			counted += n
			uncovered[name] = uncovered[name][n:]
		}
	}
	step := time.Second / rate
	nextFlush := clk.Now().Add(flushEvery)
	for i := range rate * seconds {
		w := fmt.Sprintf("web%d", i%workloads)
		p, base := capacity.Spot, false
		if i/workloads < 3 {
			p, base = capacity.OnDemand, true
		}
		uncovered[w] = append(uncovered[w], clk.Now())
		q.Observe(admitted(q, fmt.Sprintf("%s-%d", w, i), placed(fmt.Sprintf("id%d", i), "Deployment/"+w, p, base)))
		cover()
		clk.Step(step)
		if !clk.Now().Before(nextFlush) {
			q.Flush(false)
			cover()
			nextFlush = nextFlush.Add(flushEvery)
		}
	}
	// Run the ticker until every batch is written.
	for range int(DefaultEventInterval/flushEvery) + 1 {
		clk.Step(flushEvery)
		q.Flush(false)
		cover()
	}
	total := rate * seconds
	t.Logf("%d pods at %d/s over %d workloads: %d Event writes (one per pod: %d), mean %v late, max %v late",
		total, rate, workloads, writes, total, sumLate/time.Duration(total), maxLate)
	if counted != total {
		t.Errorf("Events counted %d pods, want %d", counted, total)
	}
	// One Event at once and one per interval per workload.
	if limit := workloads * (1 + seconds/int(DefaultEventInterval/time.Second)); writes > limit {
		t.Errorf("%d Event writes, want at most %d", writes, limit)
	}
	if limit := DefaultEventInterval + flushEvery; maxLate > limit {
		t.Errorf("an Event came %v after its pod, want at most %v", maxLate, limit)
	}
}

// BenchmarkEventQueue is the cost of one pod through the queue: Expect at
// admission, Observe when the informer shows it, with a Flush every 200.
func BenchmarkEventQueue(b *testing.B) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	q := NewEventQueue(&fakeRecorder{clock: clk}, clk, time.Minute) // no fold check: the pods repeat
	pods := make([]*corev1.Pod, 1000)
	ds := make([]PodDecision, len(pods))
	for i := range pods {
		ds[i] = placed(fmt.Sprintf("id%d", i), fmt.Sprintf("Deployment/web%d", i%5), capacity.Spot, false)
		pods[i] = admitted(q, fmt.Sprintf("p%d", i), ds[i])
	}
	b.ResetTimer()
	for i := range b.N {
		j := i % len(pods)
		q.Expect(ds[j])
		q.Observe(pods[j])
		if i%200 == 0 {
			clk.Step(time.Second)
			q.Flush(false)
			q.recorder.(*fakeRecorder).take()
		}
	}
}
