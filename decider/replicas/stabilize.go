package replicas

import (
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
)

// downWindow is the scale-down stabilization window the policy's behavior
// asks for (upstream default 300 s when unset).
func downWindow(p Config) time.Duration {
	if p.Behavior != nil && p.Behavior.ScaleDown != nil && p.Behavior.ScaleDown.StabilizationWindowSeconds != nil {
		return time.Duration(*p.Behavior.ScaleDown.StabilizationWindowSeconds) * time.Second
	}
	return hpa.DefaultDownscaleStabilization
}

// stabilizeReactive records the reactive recommendation and returns it
// stabilized as upstream stabilizes a scale-down (the highest
// recommendation within the window, never above current) — so the reactive
// component keeps the HPA's behavior on its own, whatever the forecast says.
func (s *State) stabilizeReactive(r, current int32, window time.Duration, now time.Time) int32 {
	cut := now.Add(-window)
	keep := s.Reactive[:0]
	for _, x := range s.Reactive {
		if x.At.After(cut) {
			keep = append(keep, x)
		}
	}
	if len(s.Reactive) == 0 && len(keep) == 0 {
		// like upstream recordInitialRecommendation: start from current
		keep = append(keep, hpa.Recommendation{Replicas: current, At: now})
	}
	s.Reactive = append(keep, hpa.Recommendation{Replicas: r, At: now})
	if r >= current {
		return r
	}
	hi := r
	for _, x := range s.Reactive {
		hi = max(hi, x.Replicas)
	}
	return min(hi, current)
}

// withoutDownWindow returns spec with a zero scale-down stabilization window
// and the same rate limits: used once the reactive component is stabilized on
// its own, so a forecast that knows load will fall is not held for 300 s.
func withoutDownWindow(spec hpa.Spec) hpa.Spec {
	if spec.Behavior == nil {
		// Legacy path: a window of one nanosecond is no window.
		spec.DownscaleStabilization = time.Nanosecond
		return spec
	}
	b := *spec.Behavior
	down := hpa.DefaultScaleDownRules()
	if b.ScaleDown != nil {
		c := *b.ScaleDown
		down = &c
	}
	zero := int32(0)
	down.StabilizationWindowSeconds = &zero
	b.ScaleDown = down
	spec.Behavior = &b
	return spec
}
