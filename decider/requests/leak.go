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
// hours: a leak raises the floor, not only the peaks, and minimums ignore
// spikes. A daily cycle also raises the floor every morning, so two tests
// must both pass: the Mann-Kendall test says the floors rise (z >= MinZ,
// slope >= MinRate), and the Theil-Sen line through them ends above every
// hourly floor of the previous days of the week by Excess of growth, i.e.
// the container is somewhere it has not been all week and still climbing.
type LeakConfig struct {
	Enabled bool
	// Lookback is the number of whole hours trended.
	Lookback int
	// LongLookback, when > 0, is a second, longer window tried when
	// Lookback's finds nothing: a slow leak on a container with little
	// headroom OOMs before twelve noisy floors show it.
	LongLookback int
	// MinZ is the Mann-Kendall score needed (3 = one-sided 0.13%; 2.33,
	// the 1% level, raised false alarms on the Bitbrains VMs).
	MinZ float64
	// SoonZ is the lower score accepted from the raw and the seasonal test
	// together, for a weak leak: it holds memory like any leak but raises
	// it only when the projected OOM is within Soon. A fast leak on a
	// container with little headroom OOMs before twelve noisy hourly floors
	// reach MinZ. 2 (one-sided 2.3%) with both tests raised no false alarm
	// on the Bitbrains VMs; 1.65 raised eight. 0 turns it off.
	SoonZ float64
	Soon  time.Duration
	// MinRate is the least growth worth acting on, bytes per hour.
	MinRate float64
	// Horizon: act when the projected OOM is closer than this.
	Horizon time.Duration
	// Excess is how many hours of growth the fitted floor must be above
	// the usual floors: a daily ramp that merely reaches its usual top
	// must not count as a leak because of noise.
	Excess time.Duration
	// Ahead is how far ahead of the projected usage a raise goes; raises
	// repeat as the leak goes on, so memory grows in steps ahead of it.
	Ahead time.Duration
	// Remember keeps a raise's memory as a floor for this long after it
	// (0: not at all), like an OOM bump: a leak on a container whose
	// floors swing by GiBs can drop below the test's threshold after the
	// raise while it goes on growing.
	Remember time.Duration
}

// DefaultLeakConfig returns the detector's defaults.
func DefaultLeakConfig() LeakConfig {
	return LeakConfig{Enabled: true, Lookback: 12, LongLookback: 24, MinZ: 3, SoonZ: 2, Soon: 4 * time.Hour, MinRate: 4 * MiB, Horizon: 12 * time.Hour, Ahead: 24 * time.Hour, Excess: 3 * time.Hour,
		Remember: 3 * 24 * time.Hour}
}

