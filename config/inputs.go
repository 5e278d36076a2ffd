package config

import (
	"fmt"
	"math"

	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/decider/requests"
)

// Inputs is one workload's policy in the deciders' terms. Policy.Inputs is
// the only place that turns annotations into decider inputs: the webhook,
// the live controllers and the offline replays all call it, so each decider
// runs with the same defaults wherever it runs.
type Inputs struct {
	// Enforce says decisions are applied; false records them only (shadow).
	Enforce bool
	// Evictable says the placer may move the workload's pods ahead of a spot
	// price spike (class batch).
	Evictable bool
	// Capacity is the capacity rule.
	Capacity capacity.Rule
	// Replicas configures the replica decision. Its CapacityPerPod is set
	// from target-per-pod when the load is a metric; with the CPU load it is
	// 0, and the caller sets it from the pods' CPU requests.
	Replicas replicas.Config
	// Load is the signal the replica decision sizes for.
	Load Signal
	// Downstream is the guarded dependency's signal; nil when there is no
	// guard (Replicas.Guard is nil too).
	Downstream *Signal
	// Requests says whether and how container requests are sized.
	Requests RequestsInputs
}

// Signal is a PromQL expression the controller reads; an empty Query is the
// workload's CPU usage against its requests.
type Signal struct {
	Query string
}

// CPU reports whether the signal is the CPU default rather than a query.
func (s Signal) CPU() bool { return s.Query == "" }

// RequestsInputs is the requests decision's part of a workload's policy.
type RequestsInputs struct {
	// Auto says trimtab sizes the workload's container requests.
	Auto   bool
	Config requests.Config
	// Bounds are the policy's (trimtab.dev/requests-min and -max, for
	// every container); the largest node's allocatable is filled in by
	// the controller.
	Bounds requests.Bounds
	// Pinned names the containers left as written (trimtab.dev/requests-pinned).
	Pinned []string
	// KeepLimits leaves limits as written instead of keeping their ratio
	// to the requests (trimtab.dev/limits: keep).
	KeepLimits bool
	// Resize is how running pods get new requests (trimtab.dev/resize).
	Resize Resize
}

// IsPinned reports whether the container named name is pinned.
func (r RequestsInputs) IsPinned(name string) bool {
	for _, p := range r.Pinned {
		if p == name {
			return true
		}
	}
	return false
}

// DownstreamGuard is the guard's name in reasons and Events.
const DownstreamGuard = "downstream"

// Inputs converts p into decider inputs, with each decider's defaults for
// everything the policy does not set. Unset replica bounds are 1 (trimtab
// never scales to zero) and no maximum. It fails only for a policy that
// Validate rejects, naming the annotation.
func (p Policy) Inputs() (Inputs, error) {
	if errs := p.Validate(); len(errs) > 0 {
		return Inputs{}, fmt.Errorf("invalid policy: %w", errs.ToAggregate())
	}
	in := Inputs{
		Enforce:   p.Mode == ModeEnforce,
		Evictable: p.Class == ClassBatch,
		Load:      Signal{Query: p.Metric},
		Requests: RequestsInputs{
			Auto:       p.Requests == RequestsAuto,
			Config:     requests.DefaultConfig(),
			Pinned:     p.PinnedContainers(),
			KeepLimits: p.Limits == LimitsKeep,
			Resize:     p.Resize,
		},
	}
	// Validate has parsed both already.
	in.Requests.Bounds.Min, _ = ParseRequestBounds(p.RequestsMin)
	in.Requests.Bounds.Max, _ = ParseRequestBounds(p.RequestsMax)
	switch p.Capacity {
	case CapacitySpot:
		in.Capacity.Pin = capacity.Spot
	case CapacityOnDemand:
		in.Capacity.Pin = capacity.OnDemand
	default:
		in.Capacity.OnDemandBase = int32(p.OnDemandBase)
	}

	minR, maxR := p.MinReplicas, p.MaxReplicas
	if minR == 0 {
		minR = 1
	}
	if maxR == 0 {
		maxR = math.MaxInt32
	}
	in.Replicas = replicas.DefaultConfig(minR, maxR, 0)
	if p.Metric != "" {
		// target-per-pod is the load one pod carries at the target
		// utilization, so a steady 500 with target 50 is 10 pods before
		// any headroom for the forecast's band.
		in.Replicas.CapacityPerPod = p.TargetPerPod / in.Replicas.TargetUtilization
	}
	if p.Downstream != "" {
		in.Downstream = &Signal{Query: p.Downstream}
		in.Replicas.Guard = replicas.DefaultGuard(DownstreamGuard, p.DownstreamMax)
	}
	return in, nil
}
