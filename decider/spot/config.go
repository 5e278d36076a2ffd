package spot

import (
	"fmt"
	"time"
)

// Config tunes the forecaster. DefaultConfig holds the values chosen by
// measurement on the recorded traces (docs/prices.md).
type Config struct {
	// Horizon is how far ahead a crossing is forecast (default 15m).
	Horizon time.Duration
	// ThresholdMultiple sets the threshold of a market whose on-demand price
	// is unknown: this multiple of its trailing baseline (default 3).
	ThresholdMultiple float64
	// BaselineHalfLife is the half-life of the trailing baseline (default 24h).
	BaselineHalfLife time.Duration
	// POut is the crossing probability at which a market moves out (default 0.15).
	POut float64
	// PBack is the probability at or below which it may move back (default 0.02).
	PBack float64
	// MinOff is the least time spent off spot after a move out (default 1h).
	MinOff time.Duration
	// CalmFor is how long the market must have stayed at or below the
	// threshold before moving back (default 6h).
	CalmFor time.Duration
	// NearFraction and NearFor: spot at or above NearFraction × threshold
	// for NearFor moves out, since the saving is too small for the risk
	// (defaults 0.9, 1h). BackBelow × threshold is the price a move back
	// needs (default 0.8).
	NearFraction float64
	NearFor      time.Duration
	BackBelow    float64
	// MaxStale is the oldest price data acted on; older gives Hold (default 2h).
	MaxStale time.Duration
	// PriorWeight is how many pooled samples a market's own cell is worth
	// before it has data of its own (default 20).
	PriorWeight float64
	// Correlated enables the correlated-market feature (default true).
	Correlated bool
}

// DefaultConfig returns the measured defaults.
func DefaultConfig() Config {
	return Config{
		Horizon:           15 * time.Minute,
		ThresholdMultiple: 3,
		BaselineHalfLife:  24 * time.Hour,
		POut:              0.15,
		PBack:             0.02,
		MinOff:            time.Hour,
		CalmFor:           6 * time.Hour,
		NearFraction:      0.9,
		NearFor:           time.Hour,
		BackBelow:         0.8,
		MaxStale:          2 * time.Hour,
		PriorWeight:       20,
		Correlated:        true,
	}
}

// Validate names the first field out of range and what is accepted.
func (c Config) Validate() error {
	switch {
	case c.Horizon <= 0:
		return fmt.Errorf("horizon %v: want a positive duration", c.Horizon)
	case c.ThresholdMultiple <= 1:
		return fmt.Errorf("threshold multiple %v: want > 1", c.ThresholdMultiple)
	case c.BaselineHalfLife <= 0:
		return fmt.Errorf("baseline half-life %v: want a positive duration", c.BaselineHalfLife)
	case !(c.POut > 0 && c.POut <= 1):
		return fmt.Errorf("POut %v: want 0 < POut <= 1", c.POut)
	case !(c.PBack >= 0 && c.PBack < c.POut):
		return fmt.Errorf("PBack %v: want 0 <= PBack < POut (%v), or the forecaster could thrash", c.PBack, c.POut)
	case c.MinOff < 0 || c.CalmFor < 0 || c.NearFor < 0:
		return fmt.Errorf("MinOff %v, CalmFor %v, NearFor %v: want non-negative durations", c.MinOff, c.CalmFor, c.NearFor)
	case !(c.NearFraction > 0 && c.NearFraction <= 1) || !(c.BackBelow > 0 && c.BackBelow < c.NearFraction):
		return fmt.Errorf("NearFraction %v, BackBelow %v: want 0 < BackBelow < NearFraction <= 1", c.NearFraction, c.BackBelow)
	case c.MaxStale <= 0:
		return fmt.Errorf("MaxStale %v: want a positive duration", c.MaxStale)
	case c.PriorWeight < 0:
		return fmt.Errorf("PriorWeight %v: want >= 0", c.PriorWeight)
	}
	return nil
}
