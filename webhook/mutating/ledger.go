package mutating

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// Revision names the pods that share one on-demand base: the pods of one
// controller, by the UID in their controller reference. For a Deployment
// that is one ReplicaSet, one revision of its pod template; for a CronJob,
// one Job. A rollout starts a new revision, and its pods fill a base of
// their own instead of counting the old revision's on-demand pods, which
// the rollout is about to delete.
type Revision struct {
	Namespace string
	UID       types.UID
}

// Ledger counts the pods trimtab placed, per Revision and capacity type, so
// a burst of concurrent admissions still honours an on-demand base.
//
// It counts two things. Placed pods come from the pod informer (Observe):
// only pods that carry trimtab's placement label and a controller reference,
// so a bare pod with copied annotations counts for nothing. Reservations are
// the placements handed out whose pods the informer has not shown yet (it
// lags admission by milliseconds, and the ReplicaSet controller creates
// pods in batches of up to 500). A reservation ends when its pod appears
// (matched by admission ID) or after the TTL (the create failed after
// admission), whatever else is admitted; a background sweep expires them
// even when nothing is. Memory is therefore bounded by the live placed pods
// and the admissions of the last TTL, capped at MaxReservations.
//
// Each Revision has its own lock, taken with the request's context: one
// workload's burst never waits for another's, and an admission whose caller
// has given up neither waits nor reserves.
//
// The Ledger is per webhook replica: a burst split across replicas can
// overshoot the base by up to base × (replicas − 1) until their informers
// show each other's pods, which is why the chart runs one webhook replica.
type Ledger struct {
	clock clock.PassiveClock
	ttl   time.Duration
	// pending follows the number of reservations (nil: not measured). It
	// moves by deltas, so ledgers sharing one gauge add up.
	pending prometheus.Gauge
	// MaxReservations caps the reservations held; past it the oldest are
	// dropped first.
	MaxReservations int

	// ready is closed once the informer has delivered every existing pod;
	// until then counts are incomplete and Place waits.
	ready chan struct{}

	mu sync.Mutex
	// revs holds the revisions with pods, reservations or admissions
	// under way; pods every live placed pod, by UID.
	revs map[Revision]*revision
	pods map[types.UID]placedPod
	// reserved holds the placements awaiting their pod, by admission ID.
	reserved map[string]reservation
	queue    expiryQueue
	// peak is each map's size since it was last rebuilt: Go maps never
	// shrink, so a map far below its peak is rebuilt to give the memory
	// back.
	peakRevs, peakPods, peakReserved int
}

// revision is the Ledger's state of one Revision: a few words, since a
// cluster of one-pod Jobs has one per pod.
type revision struct {
	// counts sums its placed pods and reservations by type.
	counts capacity.Counts
	// placed and reserved count its entries in Ledger.pods and
	// Ledger.reserved.
	placed, reserved int
	// lock is a one-slot semaphore (holding it is sending into it); users
	// counts the admissions holding or awaiting it, so an idle revision
	// can be dropped without pulling it from under them.
	lock  chan struct{}
	users int
}

type placedPod struct {
	rev         Revision
	placement   capacity.Type
	admissionID string
}

type reservation struct {
	rev       Revision
	placement capacity.Type
	at        time.Time
}

// DefaultReservationTTL bounds how long a placement counts without its pod
// appearing in the cache: long enough for any sane apiserver round trip, short
// enough that a rejected create frees its slot quickly.
const DefaultReservationTTL = 30 * time.Second

// DefaultMaxReservations caps a Ledger's reservations: 30 s of admissions at
// over 3,000 pods/s, about 5 MiB.
const DefaultMaxReservations = 100_000

// NewLedger returns a Ledger whose reservations last ttl. pending, when not
// nil, follows the number of reservations. It counts placed pods only from
// Observe.
func NewLedger(c clock.PassiveClock, ttl time.Duration, pending prometheus.Gauge) *Ledger {
	ready := make(chan struct{})
	close(ready)
	return &Ledger{clock: c, ttl: ttl, pending: pending, MaxReservations: DefaultMaxReservations,
		ready: ready, revs: map[Revision]*revision{}, pods: map[types.UID]placedPod{}, reserved: map[string]reservation{}}
}

// ErrCallerGone is returned when the caller's context ended before a
// placement was reserved: the apiserver has stopped waiting for the answer,
// so a reservation would count a pod that is created unchanged.
var ErrCallerGone = fmt.Errorf("the admission's caller has given up")

