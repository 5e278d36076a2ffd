package capacity

import "testing"

func TestPlaceOrdinal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rule    Rule
		outlook Outlook
		ordinal int
		want    Placement
	}{
		{"in the base", Rule{OnDemandBase: 3}, Outlook{}, 2, Placement{OnDemand, true, true, "on-demand base 3: ordinal 2"}},
		{"past the base", Rule{OnDemandBase: 3}, Outlook{}, 3, Placement{Spot, false, false, "ordinal 3, past the base; on-demand base 3 filled, spot preferred for the rest"}},
		{"no base", Rule{}, Outlook{}, 0, Placement{Spot, false, false, "capacity auto with no on-demand base, spot preferred"}},
		{"pinned spot", Rule{Pin: Spot}, Outlook{}, 0, Placement{Spot, true, false, "policy capacity spot"}},
		{"off spot, past the base", Rule{OnDemandBase: 1}, Outlook{OffSpot: true, Reason: "spike"}, 4, Placement{OnDemand, true, false, "ordinal 4, past the base; on-demand base 1 filled; off spot: spike"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decide(tc.rule, tc.outlook)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.PlaceOrdinal(tc.ordinal); got != tc.want {
				t.Errorf("PlaceOrdinal(%d) = %+v, want %+v", tc.ordinal, got, tc.want)
			}
		})
	}
}

// TestPlaceOrdinalMatchesOf: a StatefulSet of n pods, ordinals 0..n-1,
// divides as Of(n) says, whatever order its pods are created in.
func TestPlaceOrdinalMatchesOf(t *testing.T) {
	for _, r := range []Rule{{Pin: Spot}, {Pin: OnDemand}, {}, {OnDemandBase: 1}, {OnDemandBase: 3}} {
		s, err := Decide(r, Outlook{})
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 6; n++ {
			var c Counts
			for i := n - 1; i >= 0; i-- { // highest first, as a rolling update goes
				c.Add(s.PlaceOrdinal(i).Type)
			}
			od, sp := s.Of(int32(n))
			if int(od) != c.OnDemand || int(sp) != c.Spot {
				t.Errorf("%+v, %d pods: by ordinal %+v, Of says %d/%d", r, n, c, od, sp)
			}
		}
	}
}

func TestDrift(t *testing.T) {
	base3 := Split{OnDemandBase: 3, Rest: Spot, Reason: "spot preferred"}
	for _, tc := range []struct {
		name   string
		split  Split
		census Census
		want   Drift
		words  string
	}{
		{"exact", base3, Census{Pods: 20, Placed: Counts{OnDemand: 3, Spot: 17}},
			Drift{Pods: 20, OnDemand: 3, Spot: 17, WantOnDemand: 3}, "none"},
		// The observed rollout bug: the new ReplicaSet's pods counted the
		// old one's base, which was then deleted.
		{"rollout emptied the base", base3, Census{Pods: 20, Placed: Counts{Spot: 20}},
			Drift{Pods: 20, Spot: 20, WantOnDemand: 3, Short: 3}, "on-demand 3 short of 3"},
		// Created while trimtab was down.
		{"admitted while down", base3, Census{Pods: 20},
			Drift{Pods: 20, Unplaced: 20, WantOnDemand: 3, Short: 3}, "on-demand 3 short of 3; 20 of 20 pods without a placement"},
		// Two webhook replicas each filled the base.
		{"raced replicas", base3, Census{Pods: 20, Placed: Counts{OnDemand: 6, Spot: 14}},
			Drift{Pods: 20, OnDemand: 6, Spot: 14, WantOnDemand: 3, Over: 3}, "on-demand 3 over 3"},
		{"scaled below the base", base3, Census{Pods: 2, Placed: Counts{OnDemand: 2}},
			Drift{Pods: 2, OnDemand: 2, WantOnDemand: 2}, "none"},
		{"no pods", base3, Census{}, Drift{}, "none"},
		// The cache can show a pod before the workload's status counts it.
		{"cache ahead of status", base3, Census{Pods: 4, Placed: Counts{OnDemand: 3, Spot: 2}},
			Drift{Pods: 5, OnDemand: 3, Spot: 2, WantOnDemand: 3}, "none"},
		{"pinned spot with on-demand pods", Split{Rest: Spot, RestRequired: true}, Census{Pods: 4, Placed: Counts{OnDemand: 1, Spot: 3}},
			Drift{Pods: 4, OnDemand: 1, Spot: 3, Over: 1}, "on-demand 1 over 0"},
		{"off spot with spot pods", Split{OnDemandBase: 1, Rest: OnDemand, RestRequired: true}, Census{Pods: 4, Placed: Counts{OnDemand: 1, Spot: 3}},
			Drift{Pods: 4, OnDemand: 1, Spot: 3, WantOnDemand: 4, Short: 3}, "on-demand 3 short of 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.split.Drift(tc.census)
			if got != tc.want {
				t.Errorf("Drift(%+v) = %+v, want %+v", tc.census, got, tc.want)
			}
			if got.String() != tc.words {
				t.Errorf("String() = %q, want %q", got.String(), tc.words)
			}
			if got.None() != (tc.words == "none") {
				t.Errorf("None() = %v for %q", got.None(), tc.words)
			}
		})
	}
}
