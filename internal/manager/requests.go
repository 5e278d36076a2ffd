package manager

import (
	"fmt"

	"github.com/trimtab-dev/trimtab/internal/eventnote"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/trimtab-dev/trimtab/controllers/requests"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// addRequests adds the requests controller, reading container usage from
// o.Prometheus when it has an address. It creates Decisions itself only
// when the decision controller, which otherwise creates them, is off.
func addRequests(mgr ctrl.Manager, o Options) error {
	c := &requests.Controller{
		Client:          mgr.GetClient(),
		Uncached:        mgr.GetAPIReader(),
		Recorder:        eventnote.Recorder(mgr.GetEventRecorder("trimtab-requests")),
		Settings:        o.Settings,
		Period:          o.RequestsPeriod,
		Clock:           o.Clock,
		Namespaces:      o.DecisionNamespaces,
		CheckpointEvery: o.CheckpointEvery,
		CreateDecisions: !o.Decisions,
		Step:            o.RequestsStep,
		Lag:             o.RequestsLag,
		MinHistory:      o.RequestsMinHistory,
		// In-place resize limits.
		ResizeEvery:      o.RequestsResizeEvery,
		ResizesPerMinute: o.RequestsResizesPerMinute,
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if o.Prometheus.Address != "" {
		p, err := prometheus.New(o.Prometheus)
		if err != nil {
			return fmt.Errorf("--prometheus-address: %w", err)
		}
		c.Usage = p
	}
	if err := mgr.Add(c); err != nil {
		return fmt.Errorf("adding the requests controller: %w", err)
	}
	return nil
}

// requestsWebhook turns on the pod webhook's requests step when the
// requests controller runs: it reads the Decisions the controller writes
// and the namespaces' LimitRanges from the cache (RBAC granted with
// requests.enabled in the chart).
func requestsWebhook(mgr ctrl.Manager, o Options) []mutating.SetupOption {
	if !o.Requests {
		return nil
	}
	return []mutating.SetupOption{mutating.WithRequests(mutating.CachedRequests{Reader: mgr.GetClient()})}
}