// Place counts rev's placed and reserved pods, asks split where this pod
// goes and reserves that placement, with rev's lock held.
func (l *Ledger) Place(ctx context.Context, rev Revision, admissionID string, split capacity.Split) (capacity.Placement, error) {
	if err := ctx.Err(); err != nil {
		return capacity.Placement{}, fmt.Errorf("%w: %w", ErrCallerGone, err)
	}
	if err := l.waitReady(ctx); err != nil {
		return capacity.Placement{}, err
	}
	r, err := l.lock(ctx, rev)
	if err != nil {
		return capacity.Placement{}, err
	}
	defer l.unlock(rev, r)

	l.mu.Lock()
	l.expire(l.clock.Now())
	c := r.counts
	if res, again := l.reserved[admissionID]; again && res.rev == rev {
		// The apiserver calls a webhook again with the same admission
		// (reinvocation): its own reservation is not another pod.
		c.Remove(res.placement)
	}
	l.mu.Unlock()

	p := split.Place(c)
	if p.Type == "" {
		return p, nil
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx.Err() != nil {
		return capacity.Placement{}, fmt.Errorf("%w: %w", ErrCallerGone, ctx.Err())
	}
	now := l.clock.Now()
	if res, again := l.reserved[admissionID]; again {
		l.unreserve(admissionID, res)
	}
	l.reserved[admissionID] = reservation{rev: rev, placement: p.Type, at: now}
	l.peakReserved = max(l.peakReserved, len(l.reserved))
	r.reserved++
	r.counts.Add(p.Type)
	l.queue.push(queued{rev: rev, admissionID: admissionID, at: now})
	l.gauge(1)
	for l.MaxReservations > 0 && l.queue.len() > l.MaxReservations {
		l.drop(l.queue.pop())
	}
	return p, nil
}

// waitReady waits until the informer has synced, or ctx ends.
func (l *Ledger) waitReady(ctx context.Context) error {
	select {
	case <-l.ready:
		return nil
	default:
	}
	select {
	case <-l.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the pod informer to sync: %w", ctx.Err())
	}
}

// lock takes rev's lock, creating its state if needed, or gives up when
// ctx ends.
func (l *Ledger) lock(ctx context.Context, rev Revision) (*revision, error) {
	l.mu.Lock()
	r := l.revisionLocked(rev)
	if r.lock == nil {
		r.lock = make(chan struct{}, 1)
	}
	r.users++
	lock := r.lock
	l.mu.Unlock()
	select {
	case lock <- struct{}{}:
		return r, nil
	case <-ctx.Done():
		l.mu.Lock()
		l.release(rev, r)
		l.mu.Unlock()
		return nil, fmt.Errorf("waiting for the ledger of %s: %w", rev.UID, ctx.Err())
	}
}

func (l *Ledger) unlock(rev Revision, r *revision) {
	<-r.lock
	l.mu.Lock()
	l.release(rev, r)
	l.mu.Unlock()
}

// release ends one admission's use of r; l.mu is held.
func (l *Ledger) release(rev Revision, r *revision) {
	r.users--
	if r.users == 0 {
		r.lock = nil
	}
	l.dropIfIdle(rev, r)
}

// revisionLocked returns rev's state, creating it; l.mu is held.
func (l *Ledger) revisionLocked(rev Revision) *revision {
	r := l.revs[rev]
	if r == nil {
		r = &revision{}
		l.revs[rev] = r
		l.peakRevs = max(l.peakRevs, len(l.revs))
	}
	return r
}

// dropIfIdle forgets a revision nobody uses and nothing is counted in;
// l.mu is held.
func (l *Ledger) dropIfIdle(rev Revision, r *revision) {
	if r.users > 0 || r.placed > 0 || r.reserved > 0 || l.revs[rev] != r {
		return
	}
	delete(l.revs, rev)
	l.revs = shrunk(l.revs, &l.peakRevs)
}

// shrunk returns m, or a copy of it sized for its entries when it is far
// below its peak size.
func shrunk[K comparable, V any](m map[K]V, peak *int) map[K]V {
	if *peak <= shrinkAbove || len(m) >= *peak/4 {
		return m
	}
	out := make(map[K]V, len(m)) // maps.Clone would keep m's size
	maps.Copy(out, m)
	*peak = len(out)
	return out
}

// shrinkAbove is the map size below which the Ledger does not bother
// rebuilding a map to return memory.
const shrinkAbove = 1024

// Observe updates the counts from the pod informer: a live pod trimtab
// placed (the placement label and a controller reference) counts, and
// ends the reservation of the admission that placed it; a pod that is
// terminating, finished or deleted no longer counts.
func (l *Ledger) Observe(pod *corev1.Pod) {
	placement := capacity.Type(pod.Labels[LabelPlacement])
	live := pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
	ref := metav1.GetControllerOf(pod)
	if !live || ref == nil || (placement != capacity.OnDemand && placement != capacity.Spot) {
		l.Forget(pod)
		return
	}
	rev := Revision{Namespace: pod.Namespace, UID: ref.UID}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, known := l.pods[pod.UID]; known {
		if old.rev == rev && old.placement == placement {
			return // an update of a pod already counted
		}
		l.forget(pod.UID, old)
	}
	id := ""
	if d, ok := decisionOf(pod.Annotations); ok {
		id = d.AdmissionID
	}
	r := l.revisionLocked(rev)
	l.pods[pod.UID] = placedPod{rev: rev, placement: placement, admissionID: id}
	l.peakPods = max(l.peakPods, len(l.pods))
	r.placed++
	r.counts.Add(placement)
	if res, ok := l.reserved[id]; ok && id != "" && res.rev == rev {
		// The admission's pod is here: it counts as placed now.
		l.unreserve(id, res)
	}
}

// Forget drops a pod from the counts: deleted, or no longer one trimtab
// counts.
func (l *Ledger) Forget(pod *corev1.Pod) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, known := l.pods[pod.UID]; known {
		l.forget(pod.UID, old)
	}
}

