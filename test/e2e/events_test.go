package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/internal/stats"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// eventCount is what the webhook's Events on one workload say, read
// through the apiserver.
type eventCount struct {
	// pods is the pods they count together; events how many there are.
	pods, events int
	// newest is the newest Event's time.
	newest time.Time
	notes  []string
}

// countPlacedEvents sums the CapacityAssigned Events on kind/name: an Event
// for a single pod ("pod web-x: ...") counts 1, a batch ("placed 17 pods in
// 10s: ...") its number.
func (e *env) countPlacedEvents(ctx context.Context, kind, name string) (eventCount, error) {
	evs, err := e.cs.EventsV1().Events(e.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return eventCount{}, err
	}
	var c eventCount
	for _, ev := range evs.Items {
		if ev.Reason != mutating.ReasonCapacityAssigned || ev.Regarding.Kind != kind || ev.Regarding.Name != name {
			continue
		}
		c.events++
		c.notes = append(c.notes, ev.Note)
		if at := ev.EventTime.Time; at.After(c.newest) {
			c.newest = at
		}
		if m := placedPods.FindStringSubmatch(ev.Note); m != nil {
			n, _ := strconv.Atoi(m[1])
			c.pods += n
		} else if strings.HasPrefix(ev.Note, "pod ") {
			c.pods++
		}
	}
	return c, nil
}

// deletePodsNow removes the pods matching selector when the test ends:
// their node does not exist, so nothing would confirm a graceful deletion
// and the namespace would hang in Terminating.
func (e *env) deletePodsNow(t *testing.T, selector string) {
	t.Cleanup(func() {
		_ = e.cs.CoreV1().Pods(e.namespace).DeleteCollection(context.Background(),
			metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{LabelSelector: selector})
	})
}

// TestEventsSurviveKill (issue 17, item 8): pods admitted in the seconds
// before a kill -9 still get their CapacityAssigned Event. The webhook
// gathers a workload's placements for 10 s before writing one Event; the
// killed manager's batch died with it, so the pods admitted since its last
// Event were never reported. The restarted manager finds them (they carry
// their decision and are newer than the newest Event) and reports them.
func TestEventsSurviveKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startManagerProcess(t)
	e := newEnv(t, p.optedIn())
	e.waitActive(t)
	owner := benchOwner(t, ctx, e)
	e.deletePodsNow(t, "bench=pod")

	// The first pod of a quiet workload is reported at once.
	firstAt := time.Now()
	createAtRate(t, ctx, e, owner, "first", 1, 1)
	eventually(t, 30*time.Second, func() error {
		c, err := e.countPlacedEvents(ctx, "Deployment", "bench")
		if err != nil || c.pods != 1 {
			return fmt.Errorf("Events on Deployment/bench count %d pods (%v), want the first pod's", c.pods, err)
		}
		return nil
	})
	// The next pods, in later seconds than that Event (a pod's creation
	// time has one-second resolution; eventrecovery.go), are gathered
	// for an Event 10 s later, which the kill prevents.
	time.Sleep(1100 * time.Millisecond)
	const n = 12
	createAtRate(t, ctx, e, owner, "batch", 20, n)
	p.kill()
	killed := time.Now()
	before, err := e.countPlacedEvents(ctx, "Deployment", "bench")
	if err != nil {
		t.Fatal(err)
	}
	if before.pods == 1+n {
		// The batch's 10 s passed before the kill (a very slow machine):
		// nothing is left to recover, and this test would prove nothing.
		t.Fatalf("the batch was reported before the kill, %.0fs after the first pod; nothing to recover", killed.Sub(firstAt).Seconds())
	}
	p.start()
	p.waitReady(60 * time.Second)
	var c eventCount
	// The manager recovers an interval and two flush ticks after its
	// cache syncs (12 s): a replica stopping in a rolling update writes its
	// last batches first.
	eventually(t, 45*time.Second, func() error {
		var err error
		c, err = e.countPlacedEvents(ctx, "Deployment", "bench")
		if err != nil {
			return err
		}
		if c.pods != 1+n {
			return fmt.Errorf("Events on Deployment/bench count %d pods, want %d: %q", c.pods, 1+n, c.notes)
		}
		return nil
	})
	t.Logf("after kill -9 and restart, %d Events count all %d pods (%d before the restart), %.1fs after the kill: %q",
		c.events, c.pods, before.pods, time.Since(killed).Seconds(), c.notes)
	recovered := 0
	for _, note := range c.notes {
		if strings.Contains(note, "before a restart, not reported then") {
			recovered++
		}
	}
	if recovered != 1 {
		t.Errorf("%d Events say they recover pods admitted before the restart, want 1", recovered)
	}
}

