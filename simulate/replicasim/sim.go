package replicasim

import (
	"fmt"
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
)

// Config is one replay's shared conditions: every strategy sees the same
// capacity, target, start-up delay, metrics pipeline and evaluation window.
type Config struct {
	CapacityPerPod    float64 // load units per sample one pod serves at 100%
	TargetUtilization float64
	StartupDelay      time.Duration
	Warmup            time.Duration // prefix that feeds history only
	PricePerPodHour   float64
	Sync              time.Duration // controller period (15s)
	MetricsDelay      time.Duration // age of the metric the reactive path sees
	MinReplicas       int32
	MaxReplicas       int32
	Horizon           time.Duration
	Quantile          float64
	// OverloadRisk is trimtab's Policy.OverloadRisk (0: the default 1%;
	// negative: off).
	OverloadRisk float64
	FlapWindow   time.Duration // a reversal within this is a flap
	// ReactiveTarget is the target of trimtab's own reactive path (0: the
	// shared TargetUtilization); the baselines always use TargetUtilization.
	ReactiveTarget float64
	Policy         *replicas.Config
	// Forecaster replaces trimtab's forecaster (nil: the policy's model);
	// the evaluation uses it to replay a clairvoyant bound.
	Forecaster replicas.Forecaster
	// TimeSplit also scores the first and the second half of the
	// evaluation window (Report.Halves), from the same replay: the
	// evaluation's time split, tune on the first half, report on the
	// second.
	TimeSplit bool
	// hpaMemo, when set, memoizes the matched search's HPA scores across
	// replays of the same trace with the same timing and capacity
	// (hpaScores).
	hpaMemo *hpaScores
	// Progress, when set, hears how far each run of the replay has got,
	// every progressEvery syncs: what runs (trimtab, or the HPA at a
	// target), and done and total syncs.
	Progress func(what string, done, total int)
}

// progressEvery is how many syncs pass between Progress calls: often
// enough for a line every few seconds, rarely enough to cost nothing.
const progressEvery = 4096

func (cfg Config) progress(what string, k, n int) {
	if cfg.Progress != nil && k%progressEvery == 0 {
		cfg.Progress(what, k, n)
	}
}

// Strategy names.
const (
	Trimtab    = "trimtab"
	HPA        = "hpa"
	HPAMatched = "hpa-matched"
	Static     = "static"
)

// run is one strategy's replay over a trace.
type run struct {
	desired  []int32 // per sync step
	ready    []int32
	fc, fcHi []float64 // per sync, trimtab only
	reasons  []string
	period   string // trimtab's detected period at the end
	method   string // the forecaster's arm at the end
	// fixed: the count never changes, so a lead before a peak measures
	// only how long ago the window began; its leads are null.
	fixed bool
}

func (cfg Config) syncs(tr Trace) int {
	return int(time.Duration(len(tr.Values)) * tr.Step / cfg.Sync)
}

// runHPA replays the HPA: upstream's default behavior rules, 15 s sync,
// utilization target pct, the metric seen MetricsDelay late.
func runHPA(tr Trace, cfg Config, pct int32) (run, error) {
	n := cfg.syncs(tr)
	r := run{desired: make([]int32, n), ready: make([]int32, n)}
	var st hpa.State
	ps := &podSet{}
	cur := max(cfg.MinReplicas, 1)
	ps.resize(cur, tr.Start.Add(-cfg.StartupDelay), cfg.StartupDelay)
	spec := hpa.Spec{MinReplicas: max(cfg.MinReplicas, 1), MaxReplicas: cfg.MaxReplicas, Behavior: defaultBehavior()}
	var buf []hpa.Pod
	opts := hpa.DefaultOptions
	what := HPA
	if pct != int32(math.Round(cfg.TargetUtilization*100)) {
		what = fmt.Sprintf("%s search, the HPA at a %d%% target", HPAMatched, pct)
	}
	for k := range n {
		cfg.progress(what, k, n)
		now := tr.Start.Add(time.Duration(k) * cfg.Sync)
		load := metricAt(tr, now, cfg.MetricsDelay)
		if !math.IsNaN(load) {
			buf = cpuPods(buf, ps, now, cfg, load)
			res, err := hpa.ResourceReplicas(buf, cur, pct, hpa.DefaultTolerances, opts, now)
			props := []hpa.Proposal{{Metric: "cpu", Replicas: res.Replicas, Err: err}}
			out, err := st.Reconcile(spec, cur, props, now)
			if err == nil {
				cur = out.Replicas
			}
		}
		ps.resize(cur, now, cfg.StartupDelay)
		r.desired[k], r.ready[k] = cur, ps.ready(now, cfg.StartupDelay)
	}
	return r, nil
}

