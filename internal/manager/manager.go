// Package manager assembles trimtab's controller-runtime manager: the
// webhook server with the mutating and validating webhooks (on every
// replica), the decision controller (on the elected leader), health and
// readiness endpoints, Prometheus metrics and leader election. `trimtab
// manager` and the end-to-end tests build the manager through New, so the
// tests run exactly what ships.
package manager

import (
	"cmp"
	"fmt"
	"time"

	"github.com/trimtab-dev/trimtab/internal/eventnote"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/decision"
	"github.com/trimtab-dev/trimtab/controllers/placement"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices/ec2"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
	"github.com/trimtab-dev/trimtab/webhook/validating"
)

// Options configure the manager. The zero value of each address disables
// nothing: set them explicitly (the command's flags have the defaults).
type Options struct {
	Settings config.Settings

	// MetricsAddr serves Prometheus metrics ("0" disables them).
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz.
	ProbeAddr string
	// WebhookHost and WebhookPort are where the webhook server listens;
	// CertDir holds its tls.crt and tls.key (reloaded when they change).
	WebhookHost string
	WebhookPort int
	CertDir     string

	// LeaderElect elects one replica to run controllers; webhooks serve on
	// every replica regardless.
	LeaderElect             bool
	LeaderElectionNamespace string

	// Decisions runs the decision controller: every opted-in Deployment
	// and StatefulSet gets a Decision, decided from its signals every
	// DecisionPeriod (0: 15 s) and applied in enforce mode.
	Decisions      bool
	DecisionPeriod time.Duration
	// Prometheus is where the controller reads signals; an empty Address
	// leaves every Decision holding with SignalsFresh=False.
	Prometheus prometheus.Config
	// Clock drives the controller; nil is the real clock.
	Clock clock.WithTicker
	// DecisionNamespaces narrows the controller to namespaces whose labels
	// match (nil: every opted-in namespace), and CheckpointEvery overrides
	// its checkpoint period (0: 5 min); for tests that run several managers
	// on one cluster.
	DecisionNamespaces labels.Selector
	CheckpointEvery    time.Duration
	// LeaderElectionID overrides the Lease name (default LeaderElectionID).
	LeaderElectionID string

	// Requests runs the requests controller: every workload with
	// trimtab.dev/requests: auto gets per-container recommendations on its
	// Decision, learned from container usage every RequestsPeriod (0: 1
	// min), which the pod webhook stamps on new pods in enforce mode.
	Requests       bool
	RequestsPeriod time.Duration
	// RequestsStep, RequestsLag and RequestsMinHistory override the usage
	// resolution (0: 5 min), how far behind the clock it is read (0: 30 s)
	// and how much usage a model needs before lowering (0: a day); for
	// tests on a cluster minutes old.
	RequestsStep, RequestsLag, RequestsMinHistory time.Duration
	// RequestsResizeEvery and RequestsResizesPerMinute limit in-place
	// resizes: one pod per workload every RequestsResizeEvery (0: 5 min),
	// at most RequestsResizesPerMinute over the cluster (0: 10).
	RequestsResizeEvery      time.Duration
	RequestsResizesPerMinute int
	// Placer runs the placement controller (leader only, default off):
	// batch pods move off nodes with an interruption signal, within PDBs
	// and the eviction budgets (docs/placer.md). PlacerSettings nil is
	// config.DefaultPlacerSettings; PlacerPeriod 0 is 15 s.
	Placer         bool
	PlacerSettings *config.PlacerSettings
	PlacerPeriod   time.Duration
	// The placer's price side (issue 16), with Placer: EC2 spot prices of
	// the spot nodes' markets every PricePeriod (0: 5 min) from EC2Region
	// (empty: the SDK's chain, AWS_REGION or the profile) at EC2Endpoint
	// (empty: the region's), credentials from the SDK's standard chain
	// (IRSA, Pod Identity, env). EC2 overrides the client (tests). No
	// region and no EC2: no prices, interruption moves only. The spot
	// forecaster's state is saved in the ConfigMap trimtab-spot-forecaster
	// in PlacerNamespace (empty: $POD_NAMESPACE, else trimtab-system).
	EC2Region, EC2Endpoint string
	PricePeriod            time.Duration
	EC2                    ec2.EC2API
	PlacerNamespace        string
	// Spot placement scores (issue 16), with a price side and
	// PlacementScores: read every ScorePeriod (0: 15 min) as a capacity
	// signal (controllers/placement.Scores). ScoreRule zero is
	// placer.DefaultScoreRule; ScoreInstanceTypes are asked about beside the
	// spot nodes' types; ScoreTarget 0 asks for the spot nodes' count
	// rounded up to a power of two.
	PlacementScores    bool
	ScorePeriod        time.Duration
	ScoreRule          placer.ScoreRule
	ScoreInstanceTypes []string
	ScoreTarget        int32
	// outlooks carries the placer's outlooks to the decision controller.
	outlooks *placement.Outlooks

	// MetricsSecure serves the metrics over HTTPS to authenticated and
	// authorized clients only (metricsOptions); false serves plain HTTP to
	// anyone, for tests and `make run`. The command defaults it to true.
	MetricsSecure bool
}

