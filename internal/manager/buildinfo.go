package manager

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/trimtab-dev/trimtab/internal/version"
)

// buildInfo is trimtab_build_info, always 1, whose labels say which build
// serves the metrics: the convention of Prometheus' own *_build_info, so a
// dashboard or an alert can join on version (e.g. "which replicas still
// run the old release during a rollout").
var buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "trimtab_build_info",
	Help: "Always 1; the labels name the running build's version, commit and Go version.",
}, []string{"version", "commit", "goversion"})

func init() {
	v, c := version.Get()
	buildInfo.WithLabelValues(v, c, runtime.Version()).Set(1)
	ctrlmetrics.Registry.MustRegister(buildInfo)
}
