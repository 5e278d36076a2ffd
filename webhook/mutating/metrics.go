package mutating

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcomes of a pod admission, the values of the outcome label.
const (
	outcomePlaced        = "placed"         // enforce mode: the pod was changed
	outcomeShadow        = "shadow"         // shadow mode: decision recorded only
	outcomeUserPinned    = "user-pinned"    // the pod pins capacity itself
	outcomeNoWorkload    = "no-workload"    // no supported workload controls the pod
	outcomeInvalidPolicy = "invalid-policy" // the workload's policy does not parse
	outcomeExcluded      = "excluded"       // an excluded namespace, or not a pod create
	outcomeError         = "error"          // admitted unchanged after an internal error
)

var (
	admissionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trimtab_pod_admissions_total",
		Help: "Pod admissions by the mutating webhook, by outcome and placement.",
	}, []string{"outcome", "placement"})
	admissionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "trimtab_pod_admission_duration_seconds",
		Help: "Time the mutating webhook spent deciding one pod, by outcome.",
		// Up to 30 s, the longest webhook timeout the apiserver allows
		// (webhook.timeoutSeconds), so a decision slow enough to be cut off
		// lands in a bucket of its own rather than in +Inf.
		Buckets: admissionBuckets,
	}, []string{"outcome"})
	pendingPlacements = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "trimtab_pending_placements",
		Help: "Placements handed out whose pods the informer cache has not shown yet.",
	})
)

// admissionBuckets are the decision-time buckets, in seconds: fine below a
// millisecond, where a decision from the caches lands, then up to 30 s with
// an edge between half of and each webhook timeout the apiserver allows
// (1-30 s; TestAdmissionBucketsReachTheTimeout).
var admissionBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30}

func init() {
	metrics.Registry.MustRegister(admissionsTotal, admissionDuration, pendingPlacements)
}
