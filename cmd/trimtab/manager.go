package main

import (
	goflag "flag"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/decision"
	"github.com/trimtab-dev/trimtab/controllers/requests"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/internal/version"
	"github.com/trimtab-dev/trimtab/placer"
)

func newManagerCmd() *cobra.Command {
	var (
		kubeconfig string
		spotTaint  string
		zapOpts    zap.Options
		qps        float32
		burst      int
		// placerDryRun sets o.PlacerSettings.DryRun.
		placerDryRun bool
		// replay sets o.Clock for a replayed price trace (replay.go).
		replay replayFlags
	)
	o := manager.Options{Settings: config.DefaultSettings()}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the trimtab manager: the admission webhooks and the decision controller",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			if err := validResizeFlags(o); err != nil {
				return err
			}
			taint, err := config.ParseTaint(spotTaint)
			if err != nil {
				return fmt.Errorf("--spot-taint: %w", err)
			}
			o.Settings.SpotTaint = taint
			if placerDryRun {
				ps := config.DefaultPlacerSettings()
				ps.DryRun = true
				o.PlacerSettings = &ps
			}
			if o.Clock, err = replay.clock(time.Now()); err != nil {
				return err
			}
			cfg, err := restConfig(kubeconfig)
			if err != nil {
				return err
			}
			if qps <= 0 || burst < 1 {
				return fmt.Errorf("--kube-api-qps %v and --kube-api-burst %d: both must be positive", qps, burst)
			}
			cfg.QPS, cfg.Burst = qps, burst
			mgr, err := manager.New(cfg, o)
			if err != nil {
				return err
			}
			ctrl.Log.WithName("setup").Info("starting manager", "version", version.String(),
				"webhook", fmt.Sprintf("%s:%d", o.WebhookHost, o.WebhookPort), "settings", o.Settings)
			return mgr.Start(cmd.Context())
		},
	}
	s := &o.Settings
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "path to a kubeconfig; empty uses $KUBECONFIG or the in-cluster config")
	f.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8443", "address the Prometheus metrics endpoint binds to; 0 disables it")
	// Metrics authn/authz (issue 17): on by default.
	f.BoolVar(&o.MetricsSecure, "metrics-secure", true, "serve metrics over HTTPS to clients whose bearer token may get /metrics (TokenReview + SubjectAccessReview); false serves plain HTTP to anyone")
	f.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "address the /healthz and /readyz endpoints bind to")
	f.StringVar(&o.WebhookHost, "webhook-host", "", "address the webhook server binds to; empty is all addresses")
	f.IntVar(&o.WebhookPort, "webhook-port", 9443, "port of the webhook server")
	f.StringVar(&o.CertDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory holding the webhook server's tls.crt and tls.key")
	f.BoolVar(&o.LeaderElect, "leader-elect", false, "elect a leader so only one replica runs the controllers; webhooks serve on every replica")
	f.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader-election Lease; empty uses the pod's namespace")
	f.StringVar(&s.CapacityTypeLabel, "capacity-type-label", s.CapacityTypeLabel, "node label whose value is a node's capacity type")
	f.StringVar(&s.SpotValue, "spot-value", s.SpotValue, "value of --capacity-type-label on spot nodes")
	f.StringVar(&s.OnDemandValue, "on-demand-value", s.OnDemandValue, "value of --capacity-type-label on on-demand nodes")
	f.StringVar(&spotTaint, "spot-taint", config.FormatTaint(s.SpotTaint), `taint on spot nodes, key=value:effect, that pods placed on spot tolerate; "" if spot nodes are untainted`)
	f.StringSliceVar(&s.ExcludedNamespaces, "excluded-namespaces", s.ExcludedNamespaces, "namespaces trimtab never validates or mutates")
	f.BoolVar(&o.Decisions, "decisions", true, "run the decision controller (leader only): a Decision per opted-in Deployment and StatefulSet, replicas scaled in enforce mode")
	f.DurationVar(&o.DecisionPeriod, "decision-period", decision.DefaultPeriod, "how often the decision controller decides every workload")
	// The requests controller (learned container requests).
	f.BoolVar(&o.Requests, "requests", true, "run the requests controller (leader only): per-container recommendations on the Decision of every workload with trimtab.dev/requests: auto, learned from container usage read from --prometheus-address")
	f.DurationVar(&o.RequestsPeriod, "requests-period", requests.DefaultPeriod, "how often the requests controller reads container usage and updates recommendations")
	// In-place resize limits of the requests controller.
	f.DurationVar(&o.RequestsResizeEvery, "requests-resize-every", requests.DefaultResizeEvery, "in-place resize: how long a workload waits between resizes of its pods (an urgent memory raise for an OOM does not wait)")
	f.IntVar(&o.RequestsResizesPerMinute, "requests-resizes-per-minute", requests.DefaultResizesPerMinute, "in-place resize: the most pods resized in a minute over the whole cluster")
	f.StringVar(&o.Prometheus.Address, "prometheus-address", "", "Prometheus' base URL the decision controller reads signals from, e.g. http://prometheus.monitoring:9090; empty: Decisions hold with SignalsFresh=False")
	f.StringVar(&o.Prometheus.BearerTokenFile, "prometheus-bearer-token-file", "", "file with a bearer token for Prometheus, re-read when it changes")
	f.StringVar(&o.Prometheus.CAFile, "prometheus-ca-file", "", "PEM CA bundle that verifies an https Prometheus address")
	f.DurationVar(&o.Prometheus.Timeout, "prometheus-timeout", 0, "timeout of one Prometheus request (0: 30s)")
	// The client's rate limit toward the apiserver. client-go's default (5/s)
	// and controller-runtime's (20/s) are below what a sync of thousands of
	// workloads writes; cert-manager runs at 50/100, Karpenter at 200/300.
	f.Float32Var(&qps, "kube-api-qps", 50, "queries per second the manager sends the Kubernetes API at most")
	f.IntVar(&burst, "kube-api-burst", 100, "burst above --kube-api-qps the manager may send the Kubernetes API")
	// The placer (issue 16): off by default.
	f.BoolVar(&o.Placer, "placer", false, "run the placement controller (leader only): batch pods move off nodes with an interruption taint or condition, through the Eviction API within PDBs and eviction budgets")
	f.BoolVar(&placerDryRun, "placer-dry-run", false, "with --placer: record each move on the Decisions, evict nothing")
	// The placer's spot prices (issue 16).
	f.StringVar(&o.EC2Region, "ec2-region", "", "with --placer: AWS region whose spot prices the placer reads (DescribeSpotPriceHistory); empty uses AWS_REGION or the profile, and with no region the placer runs without prices (interruption moves only)")
	f.StringVar(&o.EC2Endpoint, "ec2-endpoint", "", "with --placer: EC2 endpoint URL; empty uses the region's (set it for a VPC endpoint, or test/ec2fixture)")
	f.DurationVar(&o.PricePeriod, "price-period", 5*time.Minute, "with --placer: how often spot prices are refreshed")
	// Spot placement scores (issue 16): a capacity signal beside prices.
	def := placer.DefaultScoreRule()
	f.BoolVar(&o.PlacementScores, "placement-scores", true, "with --placer and prices: read EC2 spot placement scores (ec2:GetSpotPlacementScores, ec2:DescribeAvailabilityZones); a batch workload whose every spot market scores low sends new pods to on-demand (running pods stay). Without the permission the placer runs on prices alone")
	f.DurationVar(&o.ScorePeriod, "score-period", 15*time.Minute, "with --placement-scores: how often placement scores are read")
	f.IntVar(&o.ScoreRule.Risky, "score-risky", def.Risky, "with --placement-scores: a score (1-10) at or below this makes a market capacity-risky")
	f.IntVar(&o.ScoreRule.Recover, "score-recover", def.Recover, "with --placement-scores: a risky market is released after scores at or above this for --score-recover-for")
	f.DurationVar(&o.ScoreRule.RecoverFor, "score-recover-for", def.RecoverFor, "with --placement-scores: how long scores must stay at or above --score-recover")
	f.DurationVar(&o.ScoreRule.MaxAge, "score-max-age", def.MaxAge, "with --placement-scores: a reading older than this holds (no change on stale scores)")
	f.StringSliceVar(&o.ScoreInstanceTypes, "score-instance-types", nil, "with --placement-scores: instance types asked about beside the spot nodes' own (EC2 needs at least 3 for a meaningful score): the node provisioner's other spot types")
	f.Int32Var(&o.ScoreTarget, "score-target", 0, "with --placement-scores: target capacity in instances asked for (0: the spot nodes' count rounded up to a power of two)")
	// Replays of recorded prices (issue 16): the manager's clock sped up
	// like test/ec2fixture's, and the placer's period in that clock's time.
	f.Float64Var(&replay.speed, "clock-speed", 1, "replays only: run the manager's clock this many times faster than the wall clock from --clock-origin, to match test/ec2fixture's --clock-speed; 1 is production")
	f.StringVar(&replay.origin, "clock-origin", "", "replays only: RFC 3339 wall time at which the sped-up clock reads the wall clock (give test/ec2fixture the same); empty: the manager's start")
	f.DurationVar(&o.PlacerPeriod, "placer-period", 0, "with --placer: how often the placer plans (0: 15s)")
	zfs := goflag.NewFlagSet("zap", goflag.ContinueOnError)
	zapOpts.BindFlags(zfs)
	f.AddGoFlagSet(zfs)
	return cmd
}

// restConfig loads the kubeconfig at path, or the default chain when path is empty.
func restConfig(path string) (*rest.Config, error) {
	if path == "" {
		cfg, err := ctrl.GetConfig()
		if err != nil {
			return nil, fmt.Errorf("loading kubeconfig (set --kubeconfig or $KUBECONFIG): %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// validResizeFlags checks the in-place resize limits.
func validResizeFlags(o manager.Options) error {
	if o.RequestsResizeEvery <= 0 {
		return fmt.Errorf("--requests-resize-every %s: must be a positive duration, e.g. 5m", o.RequestsResizeEvery)
	}
	if o.RequestsResizesPerMinute < 1 {
		return fmt.Errorf("--requests-resizes-per-minute %d: must be at least 1 (use trimtab.dev/resize: off on a workload to stop resizing it)", o.RequestsResizesPerMinute)
	}
	return nil
}
