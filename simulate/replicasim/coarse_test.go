package replicasim

import (
	"math"
	"testing"
	"time"
)

// TestReactiveWaitsForCompleteSamples: on a 30-minute trace the load
// steps from 100 to 1000 at sample 60 (06:00 on the second day). The
// metrics pipeline reports a sample only once its interval has ended, so
// no reactive path may scale for the new level before 06:30; reading the
// sample in progress (the old replay) scaled the HPA at 06:01, with the
// mean of 29 minutes still to come.
func TestReactiveWaitsForCompleteSamples(t *testing.T) {
	tr := Trace{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Step: 30 * time.Minute, Values: make([]float64, 96)}
	for i := range tr.Values {
		tr.Values[i] = 100
		if i >= 60 {
			tr.Values[i] = 1000
		}
	}
	cfg := Defaults(tr, Config{StartupDelay: 90 * time.Second, MetricsDelay: time.Minute, CapacityPerPod: 100 / 7.0})
	hp, err := runHPA(tr, cfg, 70)
	if err != nil {
		t.Fatal(err)
	}
	step := tr.At(60)
	for k, d := range hp.desired {
		now := tr.Start.Add(time.Duration(k) * cfg.Sync)
		if now.Before(step) {
			continue
		}
		if d > 10 {
			if now.Before(step.Add(tr.Step)) {
				t.Fatalf("the HPA scaled to %d at %s, before the sample that began at %s was complete", d, now.Format("15:04:05"), step.Format("15:04"))
			}
			if now.After(step.Add(tr.Step + cfg.MetricsDelay + cfg.Sync)) {
				t.Fatalf("the HPA first scaled at %s: later than the sample's end plus the metrics delay", now.Format("15:04:05"))
			}
			return
		}
	}
	t.Fatal("the HPA never scaled for the new level")
}

// TestMetricAt pins the rule for the sample a reactive path reads: the
// one covering now−delay, unless it is still in progress at now.
func TestMetricAt(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		step       time.Duration
		now, delay time.Duration
		want       float64 // sample index; -1 for none
	}{
		{"1-minute trace, 60 s delay: the minute just ended", time.Minute, 90 * time.Second, time.Minute, 0},
		{"1-minute trace, 60 s delay, on the boundary", time.Minute, 2 * time.Minute, time.Minute, 1},
		{"30-minute trace: the one before the sample in progress", 30 * time.Minute, 61 * time.Minute, time.Minute, 1},
		{"30-minute trace: nothing complete yet", 30 * time.Minute, 10 * time.Minute, time.Minute, -1},
		{"before the trace", time.Minute, 30 * time.Second, time.Minute, -1},
		{"a long delay reads the older sample", 5 * time.Minute, 21 * time.Minute, 10 * time.Minute, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := Trace{Start: start, Step: c.step, Values: []float64{0, 1, 2, 3, 4, 5}}
			got := metricAt(tr, start.Add(c.now), c.delay)
			if c.want < 0 {
				if !math.IsNaN(got) {
					t.Fatalf("got sample %v, want none", got)
				}
				return
			}
			if got != c.want {
				t.Fatalf("got sample %v, want %v", got, c.want)
			}
		})
	}
}

// TestSynthGaps: gaps are NaN samples counted in Trace.Gaps, and adding
// them leaves every other sample as it was, so the traces without gaps
// (the dev traces) are the ones they always were.
func TestSynthGaps(t *testing.T) {
	s := Synth{Seed: 7, Days: 3, Step: 5 * time.Minute, Base: 100, DailyAmp: 0.5, Weekend: 1, Noise: 0.1, Surges: 2}
	plain := s.Trace()
	s.Gaps = 4
	gappy := s.Trace()
	nan := 0
	for i, v := range gappy.Values {
		switch {
		case math.IsNaN(v):
			nan++
		case v != plain.Values[i]:
			t.Fatalf("sample %d is %v with gaps, %v without", i, v, plain.Values[i])
		}
	}
	if nan == 0 || nan != gappy.Gaps || plain.Gaps != 0 {
		t.Fatalf("%d NaN samples, Gaps %d (without gaps: %d)", nan, gappy.Gaps, plain.Gaps)
	}
}
