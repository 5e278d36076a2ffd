package hpa

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Recommendation is one unstabilized replica recommendation and when it was made.
type Recommendation struct {
	Replicas int32
	At       time.Time
}

// ScaleEvent is one applied change (absolute, non-negative) and when it happened.
type ScaleEvent struct {
	Change   int32
	At       time.Time
	outdated bool
}

// State is the controller's memory of one HPA: its recent recommendations
// (for stabilization windows) and scale events (for rate policies). Upstream
// keeps these in maps keyed by HPA; here the caller owns one State per
// workload. Its size is bounded by the longest window over the sync period.
type State struct {
	Recommendations []Recommendation
	Up, Down        []ScaleEvent
}

// DefaultScaleUpRules are upstream's defaults for behavior.scaleUp: no
// stabilization, and per 15 s at most +4 pods or +100%, whichever is more.
func DefaultScaleUpRules() *autoscalingv2.HPAScalingRules {
	sel := autoscalingv2.MaxChangePolicySelect
	win := int32(0)
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &win,
		SelectPolicy:               &sel,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// DefaultScaleDownRules are upstream's defaults for behavior.scaleDown: up
// to -100% per 15 s, after the controller's stabilization window (300 s).
func DefaultScaleDownRules() *autoscalingv2.HPAScalingRules {
	sel := autoscalingv2.MaxChangePolicySelect
	return &autoscalingv2.HPAScalingRules{
		SelectPolicy: &sel,
		Policies:     []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
	}
}

// withDefaults fills unset fields of r from def, like upstream's
// copyHPAScalingRules defaulting, and a nil scale-down window from window.
func withDefaults(r, def *autoscalingv2.HPAScalingRules, window time.Duration) *autoscalingv2.HPAScalingRules {
	out := def
	if r != nil {
		c := *r
		if c.SelectPolicy == nil {
			c.SelectPolicy = def.SelectPolicy
		}
		if c.Policies == nil {
			c.Policies = def.Policies
		}
		if c.StabilizationWindowSeconds == nil {
			c.StabilizationWindowSeconds = def.StabilizationWindowSeconds
		}
		out = &c
	}
	if out.StabilizationWindowSeconds == nil {
		w := int32(window / time.Second)
		out.StabilizationWindowSeconds = &w
	}
	return out
}

// stabilizeLegacy is upstream stabilizeRecommendation (no behavior set): the
// highest recommendation within the downscale window.
func (s *State) stabilizeLegacy(desired int32, window time.Duration, now time.Time) int32 {
	maxRec := desired
	old := -1
	cutoff := now.Add(-window)
	for i, r := range s.Recommendations {
		if r.At.Before(cutoff) {
			old = i
		} else if r.Replicas > maxRec {
			maxRec = r.Replicas
		}
	}
	s.record(old, desired, now)
	return maxRec
}

func (s *State) record(old int, desired int32, now time.Time) {
	if old >= 0 {
		s.Recommendations[old] = Recommendation{desired, now}
	} else {
		s.Recommendations = append(s.Recommendations, Recommendation{desired, now})
	}
}

// stabilize is upstream stabilizeRecommendationWithBehaviors: the lowest
// recommendation of the scale-up window and the highest of the scale-down
// window bound the current count.
func (s *State) stabilize(current, desired int32, up, down *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	upRec, downRec := desired, desired
	upCut := now.Add(-time.Duration(*up.StabilizationWindowSeconds) * time.Second)
	downCut := now.Add(-time.Duration(*down.StabilizationWindowSeconds) * time.Second)
	old := -1
	for i, r := range s.Recommendations {
		if r.At.After(upCut) {
			upRec = min(r.Replicas, upRec)
		}
		if r.At.After(downCut) {
			downRec = max(r.Replicas, downRec)
		}
		if r.At.Before(upCut) && r.At.Before(downCut) {
			old = i
		}
	}
	rec := current
	if rec < upRec {
		rec = upRec
	}
	if rec > downRec {
		rec = downRec
	}
	s.record(old, desired, now)
	return rec
}

// Limit names why a normalized count differs from the stabilized one
// (upstream's ScalingLimited condition reasons).
type Limit string

// Limits, as upstream names them.
const (
	WithinRange    Limit = "DesiredWithinRange"
	ScaleUpLimit   Limit = "ScaleUpLimit"
	ScaleDownLimit Limit = "ScaleDownLimit"
	TooMany        Limit = "TooManyReplicas"
	TooFew         Limit = "TooFewReplicas"
)

// convertWithRules is upstream convertDesiredReplicasWithRules (no behavior).
func convertWithRules(current, desired, minR, maxR int32) (int32, Limit) {
	upLimit := int32(math.Max(2*float64(current), 4))
	maxAllowed, reason := maxR, TooMany
	if maxR > upLimit {
		maxAllowed, reason = upLimit, ScaleUpLimit
	}
	if desired < minR {
		return minR, TooFew
	}
	if desired > maxAllowed {
		return maxAllowed, reason
	}
	return desired, WithinRange
}

// convertWithBehavior is upstream convertDesiredReplicasWithBehaviorRate.
func (s *State) convertWithBehavior(current, desired, minR, maxR int32, up, down *autoscalingv2.HPAScalingRules, now time.Time) (int32, Limit) {
	switch {
	case desired > current:
		limit := max(scaleUpLimit(current, s.Up, s.Down, up, now), current)
		maxAllowed, reason := maxR, TooMany
		if maxR > limit {
			maxAllowed, reason = limit, ScaleUpLimit
		}
		if desired > maxAllowed {
			return maxAllowed, reason
		}
	case desired < current:
		limit := min(scaleDownLimit(current, s.Up, s.Down, down, now), current)
		minAllowed, reason := minR, TooFew
		if minR < limit {
			minAllowed, reason = limit, ScaleDownLimit
		}
		if desired < minAllowed {
			return minAllowed, reason
		}
	}
	return desired, WithinRange
}

func changeInPeriod(periodSeconds int32, events []ScaleEvent, now time.Time) int32 {
	cutoff := now.Add(-time.Duration(periodSeconds) * time.Second)
	var n int32
	for _, e := range events {
		if e.At.After(cutoff) {
			n += e.Change
		}
	}
	return n
}

// scaleUpLimit is upstream calculateScaleUpLimitWithScalingRules.
func scaleUpLimit(current int32, upEv, downEv []ScaleEvent, r *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	sel := *r.SelectPolicy
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	result, pick := int32(math.MinInt32), func(a, b int32) int32 { return max(a, b) }
	if sel == autoscalingv2.MinChangePolicySelect {
		result, pick = math.MaxInt32, func(a, b int32) int32 { return min(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(p.PeriodSeconds, upEv, now) + changeInPeriod(p.PeriodSeconds, downEv, now)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start + p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit is upstream calculateScaleDownLimitWithBehaviors.
func scaleDownLimit(current int32, upEv, downEv []ScaleEvent, r *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	sel := *r.SelectPolicy
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	result, pick := int32(math.MaxInt32), func(a, b int32) int32 { return min(a, b) }
	if sel == autoscalingv2.MinChangePolicySelect {
		result, pick = math.MinInt32, func(a, b int32) int32 { return max(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(p.PeriodSeconds, upEv, now) + changeInPeriod(p.PeriodSeconds, downEv, now)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start - p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

func longestPeriod(r *autoscalingv2.HPAScalingRules) int32 {
	var p int32
	for _, x := range r.Policies {
		p = max(p, x.PeriodSeconds)
	}
	return p
}

// storeEvent is upstream storeScaleEvent: it reuses a slot outdated by the
// longest policy period, so the slices stay short.
func storeEvent(events []ScaleEvent, change int32, longest int32, now time.Time) []ScaleEvent {
	cutoff := now.Add(-time.Duration(longest) * time.Second)
	slot := -1
	for i := range events {
		if events[i].At.Before(cutoff) {
			events[i].outdated = true
		}
		if events[i].outdated {
			slot = i
		}
	}
	e := ScaleEvent{Change: change, At: now}
	if slot >= 0 {
		events[slot] = e
		return events
	}
	return append(events, e)
}
