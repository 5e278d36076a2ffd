package plot

import (
	"fmt"
	"math"
	"time"
)

// niceTicks returns about n round values (1, 2 or 5 × 10^k apart) covering
// [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, v)
	}
	return ticks
}

// timeTicks returns round times in [t0, t1] about n apart, aligned in loc
// (day ticks on its midnights, at t0's offset from UTC), and the layout to
// label them with.
func timeTicks(t0, t1 time.Time, loc *time.Location, n int) ([]time.Time, string) {
	step, layout := timeStep(t1.Sub(t0), n)
	_, off := t0.In(loc).Zone()
	shift := time.Duration(off) * time.Second
	var ticks []time.Time
	for t := t0.Add(shift).Truncate(step).Add(-shift); !t.After(t1); t = t.Add(step) {
		if !t.Before(t0) {
			ticks = append(ticks, t)
		}
	}
	return ticks, layout
}

// timeStep picks a round tick interval giving about n ticks over span, and
// the layout to label them with.
func timeStep(span time.Duration, n int) (time.Duration, string) {
	for _, s := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if span/s <= time.Duration(n) {
			return s, "01-02 15:04"
		}
	}
	for _, days := range []int{1, 2, 7, 14, 28} {
		if s := time.Duration(days) * 24 * time.Hour; span/s <= time.Duration(n) {
			return s, "2006-01-02"
		}
	}
	return 56 * 24 * time.Hour, "2006-01-02"
}

// tickStep is the spacing of ticks from niceTicks (1 for a single tick).
func tickStep(ticks []float64) float64 {
	if len(ticks) < 2 {
		return 1
	}
	return ticks[1] - ticks[0]
}

// formatValue labels a tick with as many decimals as the tick step needs,
// so every label on an axis has the same precision.
func formatValue(v, step float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6 && step >= 1e5:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e3 && step >= 100:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	return fmt.Sprintf("%.*f", decimals, v)
}
