package main

import (
	"encoding/json"
	"io"

	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/simulate"
	"github.com/trimtab-dev/trimtab/simulate/pricesim"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
	"github.com/trimtab-dev/trimtab/simulate/requestsim"
)

// The JSON documents of `trimtab simulate ... --format json`: the header
// (schema and build), the inputs echoed (trace files and every setting the
// replay used, after defaults), then the replay's own report. Durations are
// in seconds. docs/{replicas,requests,prices}.md describe the fields;
// simulate.SchemaVersion says when the version changes.

type replicasDoc struct {
	simulate.Header
	Inputs replicasInputs `json:"inputs"`
	replicasim.Report
}

type replicasInputs struct {
	Traffic                   string  `json:"traffic"`
	TimeCol                   string  `json:"time_col"`
	ValueCol                  string  `json:"value_col"`
	PerPodCapacity            float64 `json:"per_pod_capacity"`
	TargetUtilization         float64 `json:"target_utilization"`
	ReactiveTargetUtilization float64 `json:"reactive_target_utilization"`
	StartupDelaySeconds       float64 `json:"startup_delay_seconds"`
	WarmupSeconds             float64 `json:"warmup_seconds"`
	PricePerPodHour           float64 `json:"price_per_pod_hour"`
	MetricsDelaySeconds       float64 `json:"metrics_delay_seconds"`
	SyncSeconds               float64 `json:"sync_seconds"`
	MinReplicas               int32   `json:"min_replicas"`
	MaxReplicas               int32   `json:"max_replicas"`
	HorizonSeconds            float64 `json:"horizon_seconds"`
	Quantile                  float64 `json:"quantile"`
	OverloadRisk              float64 `json:"overload_risk"`
	FlapWindowSeconds         float64 `json:"flap_window_seconds"`
}

// newReplicasDoc echoes cfg as the replay used it: Simulate applies the
// same replicasim.Defaults.
func newReplicasDoc(traffic, timeCol, valueCol string, tr replicasim.Trace, cfg replicasim.Config, rep replicasim.Report) replicasDoc {
	cfg = replicasim.Defaults(tr, cfg)
	reactive := cfg.ReactiveTarget
	if reactive == 0 {
		reactive = cfg.TargetUtilization
	}
	return replicasDoc{Header: simulate.NewHeader(), Report: rep, Inputs: replicasInputs{
		Traffic: traffic, TimeCol: orDefault(timeCol, "1"), ValueCol: orDefault(valueCol, "2"),
		PerPodCapacity: cfg.CapacityPerPod, TargetUtilization: cfg.TargetUtilization, ReactiveTargetUtilization: reactive,
		StartupDelaySeconds: cfg.StartupDelay.Seconds(), WarmupSeconds: cfg.Warmup.Seconds(), PricePerPodHour: cfg.PricePerPodHour,
		MetricsDelaySeconds: cfg.MetricsDelay.Seconds(), SyncSeconds: cfg.Sync.Seconds(),
		MinReplicas: cfg.MinReplicas, MaxReplicas: cfg.MaxReplicas, HorizonSeconds: cfg.Horizon.Seconds(),
		Quantile: cfg.Quantile, OverloadRisk: cfg.OverloadRisk, FlapWindowSeconds: cfg.FlapWindow.Seconds(),
	}}
}

type requestsDoc struct {
	simulate.Header
	Inputs requestsInputs `json:"inputs"`
	requestsim.Result
}

type requestsInputs struct {
	Usage         string  `json:"usage"`
	WarmupSeconds float64 `json:"warmup_seconds"`
	// Null: no leak injected; unbounded nodes.
	InjectLeakBytesPerHour     *float64 `json:"inject_leak_bytes_per_hour"`
	NodeAllocatableCPUCores    *float64 `json:"node_allocatable_cpu_cores"`
	NodeAllocatableMemoryBytes *float64 `json:"node_allocatable_memory_bytes"`
}

