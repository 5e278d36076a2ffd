package replicasim

import (
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/internal/stats"
)

// Report is a replay's result; JSON field names are stable.
type Report struct {
	StepSeconds         float64          `json:"step_seconds"`
	Samples             int              `json:"samples"`
	Gaps                int              `json:"gaps"`
	EvalFrom            time.Time        `json:"eval_from"`
	EvalTo              time.Time        `json:"eval_to"`
	PerPodCapacity      float64          `json:"per_pod_capacity"`
	StartupDelaySeconds float64          `json:"startup_delay_seconds"`
	MetricsDelaySeconds float64          `json:"metrics_delay_seconds"`
	SyncSeconds         float64          `json:"sync_seconds"`
	PricePerPodHour     float64          `json:"price_per_pod_hour"`
	ForecastPeriod      string           `json:"forecast_period"`
	ForecastMethod      string           `json:"forecast_method"`
	Strategies          map[string]Score `json:"strategies"`
	Comparison          Comparison       `json:"comparison"`
	// Halves compares on the first and second half of the evaluation
	// window, with Config.TimeSplit (each half with its own hpa-matched
	// search); not in the JSON document.
	Halves []Comparison `json:"-"`
}

// Comparison holds the ratios the targets are stated in.
type Comparison struct {
	// ReplicaHoursSavedVsHPAMatched is 1 − trimtab/hpa-matched (positive:
	// saved); null when the search found no target overloading as little
	// as trimtab (HPAMatchedReason).
	ReplicaHoursSavedVsHPAMatched Float `json:"replica_hours_saved_vs_hpa_matched"`
	// ReplicaHoursVsHPA is trimtab/hpa − 1 (positive: extra).
	ReplicaHoursExtraVsHPA    Float `json:"replica_hours_extra_vs_hpa"`
	OverloadReductionVsHPA    Float `json:"overload_reduction_vs_hpa"`
	ScaleEventsRatioVsHPA     Float `json:"scale_events_ratio_vs_hpa"`
	HPAMatchedSearchSatisfied bool  `json:"hpa_matched_search_satisfied"`
	// HPAMatchedReason says why the search failed, empty when it did not:
	// no whole-percent target overloads as little as trimtab, so the
	// saving is null rather than measured against a baseline that
	// overloads more. Always present, so every document has the same keys.
	HPAMatchedReason string `json:"hpa_matched_reason"`
}

// Steps is every sync step of a replay, for --steps and --plot.
type Steps struct {
	Times    []time.Time
	Load     []float64 // per sample interval, at each step
	Forecast []float64
	Upper    []float64
	Desired  map[string][]int32
	Ready    map[string][]int32
	Reasons  []string
}

// Defaults fills unset fields of cfg from the trace.
func Defaults(tr Trace, cfg Config) Config {
	if cfg.TargetUtilization == 0 {
		cfg.TargetUtilization = 0.7
	}
	if cfg.CapacityPerPod == 0 {
		// Sized so the trace's median load needs about ten pods at the target.
		s := make([]float64, 0, len(tr.Values))
		for _, v := range tr.Values {
			if !math.IsNaN(v) {
				s = append(s, v)
			}
		}
		m, _ := stats.MedianInPlace(s) // ParseTrace keeps at least two rows
		cfg.CapacityPerPod = math.Max(m, 1) / (10 * cfg.TargetUtilization)
	}
	if cfg.Warmup == 0 {
		span := time.Duration(len(tr.Values)) * tr.Step
		cfg.Warmup = min(7*24*time.Hour, span/3)
	}
	if cfg.Sync == 0 {
		cfg.Sync = 15 * time.Second
	}
	if cfg.MaxReplicas == 0 {
		cfg.MaxReplicas = 10000
	}
	if cfg.MinReplicas == 0 {
		cfg.MinReplicas = 1
	}
	if cfg.Horizon == 0 {
		cfg.Horizon = 10 * time.Minute
	}
	if cfg.Quantile == 0 {
		cfg.Quantile = 0.9
	}
	if cfg.FlapWindow == 0 {
		cfg.FlapWindow = 10 * time.Minute
	}
	return cfg
}

