package replicasim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Synth describes a synthetic traffic trace: a daily shape (a main peak and
// a smaller second one), weekday/weekend levels, a slow trend, multiplicative
// noise and occasional surges. It is for tests and for evaluating on traces
// nobody tuned against.
type Synth struct {
	Seed        uint64
	Days        int
	Step        time.Duration
	Base        float64 // mean load per step on a weekday
	DailyAmp    float64 // 0..1, depth of the daily swing
	PeakHour    float64 // local hour of the main peak
	Weekend     float64 // weekend level relative to weekdays (1: none)
	TrendPerDay float64 // relative growth per day
	Noise       float64 // sd of the multiplicative noise (log space)
	Surges      int     // number of surges (×3..×10 for 5..30 min)
	// Gaps is the number of missing stretches (10 min..3 h each, at least
	// a sample), left as NaN as ParseTrace leaves a file's gaps.
	Gaps  int
	Start time.Time
}

// Trace generates the series.
func (s Synth) Trace() Trace {
	r := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	n := int(time.Duration(s.Days) * 24 * time.Hour / s.Step)
	start := s.Start
	if start.IsZero() {
		start = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	}
	tr := Trace{Start: start, Step: s.Step, Values: make([]float64, n)}
	ar := 0.0
	for i := range n {
		t := start.Add(time.Duration(i) * s.Step)
		h := float64(t.Hour()) + float64(t.Minute())/60
		shape := 1 + s.DailyAmp*(0.75*math.Cos(2*math.Pi*(h-s.PeakHour)/24)+0.25*math.Cos(4*math.Pi*(h-s.PeakHour+3)/24))
		lvl := 1.0
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			lvl = s.Weekend
		}
		trend := math.Pow(1+s.TrendPerDay, float64(i)*s.Step.Hours()/24)
		ar = 0.7*ar + s.Noise*r.NormFloat64() // autocorrelated noise
		tr.Values[i] = math.Max(0, s.Base*shape*lvl*trend*math.Exp(ar))
	}
	for range s.Surges {
		at := r.IntN(n)
		dur := int(time.Duration(5+r.IntN(26)) * time.Minute / s.Step)
		f := 3 + 7*r.Float64()
		for j := at; j < min(at+dur, n); j++ {
			tr.Values[j] *= f
		}
	}
	// Drawn after everything else, so a trace without gaps is the one it
	// always was.
	for range s.Gaps {
		at := r.IntN(n)
		dur := max(1, int(time.Duration(10+r.IntN(171))*time.Minute/s.Step))
		for j := at; j < min(at+dur, n); j++ {
			if !math.IsNaN(tr.Values[j]) {
				tr.Values[j] = math.NaN()
				tr.Gaps++
			}
		}
	}
	return tr
}
