package forecast

import (
	"math"
	"time"
)

// A sample is the load averaged over its interval, [t, t + step). On a
// series coarser than the profile's buckets (5- or 30-minute samples
// against 5-minute buckets sampled off the bucket grid, or 30-minute
// samples) one sample covers several buckets, and learning it into the
// first bucket only left the others empty: the profile then had no
// expectation for five of every six 5-minute slots of a 30-minute series,
// the proactive path answered only while its window touched a slot with
// data, and its answer came and went every half hour (scale events 5× the
// HPA's). holdPrevious closes the buckets the previous sample covered
// beyond its first with that sample's value, so every slot learns what
// the series said about it.
//
// The step is the smallest spacing among the samples the nowcast ring
// holds; a spacing longer than that is a gap, and the previous sample is
// held for one step only, never across the gap.

// maxHold bounds how far one sample is held, so a series with a sample a
// day does not fill a day of buckets per sample.
const maxHold = 6 * time.Hour

// holdPrevious fills the buckets between the open bucket and b that the
// newest observed sample covered, with its value, before the sample at
// Unix time t (in bucket b) is learned.
func (m *Model) holdPrevious(t, b int64) {
	if m.trailN == 0 || b <= m.cur+1 {
		return
	}
	prev := m.trail[(m.trailN-1)%trailCap]
	step := m.sampleStep(t)
	if step <= 0 {
		return
	}
	end := prev.t + min(step, int64(maxHold/time.Second)) // the previous sample covered [prev.t, end)
	width := int64(m.cfg.Bucket / time.Second)
	for nb := m.cur + 1; nb < b && nb*width < end; nb++ {
		m.closeBucket()
		m.cur = nb
		m.acc, m.accN = float64(prev.v), 1
	}
}

// sampleStep is the series' sampling interval as the ring shows it: the
// smallest spacing between consecutive samples, the one ending at t
// included.
func (m *Model) sampleStep(t int64) int64 {
	n := min(m.trailN, trailCap)
	step := t - m.trail[(m.trailN-1)%trailCap].t
	for j := 1; j < n; j++ {
		a, b := m.trail[(m.trailN-1-j)%trailCap], m.trail[(m.trailN-j)%trailCap]
		if d := b.t - a.t; d > 0 && d < step {
			step = d
		}
	}
	return step
}

// The error histograms and the arms' scores decay per sample, and were
// tuned on 1-minute replays: counted in samples, a 5-minute series forgot
// five times slower (a half-life of ten days, not two) and waited five
// times longer before choosing an arm (1,000 samples: three and a half
// days; on a 30-minute series three weeks, so the recent mean was never
// chosen on a shorter trace). Each sample therefore weighs its interval in
// minutes: every constant counted in samples (ErrorHalfLife,
// minClassWeight, minCostWeight) now means minutes of samples, the same
// on 1-minute series as before and the same in time on any other.

// maxSampleWeight bounds a sample's weight, as maxHold bounds its hold.
const maxSampleWeight = float64(maxHold / time.Minute)

// sampleWeight is the weight of the sample at Unix time t: the series'
// step (sampleStep) in minutes; 1 for the first sample.
func (m *Model) sampleWeight(t int64) float64 {
	if m.trailN == 0 {
		return 1
	}
	step := m.sampleStep(t)
	if step <= 0 {
		return 1
	}
	return min(float64(step)/60, maxSampleWeight)
}

// decayOf is the decay factor for a sample of weight w.
func (m *Model) decayOf(w float64) float64 {
	if w == 1 {
		return float64(m.decay)
	}
	return math.Pow(float64(m.decay), w)
}
