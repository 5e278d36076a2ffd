package replicas_test

import (
	"math"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

// warmState returns a state that has learned a week of minute samples.
func warmState(b *testing.B, p replicas.Config) (*replicas.State, replicasim.Trace) {
	b.Helper()
	tr := replicasim.Synth{Seed: 1, Days: 8, Step: time.Minute, Base: 1000, DailyAmp: 0.6, PeakHour: 12, Weekend: 0.7, Noise: 0.05}.Trace()
	s, err := replicas.NewState(p)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 7 * 1440 {
		s.Observe(tr.At(i), tr.Values[i])
	}
	if !s.Forecast.Warm() {
		b.Fatal("model not warm after a week")
	}
	return s, tr
}

func benchInputs(now time.Time, cur int32) replicas.Inputs {
	ps := make([]hpa.Pod, cur)
	for i := range ps {
		ps[i] = hpa.Pod{Phase: hpa.Running, HasReady: true, Ready: true, Started: true, StartTime: now.Add(-time.Hour), ReadySince: now.Add(-time.Hour),
			Request: 1000, HasMetric: true, Value: 650, Timestamp: now, Window: 30 * time.Second}
	}
	return replicas.Inputs{Now: now, CurrentReplicas: cur, Metrics: []replicas.Metric{{Name: "cpu", Kind: replicas.Utilization, Pods: ps, TargetUtilization: 70}},
		Downstream: math.NaN(), Options: hpa.DefaultOptions}
}

// BenchmarkDecideWeekHistory is one full decision (forecast over the
// horizon, reactive HPA calculation over 20 pods, floor, normalization)
// for a workload with a week of history.
func BenchmarkDecideWeekHistory(b *testing.B) {
	p := replicas.DefaultConfig(1, 500, 100)
	s, tr := warmState(b, p)
	in := benchInputs(tr.At(7*1440), 20)
	b.ReportAllocs()
	for b.Loop() {
		in.Now = in.Now.Add(15 * time.Second) // a sync period, so the history stays at steady-state size
		if _, err := replicas.Decide(p, s, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHPAOnly is the baseline: the reactive calculation and HPA
// normalization alone on the same inputs, to state trimtab's cost as a ratio.
func BenchmarkHPAOnly(b *testing.B) {
	in := benchInputs(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), 20)
	var st hpa.State
	spec := hpa.Spec{MinReplicas: 1, MaxReplicas: 500}
	b.ReportAllocs()
	for b.Loop() {
		in.Now = in.Now.Add(15 * time.Second)
		r, err := hpa.ResourceReplicas(in.Metrics[0].Pods, in.CurrentReplicas, 70, hpa.DefaultTolerances, in.Options, in.Now)
		if _, err := st.Reconcile(spec, in.CurrentReplicas, []hpa.Proposal{{Metric: "cpu", Replicas: r.Replicas, Err: err}}, in.Now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCycle10k is one controller cycle over 10,000 workloads, each with
// a week of history: observe the newest sample, then decide.
func BenchmarkCycle10k(b *testing.B) {
	const n = 10000
	p := replicas.DefaultConfig(1, 500, 100)
	s0, tr := warmState(b, p)
	states := make([]*replicas.State, n)
	for i := range states {
		states[i] = &replicas.State{Forecast: s0.Forecast.(*forecast.Model).Clone()}
	}
	in := benchInputs(tr.At(7*1440), 20)
	k := 7 * 1440
	b.ReportAllocs()
	for b.Loop() {
		now := tr.At(k)
		in.Now = now
		for _, s := range states {
			s.Observe(now, tr.Values[k])
			if _, err := replicas.Decide(p, s, in); err != nil {
				b.Fatal(err)
			}
		}
		k++
	}
}

// BenchmarkStateBytes reports the memory of one workload's state: B/op is
// the forecaster copy (all of its heap), and hpa-B the steady-state HPA
// history after 10 minutes of 15 s decisions.
func BenchmarkStateBytes(b *testing.B) {
	p := replicas.DefaultConfig(1, 500, 100)
	s0, tr := warmState(b, p)
	in := benchInputs(tr.At(7*1440), 20)
	for j := range 40 {
		in.Now = tr.At(7 * 1440).Add(time.Duration(j) * 15 * time.Second)
		if _, err := replicas.Decide(p, s0, in); err != nil {
			b.Fatal(err)
		}
	}
	hpaBytes := float64(cap(s0.HPA.Recommendations)*int(unsafe.Sizeof(hpa.Recommendation{})) +
		(cap(s0.HPA.Up)+cap(s0.HPA.Down))*int(unsafe.Sizeof(hpa.ScaleEvent{})))
	b.ReportAllocs()
	var keep *replicas.State
	for b.Loop() {
		keep = &replicas.State{Forecast: s0.Forecast.(*forecast.Model).Clone()}
	}
	runtime.KeepAlive(keep)
	b.ReportMetric(hpaBytes, "hpa-B")
	b.ReportMetric(float64(s0.Forecast.(*forecast.Model).StateBytes()), "forecast-B")
}
