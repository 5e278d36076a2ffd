package mutating

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

func autoPolicy(base int) config.Policy {
	p := config.DefaultPolicy()
	p.Capacity, p.OnDemandBase, p.Mode = config.CapacityAuto, base, config.ModeEnforce
	return p
}

// splitOf is the split the handler asks for p: the capacity rule with no
// price outlook.
func splitOf(p config.Policy) capacity.Split {
	in, err := p.Inputs()
	if err != nil {
		panic(err)
	}
	split, err := capacity.Decide(in.Capacity, capacity.Outlook{})
	if err != nil {
		panic(err)
	}
	return split
}

var (
	web   = WorkloadKey{Namespace: "shop", Kind: "Deployment", Name: "web"}
	webRS = Revision{Namespace: "shop", UID: "rs-1"}
)

// placedPod is a pod the informer shows: trimtab placed it (label and
// decision) for the admission id, and rev's controller owns it.
func shownPod(rev Revision, uid, admissionID string, p capacity.Type) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: rev.Namespace, Name: uid, UID: types.UID(uid),
		Labels:          map[string]string{LabelPlacement: string(p)},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: rev.UID, Controller: ptr.To(true)}},
	}}
	if _, err := (PodDecision{AdmissionID: admissionID, Workload: "Deployment/web", Placement: p}).annotate(ensure(&pod.Annotations), annotationLimit); err != nil {
		panic(err)
	}
	return pod
}

func ensure(m *map[string]string) map[string]string {
	if *m == nil {
		*m = map[string]string{}
	}
	return *m
}

func place(t testing.TB, l *Ledger, rev Revision, id string, base int) capacity.Type {
	t.Helper()
	p, err := l.Place(context.Background(), rev, id, splitOf(autoPolicy(base)))
	if err != nil {
		t.Fatal(err)
	}
	return p.Type
}

// 50 concurrent admissions of one revision while the informer has shown
// none of them still place exactly the base on on-demand.
func TestLedgerBurstHonoursBase(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	var wg sync.WaitGroup
	got := make(chan capacity.Type, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got <- place(t, l, webRS, fmt.Sprint("uid-", i), 3)
		}()
	}
	wg.Wait()
	close(got)
	counts := capacity.Counts{}
	for p := range got {
		counts.Add(p)
	}
	if counts != (capacity.Counts{OnDemand: 3, Spot: 47}) {
		t.Errorf("placements = %+v, want 3 on-demand and 47 spot", counts)
	}
	if l.Pending() != 50 {
		t.Errorf("pending = %d, want 50 awaiting the informer", l.Pending())
	}
}

// A pod the informer shows ends its admission's reservation at once, and
// counts once; a reservation whose pod never appears expires after the
// TTL without any later admission of its workload (the 30 Jobs whose
// pending gauge stayed up).
func TestLedgerConfirmAndExpire(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	l := NewLedger(clk, 30*time.Second, nil)
	if p := place(t, l, webRS, "a", 2); p != capacity.OnDemand {
		t.Fatalf("first pod: %s, want on-demand", p)
	}
	l.Observe(shownPod(webRS, "pod-a", "a", capacity.OnDemand))
	if l.Pending() != 0 {
		t.Fatalf("pending = %d after the pod appeared, want 0", l.Pending())
	}
	if p := place(t, l, webRS, "b", 2); p != capacity.OnDemand {
		t.Fatalf("second pod with the first shown: %s, want on-demand (the first must not count twice)", p)
	}
	if p := place(t, l, webRS, "c", 2); p != capacity.Spot {
		t.Fatalf("third pod: %s, want spot", p)
	}
	// b's create failed after admission: it never appears. Nothing else
	// is admitted; the sweep alone expires it.
	clk.Step(31 * time.Second)
	l.Sweep()
	if l.Pending() != 0 {
		t.Fatalf("pending = %d after the TTL, want 0", l.Pending())
	}
	if p := place(t, l, webRS, "d", 2); p != capacity.OnDemand {
		t.Fatalf("after b's reservation expired: %s, want on-demand to refill the base", p)
	}
}