// Validate names the first setting that cannot work.
func (cfg Config) Validate(tr Trace) error {
	span := time.Duration(len(tr.Values)) * tr.Step
	switch {
	case !(cfg.CapacityPerPod > 0):
		return fmt.Errorf("per-pod capacity %g: must be > 0", cfg.CapacityPerPod)
	case !(cfg.TargetUtilization > 0 && cfg.TargetUtilization <= 1):
		return fmt.Errorf("target utilization %g: must be in (0, 1]", cfg.TargetUtilization)
	case cfg.StartupDelay < 0 || cfg.MetricsDelay < 0:
		return fmt.Errorf("start-up delay %s / metrics delay %s: must be ≥ 0", cfg.StartupDelay, cfg.MetricsDelay)
	case cfg.Warmup < 0 || cfg.Warmup >= span-24*time.Hour:
		return fmt.Errorf("warm-up %s: must be ≥ 0 and leave at least a day of the %s trace to evaluate", cfg.Warmup, span)
	case cfg.Sync < time.Second:
		return fmt.Errorf("sync period %s: must be ≥ 1s", cfg.Sync)
	case cfg.PricePerPodHour < 0:
		return fmt.Errorf("price per pod-hour %g: must be ≥ 0", cfg.PricePerPodHour)
	case !(cfg.OverloadRisk < 0.5):
		return fmt.Errorf("overload risk %g: must be below 0.5 (0: the default 1%%; negative: off)", cfg.OverloadRisk)
	}
	return nil
}

// TrimtabConfig is the replica decider's configuration for this replay: a
// workload policy with the replay's bounds and the trace as its load,
// converted by config.Policy.Inputs as the live controller converts a
// workload's annotations, then the replay's conditions (per-pod capacity at
// 100%, target, timing, quantile, overload risk). cfg must have its
// defaults (Defaults).
func (cfg Config) TrimtabConfig() (replicas.Config, error) {
	pol := config.DefaultPolicy()
	pol.MinReplicas, pol.MaxReplicas = cfg.MinReplicas, cfg.MaxReplicas
	pol.Metric, pol.TargetPerPod = "trace", cfg.CapacityPerPod*cfg.TargetUtilization
	in, err := pol.Inputs()
	if err != nil {
		return replicas.Config{}, fmt.Errorf("replay policy: %w", err)
	}
	p := in.Replicas
	// The trace's unit is the load one pod serves at 100%, exactly.
	p.CapacityPerPod, p.TargetUtilization, p.Quantile = cfg.CapacityPerPod, cfg.TargetUtilization, cfg.Quantile
	p.SetTiming(replicas.Timing{MetricsDelay: cfg.MetricsDelay, Sync: cfg.Sync, StartupDelay: cfg.StartupDelay, Horizon: cfg.Horizon})
	switch {
	case cfg.OverloadRisk > 0:
		p.OverloadRisk = cfg.OverloadRisk
	case cfg.OverloadRisk < 0:
		p.OverloadRisk = 0
	}
	return p, nil
}

