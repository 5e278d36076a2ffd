package capacity

import (
	"fmt"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/spot"
)

// Choice is the kind of placement chosen.
type Choice string

// Choices.
const (
	Spot     Choice = "spot"
	OnDemand Choice = "on-demand"
	Split    Choice = "split"
)

// Input is everything Decide looks at.
type Input struct {
	Class    config.Class
	Capacity config.Capacity
	// OnDemandBase is the policy's on-demand base (used with capacity auto).
	OnDemandBase int
	Replicas     int32
	// SpotPrice and OnDemandPrice are the current prices of the workload's
	// market; 0 means unknown.
	SpotPrice, OnDemandPrice float64
	// Forecast is the forecaster's latest assessment of the market; nil
	// when there is none.
	Forecast *spot.Assessment
}

// Decision is the chosen placement: OnDemandPods + SpotPods = Replicas.
type Decision struct {
	Choice       Choice
	OnDemandPods int32
	SpotPods     int32
	Reason       string
}

// String prints the decision as "choice (od/spot): reason".
func (d Decision) String() string {
	return fmt.Sprintf("%s (%d on-demand, %d spot): %s", d.Choice, d.OnDemandPods, d.SpotPods, d.Reason)
}

// Decide chooses the placement. It returns an error only for inputs that are
// not a workload (negative replicas or base, unknown class or capacity).
func Decide(in Input) (Decision, error) {
	if in.Replicas < 0 || in.OnDemandBase < 0 {
		return Decision{}, fmt.Errorf("replicas %d, on-demand base %d: want non-negative counts", in.Replicas, in.OnDemandBase)
	}
	switch in.Class {
	case config.ClassCritical, config.ClassStandard, config.ClassBatch:
	default:
		return Decision{}, fmt.Errorf("class %q: want one of %v", in.Class, config.Classes)
	}
	switch in.Capacity {
	case config.CapacityAuto, config.CapacitySpot, config.CapacityOnDemand:
	default:
		return Decision{}, fmt.Errorf("capacity %q: want one of %v", in.Capacity, config.Capacities)
	}
	if in.Capacity == config.CapacityOnDemand {
		return place(in.Replicas, in.Replicas, "policy asks for on-demand"), nil
	}
	base := int32(in.OnDemandBase)
	if in.Capacity == config.CapacitySpot {
		base = 0
	}
	why := ""
	if in.Class == config.ClassCritical && base < 1 {
		base = 1
		why = "critical workloads never run on spot alone; "
	}
	if in.SpotPrice > 0 && in.OnDemandPrice > 0 && in.SpotPrice >= in.OnDemandPrice {
		return place(in.Replicas, in.Replicas, fmt.Sprintf("%sspot %.4f is not cheaper than on-demand %.4f", why, in.SpotPrice, in.OnDemandPrice)), nil
	}
	if f := in.Forecast; f != nil && f.Off {
		held := ""
		if f.Action == spot.Hold {
			held = " (held: " + f.Reason.String() + ")"
		}
		return place(in.Replicas, in.Replicas, fmt.Sprintf("%sforecaster has the market off spot: %s%s", why, f.Reason, held)), nil
	}
	if in.Forecast == nil && (in.SpotPrice <= 0 || in.OnDemandPrice <= 0) {
		if in.Class == config.ClassBatch && base == 0 {
			return place(in.Replicas, 0, "no forecast or prices; batch tolerates interruption, stays on spot"), nil
		}
	}
	reason := fmt.Sprintf("%son-demand base %d, the rest on spot", why, base)
	if in.Class == config.ClassBatch {
		reason = why + "batch follows the forecast: no spike expected"
		if base > 0 {
			reason += fmt.Sprintf("; on-demand base %d", base)
		}
	}
	return place(in.Replicas, base, reason), nil
}

// place puts min(onDemand, replicas) pods on on-demand and the rest on spot.
func place(replicas, onDemand int32, reason string) Decision {
	onDemand = min(onDemand, replicas)
	d := Decision{OnDemandPods: onDemand, SpotPods: replicas - onDemand, Reason: reason}
	switch {
	case d.SpotPods == 0:
		d.Choice = OnDemand
	case d.OnDemandPods == 0:
		d.Choice = Spot
	default:
		d.Choice = Split
	}
	return d
}