func newRequestsDoc(usage string, opt requestsim.Options, res requestsim.Result) requestsDoc {
	return requestsDoc{Header: simulate.NewHeader(), Result: res, Inputs: requestsInputs{
		Usage:                      usage,
		WarmupSeconds:              res.ScoredFrom.Sub(res.Start).Seconds(), // after the default
		InjectLeakBytesPerHour:     nonZero(opt.LeakRate),
		NodeAllocatableCPUCores:    nonZero(opt.Policy.NodeAllocatable.CPU),
		NodeAllocatableMemoryBytes: nonZero(opt.Policy.NodeAllocatable.Memory),
	}}
}

type pricesDoc struct {
	simulate.Header
	Inputs pricesInputs `json:"inputs"`
	*pricesim.Result
}

type pricesInputs struct {
	Prices              []string             `json:"prices"`
	Product             string               `json:"product"`
	OnDemandOverrides   prices.OnDemandTable `json:"on_demand_overrides"`
	Pods                int                  `json:"pods"`
	JobLengthSeconds    float64              `json:"job_length_seconds"`
	LostWorkSeconds     float64              `json:"lost_work_seconds"`
	MoveLossSeconds     float64              `json:"move_loss_seconds"`
	TickSeconds         float64              `json:"tick_seconds"`
	ReactiveCalmSeconds float64              `json:"reactive_calm_seconds"`
	SpikeMergeSeconds   float64              `json:"spike_merge_seconds"`
	LeadTargetSeconds   float64              `json:"lead_target_seconds"`
	Forecast            forecastInputs       `json:"forecast"`
}

type forecastInputs struct {
	HorizonSeconds          float64 `json:"horizon_seconds"`
	ThresholdMultiple       float64 `json:"threshold_multiple"`
	BaselineHalfLifeSeconds float64 `json:"baseline_half_life_seconds"`
	POut                    float64 `json:"p_out"`
	PBack                   float64 `json:"p_back"`
	MinOffSeconds           float64 `json:"min_off_seconds"`
	CalmForSeconds          float64 `json:"calm_for_seconds"`
	NearFraction            float64 `json:"near_fraction"`
	NearForSeconds          float64 `json:"near_for_seconds"`
	BackBelow               float64 `json:"back_below"`
	MaxStaleSeconds         float64 `json:"max_stale_seconds"`
	PriorWeight             float64 `json:"prior_weight"`
	Correlated              bool    `json:"correlated"`
}

func newPricesDoc(files []string, product string, overrides prices.OnDemandTable, cfg pricesim.Config, res *pricesim.Result) pricesDoc {
	cfg = cfg.WithDefaults()
	f := cfg.Forecast
	return pricesDoc{Header: simulate.NewHeader(), Result: res, Inputs: pricesInputs{
		Prices: files, Product: prices.NormalizeProduct(product), OnDemandOverrides: overrides, Pods: cfg.Pods,
		JobLengthSeconds: cfg.JobLength.Seconds(), LostWorkSeconds: cfg.LostWork.Seconds(), MoveLossSeconds: cfg.MoveLoss.Seconds(),
		TickSeconds: cfg.Tick.Seconds(), ReactiveCalmSeconds: cfg.ReactiveCalm.Seconds(), SpikeMergeSeconds: cfg.SpikeMerge.Seconds(),
		LeadTargetSeconds: cfg.LeadTarget.Seconds(),
		Forecast: forecastInputs{
			HorizonSeconds: f.Horizon.Seconds(), ThresholdMultiple: f.ThresholdMultiple, BaselineHalfLifeSeconds: f.BaselineHalfLife.Seconds(),
			POut: f.POut, PBack: f.PBack, MinOffSeconds: f.MinOff.Seconds(), CalmForSeconds: f.CalmFor.Seconds(),
			NearFraction: f.NearFraction, NearForSeconds: f.NearFor.Seconds(), BackBelow: f.BackBelow,
			MaxStaleSeconds: f.MaxStale.Seconds(), PriorWeight: f.PriorWeight, Correlated: f.Correlated,
		},
	}}
}

func writeJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// nonZero is v, or nil (null) for an unset 0.
func nonZero(v float64) *float64 {
	if v == 0 {
		return nil
	}
	return &v
}
