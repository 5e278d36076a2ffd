package requests

import (
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests/trend"
)

// LeakConfig configures the memory-leak detector.
//
// The detector looks at the minimum memory of each of the last Lookback
// hours. A leak raises the floor, not only the peaks, so minimums are what it
// trends; a daily cycle also raises the floor every morning, so two tests
// must both pass: the Mann-Kendall test says the minimums rise (1% level),
// and the Theil-Sen line through them ends above the highest minimum seen at
// the same hours on any of the previous days of the week, i.e. the rise is
// not what this container does every day.
type LeakConfig struct {
	Enabled bool
	// Lookback is the number of whole hours trended.
	Lookback int
	// MinZ is the Mann-Kendall score needed (3 = one-sided 0.13%; 2.33,
	// the 1% level, raised false alarms on the Bitbrains VMs).
	MinZ float64
	// MinRate is the least growth worth acting on, bytes per hour.
	MinRate float64
	// Horizon: act when the projected OOM is closer than this.
	Horizon time.Duration
	// SameHoursOnly compares the fitted floor with the floors at the same
	// hours (+-2 h) of the previous days; otherwise with every hour of them.
	SameHoursOnly bool
	// Ahead is how far ahead of the projected usage a raise goes; raises
	// repeat as the leak goes on, so memory grows in steps ahead of it.
	Ahead time.Duration
}

// DefaultLeakConfig returns the detector's defaults.
func DefaultLeakConfig() LeakConfig {
	return LeakConfig{Enabled: true, Lookback: 12, MinZ: 3, MinRate: 4 * MiB, Horizon: 12 * time.Hour, Ahead: 24 * time.Hour}
}

func (l LeakConfig) validate() error {
	switch {
	case l.Lookback < 4 || l.Lookback > ringHours/2:
		return fmt.Errorf("requests config leak.lookback=%d: must be 4..%d hours", l.Lookback, ringHours/2)
	case !(l.MinZ > 0):
		return fmt.Errorf("requests config leak.minZ=%v: must be positive", l.MinZ)
	case !(l.MinRate >= 0):
		return fmt.Errorf("requests config leak.minRate=%v: must be >= 0", l.MinRate)
	case l.Horizon <= 0 || l.Ahead <= 0:
		return fmt.Errorf("requests config leak.horizon=%v, leak.ahead=%v: must be positive", l.Horizon, l.Ahead)
	}
	return nil
}

// Leak is a detected memory growth.
type Leak struct {
	// Rate is the Theil-Sen slope of the hourly minimums, bytes per hour.
	Rate float64
	// Z is the Mann-Kendall score of the rise.
	Z float64
	// Since is the start of the trended window.
	Since time.Time
	// Peak is the recent peak, adjusted for the growth since it was seen.
	Peak float64
	// ProjectedOOM is when Peak, growing at Rate, reaches the limit (zero
	// when no limit was given).
	ProjectedOOM time.Time
}

// DetectLeak runs the leak detector as of now against the current memory
// limit (bytes; 0 if unknown). It returns nil when memory is not growing
// significantly beyond its usual daily range, or with less than a day of
// history (nothing to compare a rise with).
func (c *Container) DetectLeak(now time.Time, limit float64) *Leak {
	lc := c.cfg.Leak
	if !lc.Enabled || c.hours.last == 0 {
		return nil
	}
	end := min(unixHour(now), c.hours.last+1) // first hour not trended (the current, partial one)
	if c.hours.last-unixHour(c.first) < int64(24+lc.Lookback) {
		return nil
	}
	xs := make([]float64, 0, lc.Lookback)
	ys := make([]float64, 0, lc.Lookback)
	for h := end - int64(lc.Lookback); h < end; h++ {
		if lo, _, ok := c.hours.at(h); ok {
			xs = append(xs, float64(h-end))
			ys = append(ys, lo)
		}
	}
	if len(ys) < lc.Lookback*3/4 {
		return nil // too many gaps to judge
	}
	z := trend.MannKendallZ(ys)
	if z < lc.MinZ {
		return nil
	}
	rate, level, ok := trend.TheilSen(xs, ys) // level: fitted minimum at the end hour
	if !ok || rate < lc.MinRate || rate <= 0 {
		return nil
	}
	// Novelty: the fitted floor must exceed the floor seen at the same
	// hours of the previous days (the last hour of the window, +-1 h).
	usual, seen := math.Inf(-1), false
	for d := int64(1); d*24 < ringHours; d++ {
		from, to := int64(-2), int64(0)
		if !lc.SameHoursOnly {
			from, to = -23, 0
		}
		for dh := from; dh <= to; dh++ {
			if lo, _, ok := c.hours.at(end - 24*d + dh); ok {
				usual, seen = math.Max(usual, lo), true
			}
		}
	}
	if !seen || level-rate <= usual {
		return nil
	}
	// The peak of the last day, each hour's max carried forward by the
	// growth since that hour.
	peak := 0.0
	for h := end - 24; h <= c.hours.last; h++ {
		if _, hi, ok := c.hours.at(h); ok {
			peak = math.Max(peak, hi+rate*float64(end-h))
		}
	}
	l := &Leak{Rate: rate, Z: z, Since: time.Unix((end-int64(lc.Lookback))*3600, 0).UTC(), Peak: peak}
	if limit > 0 {
		hours := math.Max(0, (limit-peak)/rate)
		l.ProjectedOOM = now.Add(time.Duration(hours * float64(time.Hour)))
	}
	return l
}

// Urgent reports whether the projected OOM falls within the horizon.
func (l *Leak) Urgent(now time.Time, horizon time.Duration) bool {
	return l != nil && !l.ProjectedOOM.IsZero() && l.ProjectedOOM.Sub(now) <= horizon
}

// String is the leak in words, e.g. "memory rising 41 MiB/h since 09:00
// (Mann-Kendall z=3.4); projected OOM 14:20".
func (l *Leak) String() string {
	s := fmt.Sprintf("memory rising %s/h since %s (Mann-Kendall z=%.1f)", FormatBytes(l.Rate), l.Since.Format("01-02 15:04"), l.Z)
	if !l.ProjectedOOM.IsZero() {
		s += "; projected OOM " + l.ProjectedOOM.UTC().Format("01-02 15:04")
	}
	return s
}
