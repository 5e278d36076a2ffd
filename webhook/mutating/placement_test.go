package mutating

import (
	"strings"
	"testing"

	"github.com/trimtab-dev/trimtab/config"
)

func TestChoose(t *testing.T) {
	withCapacity := func(c config.Capacity, base int) config.Policy {
		p := autoPolicy(base)
		p.Capacity = c
		return p
	}
	for _, tc := range []struct {
		name      string
		policy    config.Policy
		counts    Counts
		placement Placement
		required  bool
		reason    string
	}{
		{"on-demand always", withCapacity(config.CapacityOnDemand, 0), Counts{OnDemand: 9}, PlacementOnDemand, true, "policy capacity on-demand"},
		{"spot always", withCapacity(config.CapacitySpot, 0), Counts{}, PlacementSpot, true, "policy capacity spot"},
		{"auto fills the base", autoPolicy(2), Counts{OnDemand: 1, Spot: 5}, PlacementOnDemand, true, "on-demand base 2, 1 placed before this pod"},
		{"auto base full", autoPolicy(2), Counts{OnDemand: 2}, PlacementSpot, false, "on-demand base 2 filled"},
		{"auto base over-full after a scale-down race", autoPolicy(2), Counts{OnDemand: 3}, PlacementSpot, false, "filled"},
		{"auto no base", autoPolicy(0), Counts{}, PlacementSpot, false, "no on-demand base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, req, reason := choose(tc.policy, tc.counts)
			if p != tc.placement || req != tc.required || !strings.Contains(reason, tc.reason) {
				t.Errorf("choose = %s, required %v, %q; want %s, required %v, reason containing %q", p, req, reason, tc.placement, tc.required, tc.reason)
			}
		})
	}
}
