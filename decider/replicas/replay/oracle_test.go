package replay

import (
	"math"
	"sort"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
)

// oracle is a clairvoyant forecaster for the evaluation: its point forecast
// is the actual load's centred mean over a window around t, and its upper
// bound that mean times the q-quantile of load ÷ mean over the whole trace,
// per load class (the same four classes as trimtab's bands). No forecaster
// of the level can do better with the same sizing rule, so its replay bounds
// what a better model could buy.
type oracle struct {
	tr     Trace
	mean   []float64
	avg    float64
	ratios [4][]float64 // sorted
}

func newOracle(tr Trace, window time.Duration) *oracle {
	o := &oracle{tr: tr, mean: make([]float64, len(tr.Values))}
	half := max(int(window/tr.Step)/2, 1)
	var sum float64
	var n int
	for i := range tr.Values {
		var s float64
		var k int
		for j := max(i-half, 0); j <= min(i+half, len(tr.Values)-1); j++ {
			if v := tr.Values[j]; !math.IsNaN(v) {
				s, k = s+v, k+1
			}
		}
		o.mean[i] = math.NaN()
		if k > 0 {
			o.mean[i] = s / float64(k)
			sum, n = sum+o.mean[i], n+1
		}
	}
	o.avg = sum / float64(max(n, 1))
	for i, v := range tr.Values {
		if m := o.mean[i]; !math.IsNaN(v) && m > 0 {
			c := o.class(m)
			o.ratios[c] = append(o.ratios[c], v/m)
		}
	}
	for c := range o.ratios {
		sort.Float64s(o.ratios[c])
	}
	return o
}

func (o *oracle) class(m float64) int { return forecast.Class(m, o.avg) }

func (o *oracle) Observe(time.Time, float64) {}

func (o *oracle) Warm() bool { return true }

func (o *oracle) Forecast(t time.Time, q float64) (point, upper float64, ok bool) {
	i := int(t.Sub(o.tr.Start) / o.tr.Step)
	if t.Before(o.tr.Start) || i >= len(o.mean) || math.IsNaN(o.mean[i]) {
		return 0, 0, false
	}
	rs := o.ratios[o.class(o.mean[i])]
	if len(rs) == 0 {
		return o.mean[i], o.mean[i], true
	}
	return o.mean[i], o.mean[i] * rs[min(int(q*float64(len(rs))), len(rs)-1)], true
}

// trailing is a causal forecaster for the evaluation: the mean of the last
// window of observed samples, whatever t is asked, with the band the same
// mean would have needed over the whole trace at lag (clairvoyant only in
// its band). It measures how much of the oracle's advantage a level taken
// from the recent past keeps.
type trailing struct {
	tr     Trace
	win    int
	seen   []float64 // observed values, in order
	avg    float64
	ratios [4][]float64
}

func newTrailing(tr Trace, window, lag time.Duration) *trailing {
	o := &trailing{tr: tr, win: max(int(window/tr.Step), 1)}
	l := max(int(lag/tr.Step), 1)
	means := make([]float64, len(tr.Values))
	var sum float64
	var n int
	for i := range tr.Values {
		means[i] = math.NaN()
		var s float64
		var k int
		for j := max(i-o.win+1, 0); j <= i; j++ {
			if v := tr.Values[j]; !math.IsNaN(v) {
				s, k = s+v, k+1
			}
		}
		if k > 0 {
			means[i] = s / float64(k)
			sum, n = sum+means[i], n+1
		}
	}
	o.avg = sum / float64(max(n, 1))
	for i := l; i < len(tr.Values); i++ {
		if m, v := means[i-l], tr.Values[i]; !math.IsNaN(v) && m > 0 {
			c := o.class(m)
			o.ratios[c] = append(o.ratios[c], v/m)
		}
	}
	for c := range o.ratios {
		sort.Float64s(o.ratios[c])
	}
	return o
}

func (o *trailing) class(m float64) int { return forecast.Class(m, o.avg) }

func (o *trailing) Observe(_ time.Time, v float64) {
	if !math.IsNaN(v) {
		o.seen = append(o.seen, v)
	}
}

func (o *trailing) Warm() bool { return len(o.seen) >= o.win }

func (o *trailing) Forecast(_ time.Time, q float64) (point, upper float64, ok bool) {
	if !o.Warm() {
		return 0, 0, false
	}
	var s float64
	for _, v := range o.seen[len(o.seen)-o.win:] {
		s += v
	}
	m := s / float64(o.win)
	rs := o.ratios[o.class(m)]
	if m <= 0 || len(rs) == 0 {
		return m, m, m > 0
	}
	return m, m * rs[min(int(q*float64(len(rs))), len(rs)-1)], true
}

// trailingOnline is trailing with its band learned as it goes (causal):
// per class, a histogram of load ÷ the trailing mean lag earlier.
type trailingOnline struct {
	win, lag int
	seen     []float64
	sum      float64 // of the trailing means scored, for the classes
	n        int
	hist     [4][400]float64 // log ratio from -2 in steps of 0.01
	w        [4]float64
}

func (o *trailingOnline) class(m float64) int {
	return forecast.Class(m, o.sum/float64(max(o.n, 1)))
}

func (o *trailingOnline) meanEnding(end int) float64 {
	var s float64
	for _, v := range o.seen[end-o.win : end] {
		s += v
	}
	return s / float64(o.win)
}

func (o *trailingOnline) Observe(_ time.Time, v float64) {
	if math.IsNaN(v) {
		return
	}
	o.seen = append(o.seen, v)
	end := len(o.seen) - o.lag
	if end-o.win < 0 {
		return
	}
	m := o.meanEnding(end)
	if m <= 0 {
		return
	}
	c := o.class(m)
	o.sum, o.n = o.sum+m, o.n+1
	i := int((math.Log(math.Max(v, 1e-9)/m) + 2) / 0.01)
	o.hist[c][min(max(i, 0), 399)]++
	o.w[c]++
}

func (o *trailingOnline) Warm() bool { return o.n > 1440 }

func (o *trailingOnline) Forecast(_ time.Time, q float64) (point, upper float64, ok bool) {
	if !o.Warm() {
		return 0, 0, false
	}
	m := o.meanEnding(len(o.seen))
	if m <= 0 {
		return 0, 0, false
	}
	c := o.class(m)
	h, w := o.hist[c], o.w[c]
	if w < 200 {
		h, w = [400]float64{}, 0
		for k := range o.hist {
			for j, x := range o.hist[k] {
				h[j] += x
			}
			w += o.w[k]
		}
	}
	var cum float64
	for j, x := range h {
		if x > 0 && cum+x >= q*w {
			return m, m * math.Exp(-2+(float64(j)+(q*w-cum)/x)*0.01), true
		}
		cum += x
	}
	return m, m * math.Exp(2), true
}
