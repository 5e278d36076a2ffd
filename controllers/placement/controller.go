// Package placement is the placer's loop on the elected leader: every
// period it reads the cluster, plans with placer.Plan and carries the plan
// out with controllers/placement/executor. It runs only with `trimtab manager --placer`
// (default off).
//
// What it reads: nodes, pods and PodDisruptionBudgets, and every Decision
// of a Deployment, StatefulSet, Job or CronJob with that workload's policy,
// pods and template (and a Job's or CronJob's Jobs, whose retries bound
// the moves of their pods: placer/jobs.go). With a price side (Prices: EC2 spot prices for the spot nodes'
// markets, the spot forecaster, its checkpoint) each market has a state,
// and the plan moves batch pods out of a market predicted to spike and
// back after it passes; each workload's outlook goes to Outlooks, which the
// decision controller turns into the Decision's capacity, which the pod
// webhook stamps. Without fresh prices no price-driven move is made, and
// the moves are those off nodes carrying an interruption signal (a
// configured taint or condition, NTH's and Karpenter's by default).
package placement

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/placement/executor"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
)

// DefaultPeriod is how often the controller plans.
const DefaultPeriod = 15 * time.Second

// Controller plans and moves. Add it to a manager (it needs leader
// election) or call Sync.
type Controller struct {
	Client   client.Client
	Recorder events.EventRecorder
	Settings config.Settings
	Placer   config.PlacerSettings
	Period   time.Duration
	Clock    clock.WithTicker

	// Prices, when set, is the price side (prices.go): each spot market's
	// state from live prices and the forecaster, so moves out, back and
	// base repairs are planned on fresh prices. Nil: no market is fresh
	// and only interruption moves are made.
	Prices *Prices
	// Outlooks, when set, receives each workload's outlook every round,
	// for the decision controller's capacity (admission follows it).
	Outlooks *Outlooks

	// Namespaces, when set, narrows the placer to the Decisions of
	// namespaces whose labels match (nil: every namespace); the manager
	// passes its decision controller's, so several managers (the e2e
	// tests') each move only their own workloads. Nodes and pods are read
	// cluster-wide whatever it says: the simulation needs them all.
	Namespaces labels.Selector

	// splits remembers when each workload's Decision began showing its
	// current split, the settle time's start (outlook.go).
	splits map[placer.Key]splitSeen

	// The round's placement scores (Prices.Scores), and each workload's
	// exposed markets, for its outlook and PlacementScores condition.
	scores  ScoreReport
	exposed map[placer.Key][]prices.Market
}

// NeedLeaderElection: only the leader evicts.
func (c *Controller) NeedLeaderElection() bool { return true }

