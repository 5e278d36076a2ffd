package histogram

import (
	"math"
	"time"
)

// maxDecayExponent bounds the scale factor 2^((t-ref)/halfLife) applied to
// new samples; past it the histogram is renormalised (as VPA does).
const maxDecayExponent = 100

// epsilon is the smallest total weight for which a histogram is non-empty.
const epsilon = 1e-4

// Decaying is a histogram whose samples lose half their weight every
// HalfLife. The zero value is not usable; use NewDecaying.
type Decaying struct {
	opts     Options
	halfLife time.Duration
	ref      time.Time // decay reference: weights are relative to this time
	weights  []float64
	total    float64
	lo, hi   int // smallest and largest non-empty bucket; lo > hi when empty
}

// NewDecaying returns an empty histogram with the given buckets and half-life.
func NewDecaying(opts Options, halfLife time.Duration) *Decaying {
	return &Decaying{opts: opts, halfLife: halfLife, weights: make([]float64, opts.n), lo: opts.n, hi: -1}
}

// Options returns the bucket layout.
func (h *Decaying) Options() Options { return h.opts }

// IsEmpty reports whether the histogram holds no meaningful weight.
func (h *Decaying) IsEmpty() bool { return h.total < epsilon*h.factor(h.ref) || h.hi < 0 }

// factor is the weight multiplier for a sample at t.
func (h *Decaying) factor(t time.Time) float64 {
	return math.Exp2(float64(t.Sub(h.ref)) / float64(h.halfLife))
}

// AddSample adds v with the given weight, as observed at t. Samples must not
// be far older than the reference time; older ones simply count less.
func (h *Decaying) AddSample(v, weight float64, t time.Time) {
	if !(weight > 0) || math.IsNaN(v) {
		return
	}
	if h.ref.IsZero() {
		h.ref = t.Truncate(time.Hour)
	}
	if float64(t.Sub(h.ref))/float64(h.halfLife) > maxDecayExponent {
		h.shift(t)
	}
	b := h.opts.Bucket(v)
	w := weight * h.factor(t)
	h.weights[b] += w
	h.total += w
	if b < h.lo {
		h.lo = b
	}
	if b > h.hi {
		h.hi = b
	}
}

// SubtractSample removes a sample added earlier with AddSample(v, weight, t),
// used to replace an interval's running peak by a higher one.
func (h *Decaying) SubtractSample(v, weight float64, t time.Time) {
	if !(weight > 0) || math.IsNaN(v) || h.hi < 0 {
		return
	}
	b := h.opts.Bucket(v)
	w := weight * h.factor(t)
	h.weights[b] -= w
	h.total -= w
	if h.weights[b] < epsilon {
		h.total -= h.weights[b]
		h.weights[b] = 0
		h.trim()
	}
}

// shift moves the reference time to t (rounded to the hour), scaling all
// weights down so none overflows.
func (h *Decaying) shift(t time.Time) {
	newRef := t.Truncate(time.Hour)
	s := math.Exp2(-float64(newRef.Sub(h.ref)) / float64(h.halfLife))
	h.total = 0
	for i := range h.weights {
		h.weights[i] *= s
		h.total += h.weights[i]
	}
	h.ref = newRef
}

// trim recomputes lo and hi after buckets emptied.
func (h *Decaying) trim() {
	for h.lo <= h.hi && h.weights[h.lo] <= 0 {
		h.lo++
	}
	for h.hi >= h.lo && h.weights[h.hi] <= 0 {
		h.hi--
	}
	if h.lo > h.hi {
		h.lo, h.hi, h.total = h.opts.n, -1, 0
	}
}

// Percentile returns the upper end of the bucket in which the cumulative
// weight reaches fraction p of the total (0 for an empty histogram). Like
// VPA it errs high, by at most one bucket (5%).
func (h *Decaying) Percentile(p float64) float64 {
	b, _ := h.find(p)
	if b < 0 {
		return 0
	}
	return h.end(b)
}

// PercentileWithin is Percentile read inside its bucket, the bucket's
// weight taken as spread evenly over it: no longer rounded up to the
// bucket's end.
func (h *Decaying) PercentileWithin(p float64) float64 {
	b, frac := h.find(p)
	if b < 0 {
		return 0
	}
	lo := h.opts.Start(b)
	return lo + frac*(h.end(b)-lo)
}

// find is the bucket in which the cumulative weight reaches fraction p of
// the total and how far into that bucket's weight it does (-1 when empty).
func (h *Decaying) find(p float64) (int, float64) {
	if h.hi < 0 {
		return -1, 0
	}
	threshold := p * h.total
	sum := 0.0
	b := h.lo
	for ; b < h.hi; b++ {
		if w := h.weights[b]; sum+w >= threshold {
			return b, math.Min(math.Max((threshold-sum)/w, 0), 1)
		}
		sum += h.weights[b]
	}
	if w := h.weights[b]; w > 0 {
		return b, math.Min(math.Max((threshold-sum)/w, 0), 1)
	}
	return b, 1
}

func (h *Decaying) end(b int) float64 {
	if b+1 < h.opts.n {
		return h.opts.Start(b + 1)
	}
	return h.opts.Max
}

// TotalWeight is the total weight, as of time t.
func (h *Decaying) TotalWeight(t time.Time) float64 {
	if h.hi < 0 {
		return 0
	}
	return h.total / h.factor(t)
}
