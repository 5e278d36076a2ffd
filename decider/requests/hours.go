package requests

import (
	"math"
	"time"
)

// ringHours is how many hours of per-hour minimum and maximum memory the
// leak detector keeps: one week, so "the same hour on previous days" covers
// every weekday.
const ringHours = 7 * 24

// hourRing holds the minimum and maximum memory of each of the last
// ringHours clock hours (NaN where no sample fell), indexed by Unix hour.
// float32 is enough (7 significant digits of a byte count) and halves the
// checkpoint.
type hourRing struct {
	last int64 // Unix hour of the newest slot; 0 when empty
	min  [ringHours]float32
	max  [ringHours]float32
}

func unixHour(t time.Time) int64 { return t.Unix() / 3600 }

func (r *hourRing) add(t time.Time, v float64) {
	h := unixHour(t)
	if r.last == 0 {
		r.clear(h-ringHours+1, h)
		r.last = h
	}
	if h > r.last {
		r.clear(max(r.last+1, h-ringHours+1), h)
		r.last = h
	}
	if h <= r.last-ringHours {
		return // older than the ring; cannot happen with ordered samples
	}
	i := slot(h)
	f := float32(v)
	if math.IsNaN(float64(r.min[i])) || f < r.min[i] {
		r.min[i] = f
	}
	if math.IsNaN(float64(r.max[i])) || f > r.max[i] {
		r.max[i] = f
	}
}

func (r *hourRing) clear(from, to int64) {
	nan := float32(math.NaN())
	for h := from; h <= to; h++ {
		r.min[slot(h)], r.max[slot(h)] = nan, nan
	}
}

// at returns the minimum and maximum of Unix hour h, ok=false if unknown.
func (r *hourRing) at(h int64) (lo, hi float64, ok bool) {
	if r.last == 0 || h > r.last || h <= r.last-ringHours {
		return 0, 0, false
	}
	i := slot(h)
	lo, hi = float64(r.min[i]), float64(r.max[i])
	return lo, hi, !math.IsNaN(lo)
}

// slot maps a Unix hour to its ring index (non-negative even before 1970).
func slot(h int64) int64 { return (h%ringHours + ringHours) % ringHours }
