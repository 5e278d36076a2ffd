package decision

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var workloadLabels = []string{"namespace", "kind", "name"}

var (
	syncsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trimtab_decision_syncs_total",
		Help: "Passes of the decision controller over every opted-in workload.",
	})
	syncDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_decision_sync_duration_seconds",
		Help:    "Time one pass over every opted-in workload took, signals, writes and scales included.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30},
	})
	queryDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_signal_query_duration_seconds",
		Help:    "Time one sync spent reading every workload's signals from Prometheus.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	})
	warmStartDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_warm_start_duration_seconds",
		Help:    "Time one sync spent reading first-seen workloads' history from Prometheus.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	})
	signalErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trimtab_signal_errors_total",
		Help: "Workload signal reads that failed, by kind (unavailable, empty, stale, bad-expression, many-series, not-finite, no-prometheus); each holds that workload's decision.",
	}, []string{"kind"})
	scaleActions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trimtab_scale_actions_total",
		Help: "Replica changes trimtab made through workloads' scale subresource, by direction.",
	}, []string{"direction"})
	desiredReplicas = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_decision_desired_replicas",
		Help: "trimtab's replica target per workload (applied in enforce mode, recorded in shadow mode).",
	}, workloadLabels)
	signalsFresh = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_decision_signals_fresh",
		Help: "1 when the workload's last signal read succeeded, 0 while its decision holds on missing data.",
	}, workloadLabels)
	shadowReplicaMinutes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_shadow_replica_minutes",
		Help: "Replica-minutes over the shadow window of trimtab's target and of the HPA on the same workload.",
	}, append(workloadLabels, "autoscaler"))
	shadowMinutesOverTarget = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_shadow_minutes_over_target",
		Help: "Minutes over the shadow window whose load exceeded what trimtab's, or the HPA's, replicas serve at the target.",
	}, append(workloadLabels, "autoscaler"))
	checkpointBytes = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "trimtab_checkpoint_bytes",
		Help:    "Size of the decider state checkpoints saved.",
		Buckets: prometheus.ExponentialBuckets(1024, 2, 8),
	})
)

func init() {
	metrics.Registry.MustRegister(syncsTotal, syncDuration, queryDuration, warmStartDuration, signalErrors,
		scaleActions, desiredReplicas, signalsFresh, shadowReplicaMinutes, shadowMinutesOverTarget, checkpointBytes)
}

// forgetMetrics drops a deleted workload's series.
func forgetMetrics(k workloadKey) {
	l := prometheus.Labels{"namespace": k.Namespace, "kind": k.Kind, "name": k.Name}
	desiredReplicas.Delete(l)
	signalsFresh.Delete(l)
	baseDrift.Delete(l) // drift.go
	shadowReplicaMinutes.DeletePartialMatch(l)
	shadowMinutesOverTarget.DeletePartialMatch(l)
}
