package forecast_test

import (
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

// BenchmarkObserve is the cost of learning one sample.
func BenchmarkObserve(b *testing.B) {
	tr := replicasim.Synth{Seed: 1, Days: 14, Step: time.Minute, Base: 1000, DailyAmp: 0.6, PeakHour: 12, Weekend: 0.7, Noise: 0.05}.Trace()
	m, _ := forecast.New(forecast.DefaultConfig())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Observe(tr.At(i%len(tr.Values)+(i/len(tr.Values))*len(tr.Values)), tr.Values[i%len(tr.Values)])
		i++
	}
}

// BenchmarkForecast is one point + upper-bound query on a warm model.
func BenchmarkForecast(b *testing.B) {
	tr := replicasim.Synth{Seed: 1, Days: 8, Step: time.Minute, Base: 1000, DailyAmp: 0.6, PeakHour: 12, Weekend: 0.7, Noise: 0.05}.Trace()
	m, _ := forecast.New(forecast.DefaultConfig())
	for i, v := range tr.Values {
		m.Observe(tr.At(i), v)
	}
	at := tr.At(len(tr.Values))
	b.ReportAllocs()
	for b.Loop() {
		m.Forecast(at, 0.9)
	}
	b.ReportMetric(float64(m.StateBytes()), "state-B")
}
