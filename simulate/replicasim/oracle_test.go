package replicasim

import (
	"math"
	"sort"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
)

// The evaluation's reference forecasters: what a better level forecast
// could buy with trimtab's sizing. Both take their band from the whole
// trace (clairvoyant), per load class as trimtab's bands are kept.

// windowMeans is, for each sample, the mean of the non-missing values from
// before samples earlier to after samples later (NaN where there are none).
func windowMeans(vs []float64, before, after int) []float64 {
	out := make([]float64, len(vs))
	for i := range vs {
		var s float64
		var k int
		for j := max(i-before, 0); j <= min(i+after, len(vs)-1); j++ {
			if v := vs[j]; !math.IsNaN(v) {
				s, k = s+v, k+1
			}
		}
		out[i] = math.NaN()
		if k > 0 {
			out[i] = s / float64(k)
		}
	}
	return out
}

// classBands holds, per load class of a mean, the sorted ratios of the load
// to the mean that stood lag samples earlier, over the whole trace.
type classBands struct {
	avg    float64
	ratios [4][]float64
}

func newClassBands(vs, means []float64, lag int) classBands {
	var b classBands
	var sum float64
	var n int
	for _, m := range means {
		if !math.IsNaN(m) {
			sum, n = sum+m, n+1
		}
	}
	b.avg = sum / float64(max(n, 1))
	for i := lag; i < len(vs); i++ {
		if m, v := means[i-lag], vs[i]; !math.IsNaN(v) && m > 0 {
			c := forecast.Class(m, b.avg)
			b.ratios[c] = append(b.ratios[c], v/m)
		}
	}
	for c := range b.ratios {
		sort.Float64s(b.ratios[c])
	}
	return b
}

// upper is m times the q-quantile of its class's ratios (m without any).
func (b classBands) upper(m, q float64) float64 {
	rs := b.ratios[forecast.Class(m, b.avg)]
	if len(rs) == 0 {
		return m
	}
	return m * rs[min(int(q*float64(len(rs))), len(rs)-1)]
}

// oracle knows the future: its point forecast is the actual load's centred
// mean over a window around t. No forecaster of the level can do better
// with the same sizing rule, so its replay bounds what a better model could
// buy.
type oracle struct {
	tr    Trace
	mean  []float64
	bands classBands
}

func newOracle(tr Trace, window time.Duration) *oracle {
	half := max(int(window/tr.Step)/2, 1)
	mean := windowMeans(tr.Values, half, half)
	return &oracle{tr: tr, mean: mean, bands: newClassBands(tr.Values, mean, 0)}
}

func (o *oracle) Observe(time.Time, float64) {}

func (o *oracle) Warm() bool { return true }

func (o *oracle) Method() string { return "clairvoyant centred mean" }

func (o *oracle) Forecast(t time.Time, q float64) (point, upper float64, ok bool) {
	i := int(t.Sub(o.tr.Start) / o.tr.Step)
	if t.Before(o.tr.Start) || i >= len(o.mean) || math.IsNaN(o.mean[i]) {
		return 0, 0, false
	}
	return o.mean[i], o.bands.upper(o.mean[i], q), true
}

// trailing is causal in its level, the mean of the last window of observed
// samples whatever t is asked, and clairvoyant only in its band (the one
// that mean needed over the whole trace at lag). It measures how much of
// the oracle's advantage a level taken from the recent past keeps; the
// model's recent-mean arm is its online version.
type trailing struct {
	win   int
	seen  []float64 // observed values, in order
	bands classBands
}

func newTrailing(tr Trace, window, lag time.Duration) *trailing {
	win := max(int(window/tr.Step), 1)
	means := windowMeans(tr.Values, win-1, 0)
	return &trailing{win: win, bands: newClassBands(tr.Values, means, max(int(lag/tr.Step), 1))}
}

func (o *trailing) Observe(_ time.Time, v float64) {
	if !math.IsNaN(v) {
		o.seen = append(o.seen, v)
	}
}

func (o *trailing) Warm() bool { return len(o.seen) >= o.win }

func (o *trailing) Method() string { return "trailing mean, clairvoyant band" }

func (o *trailing) Forecast(_ time.Time, q float64) (point, upper float64, ok bool) {
	if !o.Warm() {
		return 0, 0, false
	}
	var s float64
	for _, v := range o.seen[len(o.seen)-o.win:] {
		s += v
	}
	m := s / float64(o.win)
	if m <= 0 {
		return m, m, false
	}
	return m, o.bands.upper(m, q), true
}
