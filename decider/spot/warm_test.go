package spot

import (
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/prices/file"
)

// juneSlice is c3.xlarge in us-east-1a, 2015-06-05 to 06-13
// (test/testdata/prices/README.md): spikes to 1.0 until 06-09, calm, then
// on 06-12 a climb to 0.21 at 18:10 and the first price above it at 19:25.
func juneSlice(t *testing.T) prices.History {
	t.Helper()
	hs, err := file.ReadFile("../../test/testdata/prices/c3.xlarge-2015-06-05-to-13.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	return hs[0]
}

// upTo is what the live source holds at now after its first refresh: the
// points from the one in force at from through now.
func upTo(h prices.History, from, now time.Time) prices.History {
	out := prices.History{Market: h.Market, OnDemand: h.OnDemand}
	for i, p := range h.Points {
		if p.Time.After(now) {
			break
		}
		if i+1 < len(h.Points) && !h.Points[i+1].Time.After(from) {
			continue
		}
		out.Points = append(out.Points, p)
	}
	return out
}

// live runs the placer's price rounds from start every 5 minutes until the
// market moves out (or until): the first round holds the week before
// start, warmed or only fed; each round feeds what is new and steps.
func live(t *testing.T, h prices.History, start, until time.Time, warm bool) Assessment {
	t.Helper()
	f, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	from := start.Add(-7 * 24 * time.Hour)
	for now := start; !now.After(until); now = now.Add(5 * time.Minute) {
		snap := prices.Snapshot{AsOf: now, Histories: []prices.History{upTo(h, from, now)}}
		if warm {
			if _, err := f.Warm(snap.Histories[0], now, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Feed(snap); err != nil {
			t.Fatal(err)
		}
		a, err := f.Step(h.Market, now)
		if err != nil {
			t.Fatal(err)
		}
		if a.Action == MoveOut {
			return a
		}
	}
	t.Fatalf("never moved out by %s (warm %v)", until, warm)
	return Assessment{}
}

// TestWarmForecastsFromTheFirstRound: with the week before as its only
// history, the replay moves this market out at 18:30 on a crossing
// forecast, 55 minutes before the price first rises above on-demand
// (19:25). Live rounds starting at 17:00 do the same only if the first
// history is warmed: fed in one piece it teaches the forecaster nothing,
// and it moves out on the price, after the crossing.
func TestWarmForecastsFromTheFirstRound(t *testing.T) {
	h := juneSlice(t)
	start := time.Date(2015, 6, 12, 17, 0, 0, 0, time.UTC)
	until := time.Date(2015, 6, 12, 21, 0, 0, 0, time.UTC)
	crossing := time.Date(2015, 6, 12, 19, 25, 24, 0, time.UTC)

	a := live(t, h, start, until, true)
	t.Logf("warmed: %s at %s", a, a.Time.Format("15:04"))
	if a.Reason != ReasonForecast || crossing.Sub(a.Time) < 10*time.Minute || a.Price > a.Threshold {
		t.Errorf("warmed: moved out at %s (%s), want a crossing forecast ≥ 10 min before %s", a.Time.Format("15:04"), a.Reason, crossing.Format("15:04"))
	}
	if !a.Time.Equal(time.Date(2015, 6, 12, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("warmed: moved out at %s, the replay on the same history at 18:30", a.Time.Format("15:04"))
	}

	cold := live(t, h, start, until, false)
	t.Logf("fed only: %s at %s", cold, cold.Time.Format("15:04"))
	if cold.Time.Before(crossing) {
		t.Errorf("fed only: moved out at %s, before the crossing: the comparison no longer shows what Warm is for", cold.Time.Format("15:04"))
	}
}

// TestWarmEndingInASpike: a first history that ends above the threshold
// leaves the market off spot, since the step that moved it, and says why.
func TestWarmEndingInASpike(t *testing.T) {
	h := juneSlice(t)
	end := time.Date(2015, 6, 8, 12, 0, 0, 0, time.UTC) // 1.0 since 10:58
	f, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	why, err := f.Warm(upTo(h, end.Add(-7*24*time.Hour), end), end, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Step(h.Market, end)
	if err != nil {
		t.Fatal(err)
	}
	if why != ReasonAbove || !a.Off || a.Since.Before(time.Date(2015, 6, 8, 10, 58, 0, 0, time.UTC)) || a.Since.After(time.Date(2015, 6, 8, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("warm ending in a spike: reason %s, assessment %s since %s; want off since 10:58-11:00 because the price was above", why, a, a.Since.Format("15:04"))
	}
}

// TestWarmLeavesAnObservedMarket: Warm is for a market's first history;
// one already observed is carried on by Feed and Step, unchanged.
func TestWarmLeavesAnObservedMarket(t *testing.T) {
	f := newF(t, DefaultConfig())
	if err := f.Observe(mkt, t0, 0.1); err != nil {
		t.Fatal(err)
	}
	before, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	h := prices.History{Market: mkt, OnDemand: 1, Points: []prices.Point{{Time: t0.Add(time.Minute), Price: 2}, {Time: t0.Add(time.Hour), Price: 0.1}}}
	if why, err := f.Warm(h, t0.Add(2*time.Hour), time.Minute); err != nil || why != ReasonSteady {
		t.Fatalf("Warm on an observed market: %v, %v", why, err)
	}
	after, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("Warm changed an observed market")
	}
	if _, err := f.Warm(h, t0, 0); err == nil || !strings.Contains(err.Error(), "step 0s") {
		t.Errorf("a zero step: %v, want an error naming it", err)
	}
	bad := prices.History{Market: prices.Market{InstanceType: "m5.large", Zone: "us-east-1a", Product: prices.ProductLinux}, Points: []prices.Point{{Time: t0, Price: -1}}}
	if _, err := f.Warm(bad, t0.Add(time.Hour), time.Minute); err == nil || !strings.Contains(err.Error(), "price -1") {
		t.Errorf("a negative price: %v, want an error naming it", err)
	}
}
