package manager

import (
	"cmp"
	"context"
	"fmt"
	"os"

	"github.com/trimtab-dev/trimtab/internal/eventnote"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/placement"
	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices/ec2"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// ForecasterConfigMap names the ConfigMap holding the spot forecaster's
// checkpoint, in the placer's namespace.
const ForecasterConfigMap = "trimtab-spot-forecaster"

// addPlacer adds the placement controller. It reads the apiserver
// directly, not the manager's cache: the cache holds only the pods the
// webhook placed, and the plan simulates every pod on every node.
func addPlacer(mgr ctrl.Manager, o Options) error {
	ps := config.DefaultPlacerSettings()
	if o.PlacerSettings != nil {
		ps = *o.PlacerSettings
	}
	if err := ps.Validate(); err != nil {
		return err
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return fmt.Errorf("creating the placer's client: %w", err)
	}
	c := &placement.Controller{
		Client:   direct,
		Recorder: eventnote.Recorder(mgr.GetEventRecorder("trimtab-placer")),
		Settings: o.Settings,
		Placer:   ps,
		Period:   o.PlacerPeriod,
		Clock:    o.Clock,
		Outlooks: o.outlooks,
		// The same namespaces as the decision controller's.
		Namespaces: o.DecisionNamespaces,
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Prices, err = placerPrices(o); err != nil {
		return err
	}
	if c.Prices == nil {
		ctrl.Log.WithName("setup").Info("placer without spot prices (no EC2 region: set --ec2-region or AWS_REGION): moves off interrupted nodes only")
	}
	if err := mgr.Add(c); err != nil {
		return fmt.Errorf("adding the placement controller: %w", err)
	}
	return nil
}

// placerPrices is the placer's price side; nil when no region is known.
func placerPrices(o Options) (*placement.Prices, error) {
	if o.PricePeriod < 0 {
		return nil, fmt.Errorf("--price-period %v: want a positive duration, or 0 for 5m", o.PricePeriod)
	}
	api, region := o.EC2, o.EC2Region
	if c, ok := api.(*awsec2.Client); ok {
		region = c.Options().Region
	}
	if api == nil {
		// The SDK's standard chain: region from AWS_REGION or the profile,
		// credentials from env, IRSA's web identity, Pod Identity, IMDS.
		var opts []func(*awsconfig.LoadOptions) error
		if o.EC2Region != "" {
			opts = append(opts, awsconfig.WithRegion(o.EC2Region))
		}
		cfg, err := awsconfig.LoadDefaultConfig(context.Background(), opts...)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration for the spot prices: %w", err)
		}
		if cfg.Region == "" {
			return nil, nil
		}
		api = ec2.NewClient(cfg.Region, o.EC2Endpoint, cfg.Credentials, ec2.RetryOptions{})
		region = cfg.Region
	}
	scores, err := placerScores(o, api, region)
	if err != nil {
		return nil, err
	}
	ns := cmp.Or(o.PlacerNamespace, os.Getenv("POD_NAMESPACE"), "trimtab-system")
	return &placement.Prices{
		API:        api,
		Period:     o.PricePeriod,
		Forecaster: spot.DefaultConfig(),
		Checkpoint: client.ObjectKey{Namespace: ns, Name: ForecasterConfigMap},
		Scores:     scores,
	}, nil
}

// placerScores is the price side's score side; nil without
// PlacementScores, or with an EC2 client that cannot ask for scores.
func placerScores(o Options, api ec2.EC2API, region string) (*placement.Scores, error) {
	if !o.PlacementScores {
		return nil, nil
	}
	if o.ScorePeriod < 0 {
		return nil, fmt.Errorf("--score-period %v: want a positive duration, or 0 for 15m", o.ScorePeriod)
	}
	if o.ScoreTarget < 0 {
		return nil, fmt.Errorf("--score-target %d: want a number of instances, or 0 for the spot nodes' count", o.ScoreTarget)
	}
	rule := o.ScoreRule
	if rule == (placer.ScoreRule{}) {
		rule = placer.DefaultScoreRule()
	}
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("placement scores (--score-risky, --score-recover, --score-recover-for, --score-max-age): %w", err)
	}
	sa, ok := api.(placement.ScoresAPI)
	if !ok || region == "" {
		ctrl.Log.WithName("setup").Info("placer without spot placement scores: the EC2 client cannot ask for them", "region", region)
		return nil, nil
	}
	return &placement.Scores{API: sa, Region: region, Period: o.ScorePeriod, Rule: rule,
		InstanceTypes: o.ScoreInstanceTypes, Target: o.ScoreTarget}, nil
}

// placerWebhook makes the pod webhook read batch workloads' capacity from
// their Decisions, which follows the placer's outlook.
func placerWebhook(mgr ctrl.Manager, o Options) []mutating.SetupOption {
	if !o.Placer {
		return nil
	}
	return []mutating.SetupOption{mutating.WithSplits(mutating.DecisionSplits{Reader: mgr.GetClient()})}
}
