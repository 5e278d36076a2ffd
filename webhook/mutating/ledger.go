package mutating

import (
	"context"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// PlacedPod is a live pod that trimtab placed, as the informer cache sees it.
type PlacedPod struct {
	AdmissionID string
	Placement   Placement
}

// PlacedPodLister lists the live (not terminating, not finished) pods of a
// workload that trimtab placed. The manager's implementation reads the
// informer cache through a field index.
type PlacedPodLister interface {
	PlacedPods(ctx context.Context, namespace, workload string) ([]PlacedPod, error)
}

// Counts is how many of a workload's pods are placed on each capacity type.
type Counts struct {
	OnDemand, Spot int
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

	mu       sync.Mutex
	reserved map[string]map[string]reservation // workload key → admission ID → reservation
}

type reservation struct {
	decision Decision
	at       time.Time
}

// DefaultReservationTTL bounds how long a placement counts without its pod
// appearing in the cache: long enough for any sane apiserver round trip, short
// enough that a rejected create frees its slot quickly.
const DefaultReservationTTL = 30 * time.Second

// NewLedger returns a Ledger reading pods from pods.
func NewLedger(pods PlacedPodLister, c clock.PassiveClock, ttl time.Duration) *Ledger {
	return &Ledger{pods: pods, clock: c, ttl: ttl, reserved: map[string]map[string]reservation{}}
}

// Place counts the workload's placed pods, cached and reserved, asks decide
// for this pod's decision, and reserves it, atomically. A decision without a
// placement reserves nothing.
func (l *Ledger) Place(ctx context.Context, namespace, workload, admissionID string, decide func(Counts) Decision) (Decision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := namespace + "/" + workload
	pods, err := l.pods.PlacedPods(ctx, namespace, workload)
	if err != nil {
		return Decision{}, err
	}
	var c Counts
	seen := make(map[string]bool, len(pods))
	for _, p := range pods {
		seen[p.AdmissionID] = true
		c.add(p.Placement)
	}
	now := l.clock.Now()
	for id, r := range l.reserved[key] {
		switch {
		case seen[id]:
			// The cache has it now; it is counted above.
			delete(l.reserved[key], id)
		case now.Sub(r.at) > l.ttl:
			delete(l.reserved[key], id)
		default:
			c.add(r.decision.Placement)
		}
	}
	d := decide(c)
	d.AdmissionID = admissionID
	if d.Placement != "" {
		if l.reserved[key] == nil {
			l.reserved[key] = map[string]reservation{}
		}
		l.reserved[key][admissionID] = reservation{decision: d, at: now}
	}
	if len(l.reserved[key]) == 0 {
		delete(l.reserved, key)
	}
	return d, nil
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

func (c *Counts) add(p Placement) {
	switch p {
	case PlacementOnDemand:
		c.OnDemand++
	case PlacementSpot:
		c.Spot++
	}
}
