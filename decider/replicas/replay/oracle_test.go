package replay

import (
	"math"
	"sort"
	"time"
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

func (o *oracle) class(m float64) int {
	switch r := m / o.avg; {
	case r < 0.6:
		return 0
	case r < 1:
		return 1
	case r < 1.4:
		return 2
	}
	return 3
}

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