// A rollout's new ReplicaSet fills a base of its own: the old revision's
// on-demand pods are about to be deleted and must not count (the observed
// bug: after `rollout restart` all 20 pods were spot).
func TestLedgerRevisionsCountApart(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	old, next := Revision{"shop", "rs-old"}, Revision{"shop", "rs-new"}
	for i := range 3 {
		l.Observe(shownPod(old, fmt.Sprint("old-", i), fmt.Sprint("o", i), capacity.OnDemand))
	}
	var got []capacity.Type
	for i := range 4 {
		got = append(got, place(t, l, next, fmt.Sprint("n", i), 3))
	}
	want := []capacity.Type{capacity.OnDemand, capacity.OnDemand, capacity.OnDemand, capacity.Spot}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("new revision placed %v, want %v", got, want)
	}
}

// Only pods trimtab placed under a controller count: bare pods carrying a
// copied decision and placement label count for nothing (the observed bug:
// 3 such pods made a base-3 Deployment all spot).
func TestLedgerIgnoresCopiedAnnotations(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	for i := range 3 {
		bare := shownPod(webRS, fmt.Sprint("bare-", i), fmt.Sprint("copied-", i), capacity.OnDemand)
		bare.OwnerReferences = nil
		l.Observe(bare)
		noLabel := shownPod(webRS, fmt.Sprint("unlabelled-", i), fmt.Sprint("x", i), capacity.OnDemand)
		delete(noLabel.Labels, LabelPlacement)
		l.Observe(noLabel)
	}
	if p := place(t, l, webRS, "a", 3); p != capacity.OnDemand {
		t.Errorf("first pod placed %s, want on-demand: copied annotations must not count", p)
	}
	if n := l.Revisions(); n != 1 {
		t.Errorf("ledger holds %d revisions, want 1 (bare pods hold none)", n)
	}
}

// Terminating, finished and deleted pods stop counting, and a revision with
// nothing left is forgotten.
func TestLedgerPodsLeave(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	a := shownPod(webRS, "a", "ia", capacity.OnDemand)
	b := shownPod(webRS, "b", "ib", capacity.OnDemand)
	c := shownPod(webRS, "c", "ic", capacity.OnDemand)
	for _, p := range []*corev1.Pod{a, b, c} {
		l.Observe(p)
		l.Observe(p) // updates do not count again
	}
	if p := place(t, l, webRS, "x", 3); p != capacity.Spot {
		t.Fatalf("with 3 on-demand pods: %s, want spot", p)
	}
	a.DeletionTimestamp = ptr.To(metav1.Now())
	l.Observe(a)
	b.Status.Phase = corev1.PodSucceeded
	l.Observe(b)
	l.Forget(c)
	if p := place(t, l, webRS, "y", 3); p != capacity.OnDemand {
		t.Fatalf("with the base pods gone: %s, want on-demand", p)
	}
	l.Observe(shownPod(webRS, "x", "x", capacity.Spot))
	l.Forget(shownPod(webRS, "x", "x", capacity.Spot))
	l.Observe(shownPod(webRS, "y", "y", capacity.OnDemand))
	l.Forget(shownPod(webRS, "y", "y", capacity.OnDemand))
	if n := l.Revisions(); n != 0 || l.Pending() != 0 {
		t.Errorf("after every pod left: %d revisions, %d pending; want none", n, l.Pending())
	}
}

// The apiserver may call the webhook again for the same admission
// (reinvocation): the second call is the same pod, not another one.
func TestLedgerReinvocation(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	for range 3 {
		if p := place(t, l, webRS, "same", 1); p != capacity.OnDemand {
			t.Fatalf("the same admission again: %s, want on-demand", p)
		}
	}
	if l.Pending() != 1 {
		t.Errorf("pending = %d, want 1", l.Pending())
	}
}