// runTrimtab replays trimtab's decider with the same metrics plus the load
// signal for its forecaster (each sample observed once complete).
func runTrimtab(tr Trace, cfg Config, keepReasons bool) (run, error) {
	n := cfg.syncs(tr)
	r := run{desired: make([]int32, n), ready: make([]int32, n), fc: make([]float64, n), fcHi: make([]float64, n)}
	p := *cfg.Policy
	st, err := replicas.NewState(p)
	if err != nil {
		return run{}, err
	}
	if cfg.Forecaster != nil {
		st.Forecast = cfg.Forecaster
	}
	ps := &podSet{}
	cur := max(cfg.MinReplicas, 1)
	ps.resize(cur, tr.Start.Add(-cfg.StartupDelay), cfg.StartupDelay)
	rt := cfg.TargetUtilization
	if cfg.ReactiveTarget > 0 {
		rt = cfg.ReactiveTarget
	}
	pct := int32(math.Round(rt * 100))
	var buf []hpa.Pod
	seen := 0
	if keepReasons {
		r.reasons = make([]string, n)
	}
	for k := range n {
		cfg.progress(Trimtab, k, n)
		now := tr.Start.Add(time.Duration(k) * cfg.Sync)
		// Samples become visible once complete and past the metrics delay.
		for seen < len(tr.Values) && !tr.At(seen+1).Add(cfg.MetricsDelay).After(now) {
			st.Observe(tr.At(seen), tr.Values[seen])
			seen++
		}
		load := metricAt(tr, now, cfg.MetricsDelay)
		in := replicas.Inputs{Now: now, CurrentReplicas: cur, ReadyReplicas: ps.ready(now, cfg.StartupDelay), Downstream: math.NaN(), Options: hpa.DefaultOptions}
		if !math.IsNaN(load) {
			buf = cpuPods(buf, ps, now, cfg, load)
			in.Metrics = []replicas.Metric{{Name: "cpu", Kind: replicas.Utilization, Pods: buf, TargetUtilization: pct}}
		}
		d, err := replicas.Decide(p, st, in)
		if err != nil {
			return run{}, fmt.Errorf("deciding at %s: %w", now.Format(time.RFC3339), err)
		}
		cur = d.Replicas
		ps.resize(cur, now, cfg.StartupDelay)
		r.desired[k], r.ready[k] = cur, ps.ready(now, cfg.StartupDelay)
		r.fc[k], r.fcHi[k] = d.Forecast, d.ForecastHi
		if d.ForecastAt.IsZero() {
			r.fc[k], r.fcHi[k] = math.NaN(), math.NaN()
		}
		if keepReasons {
			r.reasons[k] = d.Reason
		}
	}
	if m, ok := st.Forecast.(*forecast.Model); ok {
		r.period = m.Period().String()
	}
	if m := st.Forecast; m != nil {
		r.method = m.Method()
	}
	return r, nil
}

// runStatic holds the count that serves the trace's peak at the target.
func runStatic(tr Trace, cfg Config, evalFrom int) run {
	peak := 0.0
	for _, v := range tr.Values[evalFrom:] {
		if !math.IsNaN(v) {
			peak = max(peak, v)
		}
	}
	c := min(max(int32(math.Ceil(peak/(cfg.CapacityPerPod*cfg.TargetUtilization))), cfg.MinReplicas, 1), cfg.MaxReplicas)
	n := cfg.syncs(tr)
	r := run{desired: make([]int32, n), ready: make([]int32, n), fixed: true}
	for k := range n {
		r.desired[k], r.ready[k] = c, c
	}
	return r
}

// defaultBehavior is upstream's defaulted behavior (an HPA with
// `behavior: {}`), used by the HPA baselines and by trimtab's final
// normalization, so all share the same rate limits and 300 s window.
func defaultBehavior() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{}
}
