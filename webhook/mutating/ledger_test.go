package mutating

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// laggingCache is a PlacedPodLister whose contents the test controls, like an
// informer cache that has seen only some of the admitted pods.
type laggingCache struct {
	mu   sync.Mutex
	pods []PlacedPod
	fail error
}

func (c *laggingCache) PlacedPods(context.Context, WorkloadKey) ([]PlacedPod, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]PlacedPod(nil), c.pods...), c.fail
}

func (c *laggingCache) show(p ...PlacedPod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pods = append(c.pods, p...)
}

func autoPolicy(base int) config.Policy {
	p := config.DefaultPolicy()
	p.Capacity, p.OnDemandBase, p.Mode = config.CapacityAuto, base, config.ModeEnforce
	return p
}

// decideWith places pods as the handler does: the capacity rule's split of
// p, asked for each pod with the Ledger's counts.
func decideWith(p config.Policy) func(capacity.Counts) PodDecision {
	in, err := p.Inputs()
	if err != nil {
		panic(err)
	}
	split, err := capacity.Decide(in.Capacity, capacity.Outlook{})
	if err != nil {
		panic(err)
	}
	return func(c capacity.Counts) PodDecision {
		pl := split.Place(c)
		return PodDecision{Placement: pl.Type, Required: pl.Required, Reason: pl.Reason}
	}
}

var web = WorkloadKey{Namespace: "shop", Kind: "Deployment", Name: "web"}

// 50 concurrent admissions of one workload while the cache has seen none of
// them still place exactly the base on on-demand.
func TestLedgerBurstHonoursBase(t *testing.T) {
	cache := &laggingCache{}
	l := NewLedger(cache, clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL, nil)
	var wg sync.WaitGroup
	got := make(chan capacity.Type, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Place(context.Background(), web, fmt.Sprint("uid-", i), decideWith(autoPolicy(3)))
			if err != nil {
				t.Error(err)
			}
			got <- d.Placement
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
		t.Errorf("pending = %d, want 50 awaiting the cache", l.Pending())
	}
}

// Once the cache shows a pod its reservation is dropped rather than counted
// twice; a reservation whose pod never appears expires.
func TestLedgerConfirmAndExpire(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	cache := &laggingCache{}
	l := NewLedger(cache, clk, 30*time.Second, nil)
	place := func(id string) capacity.Type {
		d, err := l.Place(context.Background(), web, id, decideWith(autoPolicy(2)))
		if err != nil {
			t.Fatal(err)
		}
		return d.Placement
	}
	if p := place("a"); p != capacity.OnDemand {
		t.Fatalf("first pod: %s, want on-demand", p)
	}
	cache.show(PlacedPod{AdmissionID: "a", Placement: capacity.OnDemand})
	if p := place("b"); p != capacity.OnDemand {
		t.Fatalf("second pod with the first cached: %s, want on-demand (the first must not count twice)", p)
	}
	if p := place("c"); p != capacity.Spot {
		t.Fatalf("third pod: %s, want spot", p)
	}
	// b's create failed after admission: it never reaches the cache.
	clk.SetTime(clk.Now().Add(31 * time.Second))
	if p := place("d"); p != capacity.OnDemand {
		t.Fatalf("after b's reservation expired: %s, want on-demand to refill the base", p)
	}
}

func TestLedgerListError(t *testing.T) {
	l := NewLedger(&laggingCache{fail: fmt.Errorf("cache not synced")}, clocktesting.NewFakePassiveClock(time.Now()), time.Second, nil)
	if _, err := l.Place(context.Background(), web, "x", decideWith(autoPolicy(1))); err == nil {
		t.Fatal("Place succeeded although the pod list failed")
	}
	if l.Pending() != 0 {
		t.Errorf("a failed Place reserved %d slots", l.Pending())
	}
}