// One revision's admission holding its lock holds up neither another
// workload's (the observed 1.95 s wait behind a slow cache list) nor, past
// its deadline, one of its own; and an admission whose caller has gone
// reserves nothing.
func TestLedgerLockPerRevisionHonoursContext(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	held, err := l.lock(context.Background(), webRS) // a slow admission of webRS
	if err != nil {
		t.Fatal(err)
	}

	other := Revision{"shop", "rs-other"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if p, err := l.Place(context.Background(), other, "o", splitOf(autoPolicy(0))); err != nil || p.Type != capacity.Spot {
			t.Errorf("another revision: %+v, %v", p, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("another revision's admission waited behind a locked one")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Place(ctx, webRS, "waiting", splitOf(autoPolicy(1))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("an admission of the locked revision past its deadline: %v, want it to give up", err)
	}
	l.unlock(webRS, held)

	gone, cancelGone := context.WithCancel(context.Background())
	cancelGone() // the apiserver gave up before the webhook got to it
	if _, err := l.Place(gone, webRS, "gone", splitOf(autoPolicy(1))); !errors.Is(err, ErrCallerGone) {
		t.Errorf("admission after its caller left: %v, want ErrCallerGone", err)
	}
	if n := l.Pending(); n != 1 {
		t.Errorf("pending = %d, want only the other revision's", n)
	}
	if n := l.Revisions(); n != 1 {
		t.Errorf("%d revisions held, want 1: the waiters must not leave state behind", n)
	}
}

func TestLedgerWaitsForTheInformer(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	l.ready = make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Place(ctx, webRS, "a", splitOf(autoPolicy(1))); err == nil {
		t.Fatal("placed before the informer synced")
	}
	close(l.ready)
	place(t, l, webRS, "b", 1)
}

func TestLedgerCapsReservations(t *testing.T) {
	l := NewLedger(clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	l.MaxReservations = 10
	for i := range 25 {
		place(t, l, Revision{"ns", types.UID(fmt.Sprint("job-", i))}, fmt.Sprint(i), 1)
	}
	if l.Pending() != 10 || l.Revisions() != 10 {
		t.Errorf("%d pending in %d revisions, want the 10 newest", l.Pending(), l.Revisions())
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestLedgerMemory100kWorkloads admits one pod each for 100,000 one-pod
// workloads (Jobs) and measures what the Ledger keeps: while their pods
// run, and after they finished or their reservations expired. Before this
// Ledger, reservations lived until a later placement for the same
// workload: 55 MiB stayed behind for good (issue 17 measured 51 MiB).
func TestLedgerMemory100kWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100,000 workloads")
	}
	clk := clocktesting.NewFakeClock(time.Now())
	l := NewLedger(clk, DefaultReservationTTL, nil)
	before := heapAlloc()
	split := splitOf(autoPolicy(1))
	const n = 100_000
	for i := range n {
		rev := Revision{"batch", types.UID(fmt.Sprint("job-", i))}
		id := fmt.Sprint("adm-", i)
		p, err := l.Place(context.Background(), rev, id, split)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half the creates succeed; the others fail after admission
			l.Observe(shownPod(rev, fmt.Sprint("pod-", i), id, p.Type))
		}
	}
	running := heapAlloc()
	for i := 0; i < n; i += 2 {
		pod := shownPod(Revision{"batch", types.UID(fmt.Sprint("job-", i))}, fmt.Sprint("pod-", i), fmt.Sprint("adm-", i), capacity.OnDemand)
		pod.Status.Phase = corev1.PodSucceeded
		l.Observe(pod)
	}
	clk.Step(DefaultReservationTTL + time.Second)
	l.Sweep()
	after := heapAlloc()
	mib := func(b uint64) float64 {
		if b < before {
			return 0
		}
		return float64(b-before) / (1 << 20)
	}
	t.Logf("100,000 one-pod workloads: %.1f MiB while 50,000 pods run and 50,000 reservations wait; %.2f MiB once the pods finished and the TTL passed (%d revisions, %d pending)",
		mib(running), mib(after), l.Revisions(), l.Pending())
	if l.Revisions() != 0 || l.Pending() != 0 || mib(after) > 1 {
		t.Errorf("ledger kept %d revisions, %d reservations, %.2f MiB; want nothing", l.Revisions(), l.Pending(), mib(after))
	}
	runtime.KeepAlive(l)
}