func (l LeakConfig) validate() error {
	switch {
	case l.Lookback < 4 || l.Lookback > weekHours/2:
		return fmt.Errorf("requests config leak.lookback=%d: must be 4..%d hours", l.Lookback, weekHours/2)
	case l.LongLookback != 0 && (l.LongLookback <= l.Lookback || l.LongLookback > weekHours/2):
		return fmt.Errorf("requests config leak.longLookback=%d: must be 0 (off) or %d..%d hours", l.LongLookback, l.Lookback+1, weekHours/2)
	case !(l.MinZ > 0):
		return fmt.Errorf("requests config leak.minZ=%v: must be positive", l.MinZ)
	case !(l.SoonZ >= 0 && l.SoonZ <= l.MinZ) || l.Soon < 0:
		return fmt.Errorf("requests config leak.soonZ=%v, leak.soon=%v: soonZ must be 0..minZ (0: off) and soon ≥ 0", l.SoonZ, l.Soon)
	case !(l.MinRate >= 0):
		return fmt.Errorf("requests config leak.minRate=%v: must be >= 0", l.MinRate)
	case l.Horizon <= 0 || l.Ahead <= 0:
		return fmt.Errorf("requests config leak.horizon=%v, leak.ahead=%v: must be positive", l.Horizon, l.Ahead)
	case l.Remember < 0:
		return fmt.Errorf("requests config leak.remember=%s: must be >= 0 (0: not at all)", l.Remember)
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
	// Weak is set when only the weaker evidence (LeakConfig.SoonZ) holds:
	// memory is held, and raised only when the OOM is within
	// LeakConfig.Soon.
	Weak bool
}

// floorRange is the highest hourly minimum in Unix hours [from, to).
func (c *Container) floorRange(from, to int64) (float64, bool) {
	top, seen := math.Inf(-1), false
	for h := from; h < to; h++ {
		if lo, _, ok := c.hours.at(h); ok && lo > top { // at's values are never NaN: no math.Max
			top, seen = lo, true
		}
	}
	return top, seen
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
	lookback := lc.Lookback
	rate, z, weak, ok := c.trendTests(end, lookback, limit)
	if !ok && lc.LongLookback > 0 {
		lookback = lc.LongLookback
		rate, z, weak, ok = c.trendTests(end, lookback, limit)
	}
	if !ok {
		return nil
	}
	// The peak of the last day, each hour's max carried forward by the
	// growth since that hour.
	peak := 0.0
	for h := max(end-24, c.hours.last-ringHours+1); h <= c.hours.last; h++ {
		if _, hi, ok := c.hours.at(h); ok {
			peak = math.Max(peak, hi+rate*float64(end-h))
		}
	}
	l := &Leak{Rate: rate, Z: z, Since: time.Unix((end-int64(lookback))*3600, 0).UTC(), Peak: peak}
	if limit > 0 {
		hours := math.Max(0, (limit-peak)/rate)
		l.ProjectedOOM = now.Add(time.Duration(hours * float64(time.Hour)))
	}
	l.Weak = weak
	return l
}

// FloorAboveWeek reports whether the memory floor of the last three hours
// is above every hourly minimum of the days before: the state a leak leaves
// behind even when its trend is momentarily not significant, in which
// trimtab never lowers memory.
func (c *Container) FloorAboveWeek(now time.Time) bool {
	if !c.cfg.Leak.Enabled || c.hours.last == 0 || c.hours.last-unixHour(c.first) < 48 {
		return false
	}
	end := min(unixHour(now), c.hours.last+1)
	floor, n := math.Inf(1), 0
	for h := end - 3; h < end; h++ {
		if lo, _, ok := c.hours.at(h); ok {
			floor, n = math.Min(floor, lo), n+1
		}
	}
	if n == 0 {
		return false
	}
	top, seen := c.floorRange(end-weekHours+1, end-24)
	return seen && floor > top
}

// trendTests runs the raw and the seasonal test over the lookback hours
// before end. It trends once at the lower score; a result under MinZ is
// weaker evidence, which counts when both tests agree (a weak leak: see
// Leak.Weak).
func (c *Container) trendTests(end int64, lookback int, limit float64) (rate, z float64, weak, ok bool) {
	lc := c.cfg.Leak
	minZ := lc.MinZ
	if lc.SoonZ > 0 && limit > 0 {
		minZ = lc.SoonZ
	}
	rate, z, raw := c.rawTrend(end, lookback, minZ)
	if raw && z >= lc.MinZ {
		return rate, z, false, true
	}
	sRate, sZ, seasonal := c.seasonalTrend(end, lookback, minZ)
	switch {
	case seasonal && sZ >= lc.MinZ:
		return sRate, sZ, false, true
	case raw && seasonal:
		return rate, z, true, true
	}
	return 0, 0, false, false
}

// rawTrend tests the hourly floors themselves: they must rise significantly
// and end above every hourly floor of the previous days by Excess of
// growth, i.e. the container is where it has not been all week.
func (c *Container) rawTrend(end int64, lookback int, minZ float64) (rate, z float64, ok bool) {
	lc := c.cfg.Leak
	xs := make([]float64, 0, lookback)
	ys := make([]float64, 0, lookback)
	for h := end - int64(lookback); h < end; h++ {
		if lo, _, ok := c.hours.at(h); ok {
			xs = append(xs, float64(h-end))
			ys = append(ys, lo)
		}
	}
	if len(ys) < lookback*3/4 {
		return 0, 0, false // too many gaps to judge
	}
	if z = trend.MannKendallZ(ys); z < minZ {
		return 0, 0, false
	}
	rate, level, ok := trend.TheilSen(xs, ys) // level: fitted floor at the end hour
	if !ok || rate < lc.MinRate || rate <= 0 {
		return 0, 0, false
	}
	// Novelty: the fitted floor of the last hour must exceed every hourly
	// floor of the days before (from a week ago to a day ago) by Excess of
	// growth; a daily ramp that reaches its usual top does not.
	usual, seen := c.floorRange(end-weekHours+1, end-24)
	if !seen || level-rate <= usual+rate*lc.Excess.Hours() {
		return 0, 0, false
	}
	return rate, z, true
}

// seasonalTrend tests the floors minus the highest floor at the same hour
// (+-1 h) on the previous days: a daily or weekly cycle cancels out and a
// leak leaves a line rising at its rate, which is visible long before the
// floor leaves its weekly range.
func (c *Container) seasonalTrend(end int64, lookback int, minZ float64) (rate, z float64, ok bool) {
	lc := c.cfg.Leak
	xs := make([]float64, 0, lookback)
	ds := make([]float64, 0, lookback)
	for h := end - int64(lookback); h < end; h++ {
		lo, _, ok := c.hours.at(h)
		if !ok {
			continue
		}
		usual, seen := math.Inf(-1), false
		for d := int64(1); d*24 < weekHours; d++ {
			if top, ok := c.floorRange(h-24*d-1, h-24*d+2); ok {
				usual, seen = max(usual, top), true
			}
		}
		if seen {
			xs = append(xs, float64(h-end))
			ds = append(ds, lo-usual)
		}
	}
	if len(ds) < lookback*3/4 {
		return 0, 0, false
	}
	if z = trend.MannKendallZ(ds); z < minZ {
		return 0, 0, false
	}
	rate, level, ok := trend.TheilSen(xs, ds)
	if !ok || rate < lc.MinRate || rate <= 0 || level-rate <= rate*lc.Excess.Hours() {
		return 0, 0, false
	}
	return rate, z, true
}

// Urgent reports whether the projected OOM falls within horizon, or for a
// weak leak within soon as well.
func (l *Leak) Urgent(now time.Time, horizon, soon time.Duration) bool {
	if l != nil && l.Weak {
		horizon = min(horizon, soon)
	}
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