// Start plans every Period until ctx ends; a failed round is logged and
// the next one tries again.
func (c *Controller) Start(ctx context.Context) error {
	period := c.Period
	if period <= 0 {
		period = DefaultPeriod
	}
	t := c.Clock.NewTicker(period)
	defer t.Stop()
	for {
		if rep, err := c.Sync(ctx); err != nil {
			log.FromContext(ctx).Error(err, "placer round", "report", rep)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// Sync runs one round: read, plan, record and evict.
func (c *Controller) Sync(ctx context.Context) (executor.Report, error) {
	now := c.Clock.Now()
	var nodes corev1.NodeList
	var pods corev1.PodList
	var pdbs policyv1.PodDisruptionBudgetList
	var decisions v1alpha1.DecisionList
	for what, l := range map[string]client.ObjectList{"nodes": &nodes, "pods": &pods, "PodDisruptionBudgets": &pdbs, "Decisions": &decisions} {
		if err := c.Client.List(ctx, l); err != nil {
			return executor.Report{}, fmt.Errorf("listing %s: %w", what, err)
		}
	}
	in := placer.Input{Now: now, Settings: c.Settings, Placer: c.Placer, Product: prices.ProductLinux,
		Markets: map[prices.Market]placer.MarketState{}}
	for i := range nodes.Items {
		in.Cluster.Nodes = append(in.Cluster.Nodes, &nodes.Items[i])
	}
	for i := range pods.Items {
		in.Cluster.Pods = append(in.Cluster.Pods, &pods.Items[i])
	}
	for i := range pdbs.Items {
		in.Cluster.PDBs = append(in.Cluster.PDBs, &pdbs.Items[i])
	}
	infos := placer.Nodes(in.Cluster.Nodes, c.Settings, c.Placer, in.Product)
	var errs []error
	if err := c.narrow(ctx, &decisions); err != nil {
		return executor.Report{}, err
	}
	if c.Prices != nil {
		prep, err := c.Prices.Round(ctx, c.Client, c.Recorder, now, infos)
		if err != nil {
			// No market state: nothing is fresh, no price-driven move.
			errs = append(errs, fmt.Errorf("spot prices: %w", err))
		}
		if prep.Markets != nil {
			in.Markets = prep.Markets
		}
		c.scores = prep.Scores
	}
	c.exposed = map[placer.Key][]prices.Market{}
	failed := map[placer.Key]bool{}
	for i := range decisions.Items {
		d := &decisions.Items[i]
		w, err := c.workload(ctx, d, in.Cluster.Pods, infos, in.Markets)
		if err != nil {
			errs = append(errs, err)
			failed[keyOfDecision(d)] = true
			continue
		}
		if w == nil {
			continue
		}
		w.SplitSince = c.splitSince(w.Key, w.Split, now)
		if err := c.recordOutlook(ctx, d, w, infos, now); err != nil {
			errs = append(errs, err)
		}
		in.Workloads = append(in.Workloads, *w)
		in.Evictions = append(in.Evictions, w.Evictions...)
	}
	c.publish(in.Workloads, failed)
	res := placer.Plan(in)
	for _, s := range res.Skips {
		log.FromContext(ctx).V(1).Info("placer leaves a pod", "pod", s.String())
	}
	c.recordJobSkips(decisions.Items, res.Skips) // jobs.go
	executor.RecordPending(in.Workloads)
	ex := &executor.Executor{Client: c.Client, Recorder: c.Recorder, Settings: c.Placer, Clock: c.Clock}
	rep, err := ex.Apply(ctx, in, res)
	return rep, errors.Join(append(errs, err)...)
}

// workload is one Decision's workload as the plan sees it; nil when the
// workload is gone or of a kind the placer does not move.
func (c *Controller) workload(ctx context.Context, d *v1alpha1.Decision, all []*corev1.Pod, infos map[string]*placer.NodeInfo, markets map[prices.Market]placer.MarketState) (*placer.Workload, error) {
	ref := d.Spec.WorkloadRef
	key := client.ObjectKey{Namespace: d.Namespace, Name: ref.Name}
	var obj client.Object
	var sel *metav1.LabelSelector
	var tmpl *corev1.PodTemplateSpec
	var jobs []*batchv1.Job
	switch ref.Kind {
	case "Deployment":
		o := &appsv1.Deployment{}
		obj, tmpl = o, &o.Spec.Template
		if err := c.Client.Get(ctx, key, o); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		sel = o.Spec.Selector
	case "StatefulSet":
		o := &appsv1.StatefulSet{}
		obj, tmpl = o, &o.Spec.Template
		if err := c.Client.Get(ctx, key, o); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		sel = o.Spec.Selector
	case "Job":
		o := &batchv1.Job{}
		obj, tmpl = o, &o.Spec.Template
		if err := c.Client.Get(ctx, key, o); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		sel = o.Spec.Selector
		jobs = []*batchv1.Job{o}
	case "CronJob":
		// One Decision per CronJob, shared by its Jobs' pods, as the
		// webhook resolves them (jobs.go).
		return c.cronJobWorkload(ctx, d, all, infos, markets)
	default:
		return nil, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || sel == nil {
		return nil, fmt.Errorf("%s: selector %v: %v", keyOfDecision(d), sel, err)
	}
	var pods []*corev1.Pod
	for _, p := range all {
		if p.Namespace == d.Namespace && s.Matches(labels.Set(p.Labels)) {
			pods = append(pods, p)
		}
	}
	return c.assemble(d, obj, tmpl, pods, jobs, infos, markets), nil
}

// assemble is the plan's view of a Decision's workload obj, whose pods
// are pods (and, for a Job or CronJob, whose Jobs are jobs).
func (c *Controller) assemble(d *v1alpha1.Decision, obj client.Object, tmpl *corev1.PodTemplateSpec, pods []*corev1.Pod, jobs []*batchv1.Job,
	infos map[string]*placer.NodeInfo, markets map[prices.Market]placer.MarketState) *placer.Workload {
	w := &placer.Workload{Key: keyOfDecision(d), Pods: pods, Jobs: jobs}
	pol, perrs := config.ParsePolicy(obj.GetAnnotations())
	w.Class = pol.Class
	if len(perrs) > 0 {
		w.PolicyErr = perrs.ToAggregate()
	} else if w.Inputs, w.PolicyErr = pol.Inputs(); w.PolicyErr == nil {
		w.Split, w.PolicyErr = split(d, w.Inputs)
	}
	// Without a price source the outlook has nothing against spot and no
	// market to be stale: the policy's split is the only capacity signal,
	// the decision controller is told so (publish: known), and the plan
	// repairs the on-demand base by it (placer.Plan).
	if c.Prices != nil {
		exposed := placer.Exposure(&tmpl.Spec, w.Pods, infos, c.Settings)
		w.Outlook = placer.OutlookOf(exposed, markets)
		if c.Prices.Scores != nil {
			// The capacity signal: off spot when every market is risky.
			w.Outlook = placer.ScoreOutlook(w.Outlook, exposed, c.scores.States, c.Prices.Scores.rule())
			c.exposed[w.Key] = exposed
		}
	}
	w.Prior, w.Evictions = executor.FromStatus(d, prices.ProductLinux)
	return w
}

// split is the split the webhook stamps: the Decision's capacity, or the
// policy's own without an outlook while the Decision has none yet.
func split(d *v1alpha1.Decision, in config.Inputs) (capacity.Split, error) {
	if cs := d.Status.Capacity; cs != nil {
		return capacity.Split{OnDemandBase: cs.OnDemandBase, Rest: capacity.Type(cs.Rest), RestRequired: cs.RestRequired, Reason: cs.Reason}, nil
	}
	return capacity.Decide(in.Capacity, capacity.Outlook{})
}

// narrow keeps the Decisions of the namespaces Namespaces selects.
func (c *Controller) narrow(ctx context.Context, decisions *v1alpha1.DecisionList) error {
	if c.Namespaces == nil {
		return nil
	}
	var nss corev1.NamespaceList
	if err := c.Client.List(ctx, &nss, client.MatchingLabelsSelector{Selector: c.Namespaces}); err != nil {
		return fmt.Errorf("listing the namespaces %s: %w", c.Namespaces, err)
	}
	keep := map[string]bool{}
	for _, ns := range nss.Items {
		keep[ns.Name] = true
	}
	var out []v1alpha1.Decision
	for _, d := range decisions.Items {
		if keep[d.Namespace] {
			out = append(out, d)
		}
	}
	decisions.Items = out
	return nil
}

func keyOfDecision(d *v1alpha1.Decision) placer.Key {
	return placer.Key{Namespace: d.Namespace, Kind: d.Spec.WorkloadRef.Kind, Name: d.Spec.WorkloadRef.Name}
}
