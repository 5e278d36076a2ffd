package main

import (
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/trimtab-dev/trimtab/internal/speedclock"
)

// replayFlags are the manager's flags for replaying a recorded price trace
// (test/ec2fixture, make demo-placer): the manager's injected clock sped
// up by the fixture's factor from the same origin, so every controller,
// ticker, budget, backoff and the forecaster's hysteresis reads the
// replay's time and nothing else in their code differs from production.
type replayFlags struct {
	speed  float64
	origin string
}

// clock is the manager's clock: nil (the real clock) at speed 1 with no
// origin, else a speedclock from origin (RFC 3339; empty: now).
func (r replayFlags) clock(now time.Time) (clock.WithTicker, error) {
	if r.speed == 1 && r.origin == "" {
		return nil, nil
	}
	origin := now
	if r.origin != "" {
		t, err := time.Parse(time.RFC3339, r.origin)
		if err != nil {
			return nil, fmt.Errorf("--clock-origin %q: want an RFC 3339 time such as 2026-12-04T09:00:00Z", r.origin)
		}
		origin = t
	}
	c, err := speedclock.New(origin, r.speed)
	if err != nil {
		return nil, fmt.Errorf("--clock-speed: %w", err)
	}
	return c, nil
}