// TestEventsKeepUpThroughAPIServer (issue 17, item 8): pods created at a
// high rate through the real apiserver are all reported, by a handful of
// Events (one at once, then one per workload per 10 s), the last within
// the interval of the last pod. One Event per pod used to fall 16-24 s
// behind at 20 pods/s and lose half of them.
//
// TRIMTAB_EVENTS_RATE sets the pods per second (default 100: on a 2-core
// machine shared with other builds the local apiserver queued creates 16 s
// deep at 200/s, so the test measured the apiserver, not the Events), and
// TRIMTAB_EVENTS_SECONDS how long they are created (default 6).
func TestEventsKeepUpThroughAPIServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)
	owner := benchOwner(t, ctx, e)
	e.deletePodsNow(t, "fault=pod")

	rate := envInt(t, "TRIMTAB_EVENTS_RATE", 100)
	seconds := envInt(t, "TRIMTAB_EVENTS_SECONDS", 6)
	start := time.Now()
	load := startLoad(ctx, e, owner, rate)
	time.Sleep(time.Duration(seconds) * time.Second)
	results := load.stop()
	done := time.Now()
	// Only pods whose admission trimtab answered in time carry a
	// decision; the others were created unchanged (the webhook fails
	// open), and no Event is owed for them.
	n, failed := 0, 0
	var lat []time.Duration
	var first, last time.Time
	for _, r := range results {
		lat = append(lat, r.latency)
		if first.IsZero() || r.start.Before(first) {
			first = r.start
		}
		if end := r.start.Add(r.latency); end.After(last) {
			last = end
		}
		switch {
		case r.err != nil:
			failed++
		case r.decided:
			n++
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d creates failed", failed, len(results))
	}
	p50, _ := stats.Quantile(lat, 0.5)
	p99, _ := stats.Quantile(lat, 0.99)
	var c eventCount
	eventually(t, time.Minute, func() error {
		var err error
		c, err = e.countPlacedEvents(ctx, "Deployment", "bench")
		if err != nil {
			return err
		}
		if c.pods != n {
			return fmt.Errorf("%d Events on Deployment/bench count %d of %d placed pods: %q", c.events, c.pods, n, c.notes)
		}
		return nil
	})
	caughtUp := time.Since(done)
	// Achieved: creates completed over the time from the first start to
	// the last completion; below the rate asked when the apiserver queues.
	t.Logf("%d creates at %d/s asked, %.0f/s achieved (p50 %s, p99 %s), %d placed (the rest admitted unchanged: the webhook's timeout passed); "+
		"%d Events counted all %d placed pods %.1fs after the last create (newest Event %.1fs after it)",
		len(results), rate, float64(len(results))/last.Sub(first).Seconds(), p50.Round(time.Millisecond), p99.Round(time.Millisecond), n,
		c.events, n, caughtUp.Seconds(), c.newest.Sub(done).Seconds())
	// One Event at once, then one per 10 s interval while pods keep
	// coming, and the last one for the interval the load ended in.
	if most := int(time.Since(start)/mutating.DefaultEventInterval) + 2; c.events > most {
		t.Errorf("%d Events for one workload over %.0fs, want at most %d (one per 10 s)", c.events, time.Since(start).Seconds(), most)
	}
	// The last pods are reported when their interval closes: at most
	// 10 s, plus the 1 s flush tick, plus 5 s for a loaded machine.
	if limit := mutating.DefaultEventInterval + 6*time.Second; c.newest.Sub(done) > limit {
		t.Errorf("the last Event came %.1fs after the last create, want ≤ %s", c.newest.Sub(done).Seconds(), limit)
	}
}
