package requests

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// weekHours is the history the leak detector compares with: "the same hour
// on previous days" covers every weekday.
const weekHours = 7 * 24

// ringHours is how many hours of per-hour minimum and maximum memory are
// kept: a week and two hours, so that once an hour has begun the weekly
// envelope can still read that hour and the one before it a week ago
// (with exactly a week, the current hour overwrites them).
const ringHours = weekHours + 2

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

// slot maps a Unix hour to its ring index.
func slot(h int64) int64 { return slotIn(h, ringHours) }

// slotIn maps a Unix hour to its index in a ring of n hours (non-negative
// even before 1970).
func slotIn(h, n int64) int64 { return (h%n + n) % n }

// appendSlots encodes the ring's slots in slot order, min and max as
// float32 each (8 bytes a slot).
func (r *hourRing) appendSlots(b []byte) []byte {
	for i := range r.min {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(r.min[i]))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(r.max[i]))
	}
	return b
}

// restoreSlots decodes n slots written by appendSlots for a ring of n <=
// ringHours hours ending at Unix hour last (n: ringHours, or the week of
// checkpoint versions 2 and 3) and returns the rest of d. Each hour must be
// unset (both NaN) or 0 <= min <= max, finite.
func (r *hourRing) restoreSlots(last int64, n int, d []byte) ([]byte, error) {
	if len(d) < 8*n {
		return nil, fmt.Errorf("hourly ring truncated (%d of %d bytes)", len(d), 8*n)
	}
	r.last = last
	r.clear(last-ringHours+1, last)
	for h := last - int64(n) + 1; h <= last; h++ {
		i := slotIn(h, int64(n))
		lo := math.Float32frombits(binary.LittleEndian.Uint32(d[8*i:]))
		hi := math.Float32frombits(binary.LittleEndian.Uint32(d[8*i+4:]))
		if !validHour(float64(lo), float64(hi)) {
			return nil, fmt.Errorf("hourly ring at %s: min %v, max %v: want both unset or 0 <= min <= max, finite", time.Unix(h*3600, 0).UTC().Format(time.RFC3339), lo, hi)
		}
		r.min[slot(h)], r.max[slot(h)] = lo, hi
	}
	return d[8*n:], nil
}

// validHour: an hour with no sample (both NaN) or 0 <= lo <= hi, finite.
func validHour(lo, hi float64) bool {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return math.IsNaN(lo) && math.IsNaN(hi)
	}
	return lo >= 0 && lo <= hi && !math.IsInf(hi, 0)
}
