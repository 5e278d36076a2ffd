package hpa

import (
	"errors"
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Spec is the part of an HPA spec the normalizer reads.
type Spec struct {
	MinReplicas int32 // upstream defaults an unset minReplicas to 1
	MaxReplicas int32
	// Behavior nil selects upstream's legacy path (scale-up to max(2×, 4) per
	// sync, downscale stabilization only), as for an HPA without behavior.
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
	// DownscaleStabilization is the controller flag used when the scale-down
	// window is unset; 0 means the upstream default of 5 minutes.
	DownscaleStabilization time.Duration
}

// Proposal is one metric's answer; Err marks a metric that could not be computed.
type Proposal struct {
	Metric   string
	Replicas int32
	Err      error
}

// Outcome is one reconcile's result.
type Outcome struct {
	Replicas int32
	// Metric is the metric whose proposal won (empty when a min/max bound decided).
	Metric string
	// Proposed is the multi-metric max before stabilization and limits.
	Proposed int32
	// Stabilized is Proposed after the stabilization window(s).
	Stabilized int32
	Limit      Limit
	Reason     string
}

// Reconcile is one pass of upstream reconcileAutoscaler over a scale target
// with current spec replicas: bound checks, multi-metric max, stabilization,
// rate limits, and the scale event record. It updates s as the controller
// updates its maps.
func (s *State) Reconcile(spec Spec, current int32, proposals []Proposal, now time.Time) (Outcome, error) {
	if spec.MaxReplicas < spec.MinReplicas || spec.MaxReplicas <= 0 {
		return Outcome{}, fmt.Errorf("replicas bounds %d..%d: need 0 ≤ min ≤ max and max ≥ 1", spec.MinReplicas, spec.MaxReplicas)
	}
	window := spec.DownscaleStabilization
	if window == 0 {
		window = DefaultDownscaleStabilization
	}
	if len(s.Recommendations) == 0 {
		// upstream recordInitialRecommendation
		s.Recommendations = append(s.Recommendations, Recommendation{current, now})
	}
	var out Outcome
	switch {
	case current == 0:
		return Outcome{Replicas: 0, Reason: "scaling is disabled since the replica count of the target is zero"}, nil
	case current > spec.MaxReplicas:
		out = Outcome{Replicas: spec.MaxReplicas, Reason: "Current number of replicas above Spec.MaxReplicas"}
	case current < spec.MinReplicas:
		out = Outcome{Replicas: spec.MinReplicas, Reason: "Current number of replicas below Spec.MinReplicas"}
	default:
		proposed, metric, err := maxProposal(proposals, current)
		if err != nil {
			return Outcome{}, err
		}
		out = Outcome{Proposed: proposed, Metric: metric}
		if proposed > current {
			out.Reason = metric + " above target"
		} else if proposed < current {
			out.Reason = "All metrics below target"
		}
		if spec.Behavior == nil {
			out.Stabilized = s.stabilizeLegacy(proposed, window, now)
			out.Replicas, out.Limit = convertWithRules(current, out.Stabilized, spec.MinReplicas, spec.MaxReplicas)
		} else {
			up := withDefaults(spec.Behavior.ScaleUp, DefaultScaleUpRules(), 0)
			down := withDefaults(spec.Behavior.ScaleDown, DefaultScaleDownRules(), window)
			out.Stabilized = s.stabilize(current, proposed, up, down, now)
			out.Replicas, out.Limit = s.convertWithBehavior(current, out.Stabilized, spec.MinReplicas, spec.MaxReplicas, up, down, now)
		}
	}
	if spec.Behavior != nil && out.Replicas != current {
		// upstream storeScaleEvent, after every successful rescale
		up := withDefaults(spec.Behavior.ScaleUp, DefaultScaleUpRules(), 0)
		down := withDefaults(spec.Behavior.ScaleDown, DefaultScaleDownRules(), window)
		if out.Replicas > current {
			s.Up = storeEvent(s.Up, out.Replicas-current, longestPeriod(up), now)
		} else {
			s.Down = storeEvent(s.Down, current-out.Replicas, longestPeriod(down), now)
		}
	}
	return out, nil
}

// maxProposal is upstream computeReplicasForMetrics: the largest proposal
// wins; if every metric failed, or some failed and the rest would scale
// down, there is no answer (the HPA does not scale on partial data downward).
func maxProposal(ps []Proposal, current int32) (int32, string, error) {
	if len(ps) == 0 {
		return 0, "", errors.New("no metrics: need at least one proposal")
	}
	var best int32
	var metric string
	var firstErr error
	invalid := 0
	for _, p := range ps {
		if p.Err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("metric %q: %w", p.Metric, p.Err)
			}
			invalid++
			continue
		}
		if best == 0 || p.Replicas > best {
			best, metric = p.Replicas, p.Metric
		}
	}
	if invalid >= len(ps) || (invalid > 0 && best < current) {
		return 0, "", fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %w", invalid, len(ps), firstErr)
	}
	return best, metric, nil
}
