package mutating

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// PlacedPod is a live pod that trimtab placed, as the informer cache sees it.
type PlacedPod struct {
	AdmissionID string
	Placement   capacity.Type
}

// PlacedPodLister lists the live (not terminating, not finished) pods of a
// workload that trimtab placed. The manager's implementation reads the
// informer cache through a field index.
type PlacedPodLister interface {
	PlacedPods(ctx context.Context, workload WorkloadKey) ([]PlacedPod, error)
}

// Ledger counts a workload's pods per placement so that a burst of
// concurrent admissions still honours an on-demand base. The informer cache
// lags admission (the ReplicaSet controller creates pods in batches of up to
// 500, and a pod admitted a few milliseconds ago is not in the cache yet), so
// the Ledger remembers every placement it hands out until the cache shows that
// pod (matched by admission ID) or the reservation expires because the create
// failed after admission.
//
// Counting and reserving happen under one lock, so two admissions of the same
// workload never both take the last on-demand slot. The Ledger is per webhook
// replica; with several replicas a burst split across them can overshoot the
// base by the number of replicas minus one until their caches converge.
type Ledger struct {
	pods  PlacedPodLister
	clock clock.PassiveClock
	ttl   time.Duration
	// pending follows the number of reservations (nil: not measured). It
	// moves by deltas, so ledgers sharing one gauge add up.
	pending prometheus.Gauge

	mu       sync.Mutex
	reserved map[WorkloadKey]map[string]reservation // admission ID → reservation
}

type reservation struct {
	decision PodDecision
	at       time.Time
}

// DefaultReservationTTL bounds how long a placement counts without its pod
// appearing in the cache: long enough for any sane apiserver round trip, short
// enough that a rejected create frees its slot quickly.
const DefaultReservationTTL = 30 * time.Second

// NewLedger returns a Ledger reading pods from pods. pending, when not nil,
// follows the number of placements awaiting their pod.
func NewLedger(pods PlacedPodLister, c clock.PassiveClock, ttl time.Duration, pending prometheus.Gauge) *Ledger {
	return &Ledger{pods: pods, clock: c, ttl: ttl, pending: pending, reserved: map[WorkloadKey]map[string]reservation{}}
}

// Place counts the workload's placed pods, cached and reserved, asks decide
// for this pod's decision, and reserves it, atomically. A decision without a
// placement reserves nothing.
func (l *Ledger) Place(ctx context.Context, key WorkloadKey, admissionID string, decide func(capacity.Counts) PodDecision) (PodDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pods, err := l.pods.PlacedPods(ctx, key)
	if err != nil {
		return PodDecision{}, err
	}
	var c capacity.Counts
	seen := make(map[string]bool, len(pods))
	for _, p := range pods {
		seen[p.AdmissionID] = true
		c.Add(p.Placement)
	}
	now := l.clock.Now()
	for id, r := range l.reserved[key] {
		switch {
		case seen[id]:
			// The cache has it now; it is counted above.
			l.release(key, id)
		case now.Sub(r.at) > l.ttl:
			l.release(key, id)
		default:
			c.Add(r.decision.Placement)
		}
	}
	d := decide(c)
	d.AdmissionID = admissionID
	if d.Placement != "" {
		if l.reserved[key] == nil {
			l.reserved[key] = map[string]reservation{}
		}
		l.reserved[key][admissionID] = reservation{decision: d, at: now}
		if l.pending != nil {
			l.pending.Inc()
		}
	}
	if len(l.reserved[key]) == 0 {
		delete(l.reserved, key)
	}
	return d, nil
}

// release drops a reservation; l.mu is held.
func (l *Ledger) release(key WorkloadKey, admissionID string) {
	delete(l.reserved[key], admissionID)
	if l.pending != nil {
		l.pending.Dec()
	}
}

// Pending returns how many placements await their pod in the cache.
func (l *Ledger) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reserved {
		n += len(r)
	}
	return n
}