// LeaderElectionID names the Lease replicas compete for.
const LeaderElectionID = "trimtab-manager.trimtab.dev"

// New creates the manager with every component registered. Start it with
// mgr.Start(ctx).
func New(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if err := o.Settings.Validate(); err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOptions(o),
		HealthProbeBindAddress:  o.ProbeAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        cmp.Or(o.LeaderElectionID, LeaderElectionID),
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// Release the Lease on shutdown so a rollout hands over at once.
		LeaderElectionReleaseOnCancel: true,
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:    o.WebhookHost,
			Port:    o.WebhookPort,
			CertDir: o.CertDir,
		}),
		Cache: cacheOptions(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if o.Placer {
		// Shared by the placement and decision controllers (issue 16).
		o.outlooks = &placement.Outlooks{}
	}
	if err := mutating.Setup(mgr, o.Settings, append(requestsWebhook(mgr, o), placerWebhook(mgr, o)...)...); err != nil {
		return nil, fmt.Errorf("setting up the pod webhook: %w", err)
	}
	if err := validating.Register(mgr, o.Settings); err != nil {
		return nil, err
	}
	if o.Decisions {
		if err := addDecisions(mgr, o); err != nil {
			return nil, err
		}
	}
	if o.Requests {
		if err := addRequests(mgr, o); err != nil {
			return nil, err
		}
	}
	if o.Placer {
		if err := addPlacer(mgr, o); err != nil {
			return nil, err
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding health check: %w", err)
	}
	// Ready once the webhook server serves TLS: the apiserver may call it.
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return nil, fmt.Errorf("adding readiness check: %w", err)
	}
	// ...and once the informers the webhooks (and the controller) read have
	// synced, so no admission is answered from an empty cache.
	kinds := webhookKinds()
	if o.Decisions {
		kinds = append(kinds, decisionKinds()...)
	}
	if err := addCachesSynced(mgr, kinds); err != nil {
		return nil, err
	}
	return mgr, nil
}

// addDecisions adds the decision controller, reading signals from
// o.Prometheus when it has an address.
func addDecisions(mgr ctrl.Manager, o Options) error {
	c := &decision.Controller{
		Client:   mgr.GetClient(),
		Uncached: mgr.GetAPIReader(),
		Recorder: eventnote.Recorder(mgr.GetEventRecorder("trimtab-decision")),
		Settings: o.Settings,
		Period:   o.DecisionPeriod,
		Clock:    o.Clock,

		Namespaces:      o.DecisionNamespaces,
		CheckpointEvery: o.CheckpointEvery,
	}
	if o.outlooks != nil {
		// Batch workloads' capacity follows the placer's outlook (issue 16).
		c.Outlooks = o.outlooks
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if o.Prometheus.Address != "" {
		sig, err := prometheus.New(o.Prometheus)
		if err != nil {
			return fmt.Errorf("--prometheus-address: %w", err)
		}
		c.Signals = sig
	}
	if err := mgr.Add(c); err != nil {
		return fmt.Errorf("adding the decision controller: %w", err)
	}
	return nil
}