// Simulate replays tr through trimtab and the baselines.
func Simulate(tr Trace, cfg Config) (Report, Steps, error) {
	cfg = Defaults(tr, cfg)
	if err := cfg.Validate(tr); err != nil {
		return Report{}, Steps{}, err
	}
	if cfg.Policy == nil {
		p, err := cfg.TrimtabConfig()
		if err != nil {
			return Report{}, Steps{}, err
		}
		cfg.Policy = &p
	}
	if err := cfg.Policy.Validate(); err != nil {
		return Report{}, Steps{}, fmt.Errorf("trimtab policy: %w", err)
	}
	n := cfg.syncs(tr)
	from := int(cfg.Warmup / cfg.Sync)
	pct := int32(math.Round(cfg.TargetUtilization * 100))

	tt, err := runTrimtab(tr, cfg, true)
	if err != nil {
		return Report{}, Steps{}, err
	}
	hp, err := runHPA(tr, cfg, pct)
	if err != nil {
		return Report{}, Steps{}, err
	}
	st := runStatic(tr, cfg, int(cfg.Warmup/tr.Step))
	scores := map[string]Score{
		Trimtab: score(tr, cfg, tt, from, n, cfg.TargetUtilization),
		HPA:     score(tr, cfg, hp, from, n, cfg.TargetUtilization),
		Static:  score(tr, cfg, st, from, n, cfg.TargetUtilization),
	}
	// hpa-matched: the highest HPA target whose overload is no more than
	// trimtab's, searched over the whole grid (matched.go).
	ws := []matchWindow{{from: from, to: n, want: scores[Trimtab].OverloadMinutes, base: scores[HPA]}}
	var halves [][2]Score // trimtab, hpa per half
	if cfg.TimeSplit {
		mid := from + (n-from)/2
		for _, h := range [][2]int{{from, mid}, {mid, n}} {
			t, b := score(tr, cfg, tt, h[0], h[1], cfg.TargetUtilization), score(tr, cfg, hp, h[0], h[1], cfg.TargetUtilization)
			halves = append(halves, [2]Score{t, b})
			ws = append(ws, matchWindow{from: h[0], to: h[1], want: t.OverloadMinutes, base: b})
		}
	}
	ms, err := matchHPAWindows(tr, cfg, pct, hp, ws)
	if err != nil {
		return Report{}, Steps{}, err
	}
	m := ms[0]
	matched, mScore := m.run, m.score
	scores[HPAMatched] = mScore

	rep := Report{StepSeconds: tr.Step.Seconds(), Samples: len(tr.Values), Gaps: tr.Gaps,
		EvalFrom: tr.Start.Add(cfg.Warmup), EvalTo: tr.At(len(tr.Values)),
		PerPodCapacity: cfg.CapacityPerPod, StartupDelaySeconds: cfg.StartupDelay.Seconds(),
		MetricsDelaySeconds: cfg.MetricsDelay.Seconds(), SyncSeconds: cfg.Sync.Seconds(),
		PricePerPodHour: cfg.PricePerPodHour, ForecastPeriod: tt.period, ForecastMethod: tt.method, Strategies: scores}
	rep.Comparison = compare(scores[Trimtab], scores[HPA], m)
	for i, h := range halves {
		rep.Halves = append(rep.Halves, compare(h[0], h[1], ms[i+1]))
	}
	steps := Steps{Times: make([]time.Time, n), Load: make([]float64, n), Forecast: tt.fc, Upper: tt.fcHi,
		Desired: map[string][]int32{Trimtab: tt.desired, HPA: hp.desired, HPAMatched: matched.desired, Static: st.desired},
		Ready:   map[string][]int32{Trimtab: tt.ready, HPA: hp.ready, HPAMatched: matched.ready, Static: st.ready},
		Reasons: tt.reasons}
	for k := range n {
		steps.Times[k] = tr.Start.Add(time.Duration(k) * cfg.Sync)
		steps.Load[k] = loadAt(tr, steps.Times[k])
	}
	return rep, steps, nil
}

// compare states trimtab against the baselines. The saving against
// hpa-matched is null when the search failed: the baseline found overloads
// more than trimtab, so its replica-hours are not a like-for-like cost.
func compare(t, h Score, m matchOutcome) Comparison {
	saved := ratio(m.score.ReplicaHours-t.ReplicaHours, m.score.ReplicaHours)
	if !m.ok {
		saved = Float(math.NaN())
	}
	return Comparison{
		ReplicaHoursSavedVsHPAMatched: saved,
		ReplicaHoursExtraVsHPA:        ratio(t.ReplicaHours-h.ReplicaHours, h.ReplicaHours),
		OverloadReductionVsHPA:        ratio(h.OverloadMinutes-t.OverloadMinutes, h.OverloadMinutes),
		ScaleEventsRatioVsHPA:         ratio(float64(t.ScaleEvents), float64(h.ScaleEvents)),
		HPAMatchedSearchSatisfied:     m.ok,
		HPAMatchedReason:              m.reason,
	}
}

func ratio(a, b float64) Float {
	if b == 0 {
		return Float(math.NaN())
	}
	return Float(a / b)
}
