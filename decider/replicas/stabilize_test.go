package replicas_test

import (
	"math"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

// TestForecastScaleDown replays the evening fall of a warmed workload, the
// count following each decision: with ForecastScaleDown the target follows
// the forecast down while the reactive component alone keeps the 300 s
// window; without it the whole target waits for the window.
func TestForecastScaleDown(t *testing.T) {
	tr := replicasim.Synth{Seed: 3, Days: 9, Step: time.Minute, Base: 1000, DailyAmp: 0.8, PeakHour: 12, Weekend: 1, Noise: 0.02}.Trace()
	day := 24 * 60
	run := func(fast bool) (podMinutes int32) {
		p := replicas.DefaultConfig(1, 200, 100)
		p.ScaleDownDeadBand, p.ScaleUpDeadBand = 0, 0
		p.ForecastScaleDown = fast
		s := mustState(t, p)
		for i := range 8 * day {
			s.Observe(tr.At(i), tr.Values[i])
		}
		cur := int32(40)
		start := 8*day + 16*60
		for i := start; i <= start+180; i++ {
			d, err := replicas.Decide(p, s, replicas.Inputs{Now: tr.At(i), CurrentReplicas: cur, Metrics: cpu(int(cur), 20), Downstream: math.NaN(), Options: hpa.DefaultOptions})
			if err != nil {
				t.Fatal(err)
			}
			if d.Proactive < 0 {
				t.Fatalf("forecast cold at %s", tr.At(i))
			}
			if d.Replicas < d.Proactive {
				t.Fatalf("fast=%v at %s: %d below proactive %d", fast, tr.At(i), d.Replicas, d.Proactive)
			}
			cur = d.Replicas
			podMinutes += cur
		}
		return podMinutes
	}
	slow, fast := run(false), run(true)
	if fast >= slow {
		t.Errorf("pod-minutes over the fall: fast scale-down %d, windowed %d; the forecast component should not wait for the window", fast, slow)
	}
}

// TestSizeAhead checks the proactive component sizes only for the interval
// asked: a shorter look-ahead never asks for more than the full horizon.
func TestSizeAhead(t *testing.T) {
	tr := replicasim.Synth{Seed: 3, Days: 9, Step: time.Minute, Base: 1000, DailyAmp: 0.8, PeakHour: 12, Weekend: 1, Noise: 0.02}.Trace()
	day := 24 * 60
	i := 8*day + 7*60 // rising toward noon
	prop := func(ahead time.Duration) int32 {
		p := replicas.DefaultConfig(1, 2000, 10)
		p.SizeAhead = ahead
		s := mustState(t, p)
		for j := range 8 * day {
			s.Observe(tr.At(j), tr.Values[j])
		}
		d, err := replicas.Decide(p, s, replicas.Inputs{Now: tr.At(i), CurrentReplicas: 10, Metrics: cpu(10, 70), Downstream: math.NaN(), Options: hpa.DefaultOptions})
		if err != nil {
			t.Fatal(err)
		}
		return d.Proactive
	}
	short, full := prop(time.Minute), prop(0)
	if short <= 0 || short >= full {
		t.Errorf("rising load: 1 min look-ahead sized %d, full horizon %d; want 0 < short < full", short, full)
	}
}
