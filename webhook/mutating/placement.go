package mutating

import (
	"fmt"

	"github.com/trimtab-dev/trimtab/config"
)

// choose decides the capacity type of the next pod of a workload with policy
// p, given how many of its pods are already placed on each type. It reports
// whether the placement is required (the pod must run there) or preferred
// (the scheduler may fall back, e.g. when spot capacity is short).
//
//   - capacity on-demand: on-demand, required.
//   - capacity spot: spot, required.
//   - capacity auto: the first OnDemandBase pods on-demand, required, so the
//     base survives a spot reclaim; the rest prefer spot but may fall back
//     to on-demand rather than stay Pending.
func choose(p config.Policy, c Counts) (placement Placement, required bool, reason string) {
	switch p.Capacity {
	case config.CapacityOnDemand:
		return PlacementOnDemand, true, "policy capacity on-demand"
	case config.CapacitySpot:
		return PlacementSpot, true, "policy capacity spot"
	}
	if c.OnDemand < p.OnDemandBase {
		return PlacementOnDemand, true, fmt.Sprintf("on-demand base %d, %d placed before this pod", p.OnDemandBase, c.OnDemand)
	}
	if p.OnDemandBase == 0 {
		return PlacementSpot, false, "capacity auto with no on-demand base, spot preferred"
	}
	return PlacementSpot, false, fmt.Sprintf("on-demand base %d filled, spot preferred for the rest", p.OnDemandBase)
}