// forget drops a counted pod; l.mu is held.
func (l *Ledger) forget(uid types.UID, p placedPod) {
	delete(l.pods, uid)
	l.pods = shrunk(l.pods, &l.peakPods)
	r := l.revs[p.rev]
	if r == nil {
		return
	}
	r.placed--
	r.counts.Remove(p.placement)
	l.dropIfIdle(p.rev, r)
}

// Sweep expires the reservations older than the TTL. Place sweeps as it
// goes; the manager also calls Sweep on a timer, so reservations expire
// when nothing is admitted.
func (l *Ledger) Sweep() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(l.clock.Now())
}

// expire drops reservations made before now - ttl; l.mu is held.
func (l *Ledger) expire(now time.Time) {
	for l.queue.len() > 0 && now.Sub(l.queue.front().at) > l.ttl {
		l.drop(l.queue.pop())
	}
}

// drop ends a queued reservation if it still stands (its pod may have
// appeared since, or the admission been placed again); l.mu is held.
func (l *Ledger) drop(q queued) {
	if res, ok := l.reserved[q.admissionID]; ok && res.at.Equal(q.at) && res.rev == q.rev {
		l.unreserve(q.admissionID, res)
	}
}

// unreserve ends a reservation; l.mu is held.
func (l *Ledger) unreserve(admissionID string, res reservation) {
	delete(l.reserved, admissionID)
	l.reserved = shrunk(l.reserved, &l.peakReserved)
	l.gauge(-1)
	r := l.revs[res.rev]
	if r == nil {
		return
	}
	r.reserved--
	r.counts.Remove(res.placement)
	l.dropIfIdle(res.rev, r)
}

func (l *Ledger) gauge(delta float64) {
	if l.pending != nil {
		l.pending.Add(delta)
	}
}

// Pending returns how many placements await their pod in the cache.
func (l *Ledger) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reserved)
}

// Revisions returns how many revisions the Ledger holds state for.
func (l *Ledger) Revisions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.revs)
}

// queued is a reservation in the order reservations were made. All share
// one TTL, so the oldest is always at the front.
type queued struct {
	rev         Revision
	admissionID string
	at          time.Time
}

// expiryQueue is a FIFO of reservations. Entries whose reservation ended
// early stay until they reach the front, so its length is bounded by the
// admissions of one TTL.
type expiryQueue struct {
	items []queued
	head  int
}

func (q *expiryQueue) len() int      { return len(q.items) - q.head }
func (q *expiryQueue) front() queued { return q.items[q.head] }
func (q *expiryQueue) push(e queued) { q.items = append(q.items, e) }
func (q *expiryQueue) pop() queued {
	e := q.items[q.head]
	q.items[q.head] = queued{}
	q.head++
	// Reclaim the consumed prefix once it is most of the slice.
	if q.head > 1024 && q.head*2 > len(q.items) {
		q.items = append([]queued(nil), q.items[q.head:]...)
		q.head = 0
	}
	return e
}
