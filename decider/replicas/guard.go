package replicas

import (
	"fmt"
	"math"
	"time"
)

// Guard watches a downstream signal (e.g. database p95 latency). While it is
// over Limit, scale-out is blocked; after StepDownAfter over the limit,
// replicas step down by StepDownPercent every StepDownEvery (never below the
// floor). It clears only once the signal has stayed under
// Limit × (1 − Hysteresis) for ClearAfter, so it does not flap.
type Guard struct {
	Name                         string
	Limit                        float64
	Hysteresis                   float64       // e.g. 0.1
	ClearAfter                   time.Duration // e.g. 2m
	StepDownAfter, StepDownEvery time.Duration // e.g. 3m, 1m
	StepDownPercent              float64       // e.g. 10
}

// DefaultGuard returns a guard with the documented defaults.
func DefaultGuard(name string, limit float64) *Guard {
	return &Guard{Name: name, Limit: limit, Hysteresis: 0.1, ClearAfter: 2 * time.Minute,
		StepDownAfter: 3 * time.Minute, StepDownEvery: time.Minute, StepDownPercent: 10}
}

// Validate names a field that cannot work.
func (g *Guard) Validate() error {
	switch {
	case !(g.Limit > 0):
		return fmt.Errorf("guard %q: limit %g: must be > 0", g.Name, g.Limit)
	case g.Hysteresis < 0 || g.Hysteresis >= 1:
		return fmt.Errorf("guard %q: hysteresis %g: must be in [0, 1)", g.Name, g.Hysteresis)
	case g.StepDownPercent < 0 || g.StepDownPercent > 100:
		return fmt.Errorf("guard %q: step-down percent %g: must be in [0, 100]", g.Name, g.StepDownPercent)
	case g.ClearAfter < 0 || g.StepDownAfter < 0 || g.StepDownEvery <= 0:
		return fmt.Errorf("guard %q: durations must be ≥ 0 and step-down-every > 0", g.Name)
	}
	return nil
}

// GuardState is the guard's memory.
type GuardState struct {
	Tripped    bool
	Since      time.Time // when it tripped
	UnderSince time.Time // when the signal went under the clear mark (zero: not under)
	LastStep   time.Time
}

// guardVerdict is what the guard allows this cycle.
type guardVerdict struct {
	blockUp  bool
	stepDown bool
	reason   string
}

// evaluate updates the state with the signal (NaN: missing, holds state).
func (g *Guard) evaluate(s *GuardState, value float64, now time.Time) guardVerdict {
	if math.IsNaN(value) {
		if s.Tripped {
			return guardVerdict{blockUp: true, reason: fmt.Sprintf("guard %s tripped, signal missing: holding", g.Name)}
		}
		return guardVerdict{reason: fmt.Sprintf("guard %s: signal missing", g.Name)}
	}
	clearMark := g.Limit * (1 - g.Hysteresis)
	if !s.Tripped {
		if value > g.Limit {
			*s = GuardState{Tripped: true, Since: now}
		} else {
			return guardVerdict{reason: "guard clear"}
		}
	}
	if value < clearMark {
		if s.UnderSince.IsZero() {
			s.UnderSince = now
		}
		if now.Sub(s.UnderSince) >= g.ClearAfter {
			*s = GuardState{}
			return guardVerdict{reason: fmt.Sprintf("guard %s cleared (%.3g < %.3g for %s)", g.Name, value, clearMark, g.ClearAfter)}
		}
		return guardVerdict{blockUp: true, reason: fmt.Sprintf("guard %s recovering (%.3g < %.3g), scale-out blocked", g.Name, value, clearMark)}
	}
	s.UnderSince = time.Time{}
	v := guardVerdict{blockUp: true, reason: fmt.Sprintf("guard %s %.3g > %.3g: scale-out blocked", g.Name, value, g.Limit)}
	if value > g.Limit && now.Sub(s.Since) >= g.StepDownAfter && now.Sub(s.LastStep) >= g.StepDownEvery {
		s.LastStep = now
		v.stepDown = true
		v.reason = fmt.Sprintf("guard %s %.3g > %.3g for %s: stepping down %g%%", g.Name, value, g.Limit, now.Sub(s.Since).Round(time.Second), g.StepDownPercent)
	}
	return v
}
