package requests

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	syncsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trimtab_requests_syncs_total",
		Help: "Passes of the requests controller over every workload with trimtab.dev/requests: auto.",
	})
	syncDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_requests_sync_duration_seconds",
		Help:    "Time one pass of the requests controller took, usage reads and writes included.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30},
	})
	readDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_requests_usage_read_duration_seconds",
		Help:    "Time one batched container usage read (the steps since the last read) took.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	})
	warmStartDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_requests_warm_start_duration_seconds",
		Help:    "Time one batched read of first-seen workloads' container usage history took.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	})
	usageErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trimtab_requests_usage_errors_total",
		Help: "Workload usage reads that failed, by kind (unavailable, bad-expression, other); each holds that workload's recommendations.",
	}, []string{"kind"})
	skippedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trimtab_requests_usage_skipped_total",
		Help: "Usage points and series left out, by reason (NaN, negative, above node capacity, no container label, duplicate, unknown resource, rejected).",
	}, []string{"reason"})
	oomKillsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trimtab_requests_oom_kills_total",
		Help: "OOM kills counted into the request models (each once).",
	})
	checkpointBytes = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_requests_checkpoint_bytes",
		Help:    "Size of the request models saved in one workload's checkpoint.",
		Buckets: prometheus.ExponentialBuckets(256, 2, 10),
	})
)

// resizesTotal counts in-place resizes (resize.go) by outcome.
var resizesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "trimtab_requests_resizes_total",
	Help: "In-place resizes of running pods (pods/resize), by outcome: InProgress when asked, then Done, Infeasible, Deferred, Failed or Recreated.",
}, []string{"outcome"})

func init() {
	metrics.Registry.MustRegister(resizesTotal)
	metrics.Registry.MustRegister(syncsTotal, syncDuration, readDuration, warmStartDuration, usageErrors,
		skippedTotal, oomKillsTotal, checkpointBytes)
}
