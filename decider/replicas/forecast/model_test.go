package forecast_test

import (
	"math"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/decider/replicas/replay"
)

func feed(t *testing.T, m *forecast.Model, tr replay.Trace, upto int) {
	t.Helper()
	for i := range upto {
		m.Observe(tr.At(i), tr.Values[i])
	}
}

func newModel(t *testing.T) *forecast.Model {
	t.Helper()
	m, err := forecast.New(forecast.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// accuracy scores 12-minute-ahead forecasts over samples [from, to): the
// mean absolute percentage error of the point and the coverage of the
// p90 upper bound.
func accuracy(t *testing.T, m *forecast.Model, tr replay.Trace, from, to int) (mape, coverage float64) {
	t.Helper()
	lead := int(12 * time.Minute / tr.Step)
	n := 0
	for i := from; i < to; i++ {
		if i >= lead {
			pt, up, ok := m.Forecast(tr.At(i), 0.9)
			if !ok {
				t.Fatalf("cold at sample %d", i)
			}
			v := tr.Values[i]
			if v > 0 {
				mape += math.Abs(pt-v) / v
				if v <= up {
					coverage++
				}
				n++
			}
		}
		m.Observe(tr.At(i), tr.Values[i])
	}
	return mape / float64(n), coverage / float64(n)
}

func TestSeasonalAccuracyAndPeriod(t *testing.T) {
	cases := []struct {
		name       string
		synth      replay.Synth
		wantPeriod forecast.Period
		maxMAPE    float64
	}{
		{"weekday/weekend", replay.Synth{Seed: 11, Days: 28, Step: time.Minute, Base: 1000, DailyAmp: 0.7, PeakHour: 13, Weekend: 0.5, Noise: 0.04}, forecast.Weekly, 0.08},
		{"daily only", replay.Synth{Seed: 12, Days: 28, Step: time.Minute, Base: 1000, DailyAmp: 0.7, PeakHour: 20, Weekend: 1, Noise: 0.04}, forecast.Daily, 0.08},
		{"5-minute samples", replay.Synth{Seed: 13, Days: 28, Step: 5 * time.Minute, Base: 1000, DailyAmp: 0.6, PeakHour: 9, Weekend: 0.6, Noise: 0.04}, forecast.Weekly, 0.08},
		{"growing and noisy", replay.Synth{Seed: 14, Days: 28, Step: time.Minute, Base: 200, DailyAmp: 0.5, PeakHour: 18, Weekend: 1, TrendPerDay: 0.03, Noise: 0.1}, forecast.Daily, 0.2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.synth.Trace()
			m := newModel(t)
			split := len(tr.Values) * 3 / 4
			feed(t, m, tr, split)
			if got := m.Period(); got != tc.wantPeriod {
				t.Errorf("period = %s, want %s", got, tc.wantPeriod)
			}
			mape, cov := accuracy(t, m, tr, split, len(tr.Values))
			if mape > tc.maxMAPE {
				t.Errorf("MAPE %.3f > %.3f", mape, tc.maxMAPE)
			}
			t.Logf("MAPE %.3f, p90 coverage %.3f", mape, cov)
			// Over-coverage is capacity paid for: a band read off the top
			// edge of its histogram bin covered 0.947-0.963 here.
			if cov < 0.85 || cov > 0.945 {
				t.Errorf("p90 upper bound covers %.3f of samples, want 0.85-0.945", cov)
			}
			if b := m.StateBytes(); b > 32<<10 {
				t.Errorf("state is %d bytes, over 32 KiB", b)
			}
		})
	}
}

func TestColdStartAndNoPeriod(t *testing.T) {
	tr := replay.Synth{Seed: 5, Days: 3, Step: time.Minute, Base: 100, DailyAmp: 0.6, PeakHour: 12, Weekend: 1, Noise: 0.02}.Trace()
	m := newModel(t)
	feed(t, m, tr, 12*60)
	if m.Warm() {
		t.Error("warm after 12 hours")
	}
	if _, _, ok := m.Forecast(tr.At(12*60), 0.9); ok {
		t.Error("forecast while cold")
	}
	// White noise has no period: the model must stay cold (reactive only).
	flat := replay.Synth{Seed: 6, Days: 5, Step: time.Minute, Base: 100, DailyAmp: 0, Weekend: 1, Noise: 0.3}.Trace()
	m = newModel(t)
	feed(t, m, flat, len(flat.Values))
	if m.Warm() || m.Period() != forecast.None {
		t.Errorf("white noise: warm=%v period=%s, want cold with no period", m.Warm(), m.Period())
	}
}

func TestGapsAndOutliers(t *testing.T) {
	tr := replay.Synth{Seed: 7, Days: 10, Step: time.Minute, Base: 500, DailyAmp: 0.6, PeakHour: 15, Weekend: 1, Noise: 0.03}.Trace()
	day := 24 * 60
	// A 6-hour gap on day 4 (NaN and negative samples are both gaps) and
	// a 10× spike for 30 minutes at 15:00 on day 5.
	for i := 4*day + 360; i < 4*day+720; i++ {
		if i%2 == 0 {
			tr.Values[i] = math.NaN()
		} else {
			tr.Values[i] = -1
		}
	}
	spike := 5*day + 15*60
	for i := spike; i < spike+30; i++ {
		tr.Values[i] *= 10
	}
	m := newModel(t)
	feed(t, m, tr, 6*day)
	// Next day at the spike's time of day: the forecast must stay near the
	// seasonal value, not follow the spike.
	at := spike + day
	pt, _, ok := m.Forecast(tr.At(at), 0.9)
	if !ok {
		t.Fatal("cold after six days")
	}
	truth := tr.Values[at]
	if pt > 1.5*truth || pt < truth/1.5 {
		t.Errorf("forecast after a 10× spike = %.0f, truth %.0f", pt, truth)
	}
	if _, cov := accuracy(t, m, tr, 6*day, 10*day); cov < 0.8 {
		t.Errorf("coverage after gap and spike = %.2f", cov)
	}
	// Samples out of order are ignored, not a panic.
	m.Observe(tr.At(0), 1e9)
}

func TestConfigValidate(t *testing.T) {
	bad := []forecast.Config{
		{Bucket: 7 * time.Minute, ProfileAlpha: 0.3, LevelAlpha: 0.5, ErrorHalfLife: 1},
		{Bucket: 5 * time.Minute, ProfileAlpha: 0, LevelAlpha: 0.5, ErrorHalfLife: 1},
		{Bucket: 5 * time.Minute, ProfileAlpha: 0.3, LevelAlpha: 0.5, ErrorHalfLife: 0},
		{Bucket: 5 * time.Minute, Lead: -time.Minute, ProfileAlpha: 0.3, LevelAlpha: 0.5, ErrorHalfLife: 1},
	}
	for _, c := range bad {
		if _, err := forecast.New(c); err == nil {
			t.Errorf("New(%+v): want an error", c)
		}
	}
}
