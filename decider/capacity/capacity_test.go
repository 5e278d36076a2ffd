package capacity

import (
	"strings"
	"testing"

	"github.com/trimtab-dev/trimtab/decider/spot"
)

func TestDecideAndPlace(t *testing.T) {
	offSpot := Outlook{OffSpot: true, Reason: "spike forecast"}
	for _, tc := range []struct {
		name    string
		rule    Rule
		outlook Outlook
		counts  Counts
		want    Placement
	}{
		{"pinned on-demand", Rule{Pin: OnDemand}, Outlook{}, Counts{OnDemand: 9}, Placement{OnDemand, true, false, "policy capacity on-demand"}},
		{"pinned spot", Rule{Pin: Spot}, Outlook{}, Counts{Spot: 3}, Placement{Spot, true, false, "policy capacity spot"}},
		// The owner's pin wins over the outlook: the placer never moves a
		// workload its owner pinned to spot.
		{"pinned spot ignores a spike", Rule{Pin: Spot}, offSpot, Counts{}, Placement{Spot, true, false, "policy capacity spot"}},
		{"base short", Rule{OnDemandBase: 2}, Outlook{}, Counts{OnDemand: 1, Spot: 4}, Placement{OnDemand, true, true, "on-demand base 2, 1 placed before this pod"}},
		{"base filled", Rule{OnDemandBase: 2}, Outlook{}, Counts{OnDemand: 2}, Placement{Spot, false, false, "on-demand base 2 filled, spot preferred for the rest"}},
		{"no base", Rule{}, Outlook{}, Counts{}, Placement{Spot, false, false, "capacity auto with no on-demand base, spot preferred"}},
		{"spike, no base", Rule{}, offSpot, Counts{Spot: 5}, Placement{OnDemand, true, false, "off spot: spike forecast"}},
		{"spike, base short", Rule{OnDemandBase: 1}, offSpot, Counts{}, Placement{OnDemand, true, true, "on-demand base 1, 0 placed before this pod"}},
		{"spike, base filled", Rule{OnDemandBase: 1}, offSpot, Counts{OnDemand: 1}, Placement{OnDemand, true, false, "on-demand base 1 filled; off spot: spike forecast"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decide(tc.rule, tc.outlook)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Place(tc.counts); got != tc.want {
				t.Errorf("Place(%+v) = %+v, want %+v (split %s)", tc.counts, got, tc.want, s)
			}
		})
	}
}

// TestOfMatchesPlace holds the two views of a split to each other: placing
// n pods one after another lands them as Of(n) says.
func TestOfMatchesPlace(t *testing.T) {
	rules := []Rule{{Pin: Spot}, {Pin: OnDemand}, {}, {OnDemandBase: 1}, {OnDemandBase: 3}}
	for _, r := range rules {
		for _, o := range []Outlook{{}, {OffSpot: true, Reason: "x"}} {
			s, err := Decide(r, o)
			if err != nil {
				t.Fatal(err)
			}
			var c Counts
			for n := int32(0); n <= 6; n++ {
				od, sp := s.Of(n)
				if od != int32(c.OnDemand) || sp != int32(c.Spot) {
					t.Errorf("%+v %+v: Of(%d) = %d/%d, placing one by one gave %d/%d", r, o, n, od, sp, c.OnDemand, c.Spot)
				}
				c.Add(s.Place(c).Type)
			}
		}
	}
}

func TestDecideRejectsBadRules(t *testing.T) {
	for _, r := range []Rule{{OnDemandBase: -1}, {Pin: "cheap"}} {
		if _, err := Decide(r, Outlook{}); err == nil {
			t.Errorf("%+v: want an error", r)
		}
	}
}

func TestOutlookOf(t *testing.T) {
	off := &spot.Assessment{Off: true, Action: spot.MoveOut, Reason: spot.ReasonForecast}
	heldOff := &spot.Assessment{Off: true, Action: spot.Hold, Reason: spot.ReasonStale}
	heldOn := &spot.Assessment{Action: spot.Hold, Reason: spot.ReasonStale}
	for _, tc := range []struct {
		name           string
		spot, onDemand float64
		a              *spot.Assessment
		off            bool
		reasonPart     string
	}{
		{"no data", 0, 0, nil, false, ""},
		{"cheap spot", 0.03, 0.21, nil, false, ""},
		{"spot not cheaper", 0.0425, 0.0425, nil, true, "not cheaper"},
		// The forecaster's hysteresis governs when it runs: a price at
		// on-demand that it has not (yet) moved out for stays on spot.
		{"forecaster calm at the price", 0.21, 0.21, &spot.Assessment{Action: spot.Stay, Reason: spot.ReasonSteady}, false, ""},
		{"forecast spike", 0.03, 0.21, off, true, "crossing forecast"},
		{"stale after a spike keeps off", 0.03, 0.21, heldOff, true, "held: stale"},
		{"stale while on stays on", 0.03, 0.21, heldOn, false, ""},
	} {
		o := OutlookOf(tc.spot, tc.onDemand, tc.a)
		if o.OffSpot != tc.off || !strings.Contains(o.Reason, tc.reasonPart) {
			t.Errorf("%s: got %+v, want off=%v with %q", tc.name, o, tc.off, tc.reasonPart)
		}
	}
}
