package mutating

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/trimtab-dev/trimtab/config"
)

// laggingCache is a PlacedPodLister whose contents the test controls, like an
// informer cache that has seen only some of the admitted pods.
type laggingCache struct {
	mu   sync.Mutex
	pods []PlacedPod
	fail error
}

func (c *laggingCache) PlacedPods(context.Context, string, string) ([]PlacedPod, error) {
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

func decideWith(p config.Policy) func(Counts) Decision {
	return func(c Counts) Decision {
		var d Decision
		d.Placement, _, d.Reason = choose(p, c)
		return d
	}
}

// 50 concurrent admissions of one workload while the cache has seen none of
// them still place exactly the base on on-demand.
func TestLedgerBurstHonoursBase(t *testing.T) {
	cache := &laggingCache{}
	l := NewLedger(cache, clocktesting.NewFakePassiveClock(time.Now()), DefaultReservationTTL)
	var wg sync.WaitGroup
	got := make(chan Placement, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := l.Place(context.Background(), "shop", "Deployment/web", fmt.Sprint("uid-", i), decideWith(autoPolicy(3)))
			if err != nil {
				t.Error(err)
			}
			got <- d.Placement
		}()
	}
	wg.Wait()
	close(got)
	counts := Counts{}
	for p := range got {
		counts.add(p)
	}
	if counts != (Counts{OnDemand: 3, Spot: 47}) {
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
	l := NewLedger(cache, clk, 30*time.Second)
	place := func(id string) Placement {
		d, err := l.Place(context.Background(), "shop", "Deployment/web", id, decideWith(autoPolicy(2)))
		if err != nil {
			t.Fatal(err)
		}
		return d.Placement
	}
	if p := place("a"); p != PlacementOnDemand {
		t.Fatalf("first pod: %s, want on-demand", p)
	}
	cache.show(PlacedPod{AdmissionID: "a", Placement: PlacementOnDemand})
	if p := place("b"); p != PlacementOnDemand {
		t.Fatalf("second pod with the first cached: %s, want on-demand (the first must not count twice)", p)
	}
	if p := place("c"); p != PlacementSpot {
		t.Fatalf("third pod: %s, want spot", p)
	}
	// b's create failed after admission: it never reaches the cache.
	clk.SetTime(clk.Now().Add(31 * time.Second))
	if p := place("d"); p != PlacementOnDemand {
		t.Fatalf("after b's reservation expired: %s, want on-demand to refill the base", p)
	}
}

func TestLedgerListError(t *testing.T) {
	l := NewLedger(&laggingCache{fail: fmt.Errorf("cache not synced")}, clocktesting.NewFakePassiveClock(time.Now()), time.Second)
	if _, err := l.Place(context.Background(), "shop", "Deployment/web", "x", decideWith(autoPolicy(1))); err == nil {
		t.Fatal("Place succeeded although the pod list failed")
	}
	if l.Pending() != 0 {
		t.Errorf("a failed Place reserved %d slots", l.Pending())
	}
}
