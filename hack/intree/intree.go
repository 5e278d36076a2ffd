// Package intree places pods with kube-scheduler's own in-tree plugins, run
// through the scheduler framework the way cluster-autoscaler's simulator runs
// them (k8s.io/kubernetes/pkg/scheduler/framework/runtime over a snapshot).
//
// It is the other option measured for placer/fit ("import the plugins") and
// now serves as fit's oracle: the tests here place the same seeded random
// pods with both and compare feasibility, the chosen node and the
// scheduler's message. It lives in its own module because importing
// k8s.io/kubernetes needs a replace directive for every staging module, which
// trimtab's own go.mod stays free of (see docs/placer.md).
package intree

import (
	"context"
	"fmt"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/latest"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/interpodaffinity"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/names"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeaffinity"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeports"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeunschedulable"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/podtopologyspread"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/tainttoleration"
	"k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/metrics"

	"github.com/trimtab-dev/trimtab/placer/fit"
)

// Result is where one pod landed, and why.
type Result struct {
	Node     string           // "" when unschedulable
	Feasible []string         // nodes that passed every filter, in snapshot order
	Best     []string         // the nodes sharing the top score, in snapshot order
	Scores   map[string]int64 // total weighted score per feasible node (when scored)
	Message  string           // kube-scheduler's FitError message when unschedulable
}

var initMetrics sync.Once

// Sim is a simulated scheduler over a snapshot; Place binds each placed pod
// into the snapshot so the next pod sees it.
type Sim struct {
	fw    framework.Framework
	snap  *cache.Snapshot
	order map[string]int // node name → index in the snapshot, for deterministic ties
}

// New builds the framework with the default profile's filter and score
// plugins that fit replicates (weights as kube-scheduler's defaults); volume,
// DRA, preemption and image-locality plugins are left out on both sides.
func New(s fit.Snapshot) (*Sim, error) {
	initMetrics.Do(metrics.InitMetrics)
	ctx := context.Background()
	cfg, err := latest.Default()
	if err != nil {
		return nil, err
	}
	prof := cfg.Profiles[0]
	prof.Plugins = &config.Plugins{MultiPoint: config.PluginSet{Enabled: []config.Plugin{
		{Name: names.PrioritySort},
		{Name: names.NodeUnschedulable},
		{Name: names.TaintToleration, Weight: 3},
		{Name: names.NodeAffinity, Weight: 2},
		{Name: names.NodePorts},
		{Name: names.NodeResourcesFit, Weight: 1},
		{Name: names.PodTopologySpread, Weight: 2},
		{Name: names.InterPodAffinity, Weight: 2},
		{Name: names.NodeResourcesBalancedAllocation, Weight: 1},
		{Name: noBinder},
	}}}
	fts := plfeature.NewSchedulerFeaturesFromGates(feature.DefaultFeatureGate)
	reg := runtime.Registry{
		queuesort.Name:                       queuesort.New,
		nodeunschedulable.Name:               runtime.FactoryAdapter(fts, nodeunschedulable.New),
		tainttoleration.Name:                 runtime.FactoryAdapter(fts, tainttoleration.New),
		nodeaffinity.Name:                    runtime.FactoryAdapter(fts, nodeaffinity.New),
		nodeports.Name:                       runtime.FactoryAdapter(fts, nodeports.New),
		noderesources.Name:                   runtime.FactoryAdapter(fts, noderesources.NewFit),
		podtopologyspread.Name:               runtime.FactoryAdapter(fts, podtopologyspread.New),
		interpodaffinity.Name:                runtime.FactoryAdapter(fts, interpodaffinity.New),
		noderesources.BalancedAllocationName: runtime.FactoryAdapter(fts, noderesources.NewBalancedAllocation),
		noBinder:                             newNoBinder,
	}

	// The plugins read namespaces and workload selectors through listers;
	// feed the informers' stores directly, nothing is ever started.
	factory := informers.NewSharedInformerFactory(nil, 0)
	for _, o := range s.Namespaces {
		_ = factory.Core().V1().Namespaces().Informer().GetStore().Add(o)
	}
	for _, o := range s.Services {
		_ = factory.Core().V1().Services().Informer().GetStore().Add(o)
	}
	for _, o := range s.ReplicationControllers {
		_ = factory.Core().V1().ReplicationControllers().Informer().GetStore().Add(o)
	}
	for _, o := range s.ReplicaSets {
		_ = factory.Apps().V1().ReplicaSets().Informer().GetStore().Add(o)
	}
	for _, o := range s.StatefulSets {
		_ = factory.Apps().V1().StatefulSets().Informer().GetStore().Add(o)
	}

	order := map[string]int{}
	for i, n := range s.Nodes {
		order[n.Name] = i
	}
	var bound []*corev1.Pod
	for _, p := range s.Pods {
		if _, ok := order[p.Spec.NodeName]; ok && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			bound = append(bound, p)
		}
	}
	snap := cache.NewSnapshot(bound, s.Nodes)
	f, err := runtime.NewFramework(ctx, reg, &prof,
		runtime.WithSnapshotSharedLister(snap),
		runtime.WithInformerFactory(factory),
		runtime.WithParallelism(1))
	if err != nil {
		return nil, fmt.Errorf("building the scheduler framework: %w", err)
	}
	return &Sim{fw: f, snap: snap, order: order}, nil
}

// Place runs one scheduling cycle for pod (as a new pending pod: its
// spec.nodeName is ignored) and, when it fits, assumes it on the chosen node.
// Among nodes tied at the top score it takes the first in snapshot order.
func (s *Sim) Place(pod *corev1.Pod) (Result, error) {
	r, err := s.Evaluate(pod)
	if err != nil || r.Node == "" {
		return r, err
	}
	return r, s.Bind(pod, r.Node)
}

// Bind assumes pod on node, whatever the filters say: the scheduler's cache
// learning of a pod bound elsewhere.
func (s *Sim) Bind(pod *corev1.Pod, node string) error {
	p := pod.DeepCopy()
	p.Spec.NodeName = node
	pi, _ := framework.NewPodInfo(p) // a term that doesn't parse is left out, as in the cache
	return s.snap.AssumePod(pi)
}

// Evaluate is Place without assuming the pod anywhere.
func (s *Sim) Evaluate(pod *corev1.Pod) (Result, error) {
	ctx := context.Background()
	pod = pod.DeepCopy()
	pod.Spec.NodeName = ""
	all, err := s.snap.NodeInfos().List()
	if err != nil {
		return Result{}, err
	}
	if len(all) == 0 {
		return Result{Message: "no nodes available to schedule pods"}, nil
	}
	sort.Slice(all, func(i, j int) bool { return s.order[all[i].Node().Name] < s.order[all[j].Node().Name] })
	state := framework.NewCycleState()
	diag := framework.Diagnosis{NodeToStatus: framework.NewDefaultNodeToStatus()}
	preRes, st, unsched := s.fw.RunPreFilterPlugins(ctx, state, pod)
	if !st.IsSuccess() {
		if !st.IsRejected() {
			return Result{}, st.AsError()
		}
		diag.NodeToStatus.SetAbsentNodesStatus(st)
		diag.PreFilterMsg = st.Message()
		return Result{Message: (&framework.FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: diag}).Error()}, nil
	}
	nodes := all
	if !preRes.AllNodes() {
		nodes = nil
		for _, n := range all {
			if preRes.NodeNames.Has(n.Node().Name) {
				nodes = append(nodes, n)
			}
		}
		diag.NodeToStatus.SetAbsentNodesStatus(fwk.NewStatus(fwk.UnschedulableAndUnresolvable,
			fmt.Sprintf("node(s) didn't satisfy plugin(s) %v", sets.List(unsched))))
	}
	var feasible []fwk.NodeInfo
	for _, n := range nodes {
		st := s.fw.RunFilterPlugins(ctx, state, pod, n)
		if st.IsSuccess() {
			feasible = append(feasible, n)
			continue
		}
		if !st.IsRejected() {
			return Result{}, st.AsError()
		}
		diag.NodeToStatus.Set(n.Node().Name, st)
	}
	var r Result
	for _, n := range feasible {
		r.Feasible = append(r.Feasible, n.Node().Name)
	}
	switch len(feasible) {
	case 0:
		r.Message = (&framework.FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: diag}).Error()
		return r, nil
	case 1:
		r.Node, r.Best = r.Feasible[0], r.Feasible
		return r, nil
	}
	if st := s.fw.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return Result{}, st.AsError()
	}
	scores, st := s.fw.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		return Result{}, st.AsError()
	}
	r.Scores = map[string]int64{}
	top := int64(-1)
	for _, sc := range scores { // scores are in feasible order, i.e. snapshot order
		r.Scores[sc.Name] = sc.TotalScore
		switch {
		case sc.TotalScore > top:
			top, r.Best = sc.TotalScore, []string{sc.Name}
		case sc.TotalScore == top:
			r.Best = append(r.Best, sc.Name)
		}
	}
	r.Node = r.Best[0]
	return r, nil
}

// noBinder satisfies the framework's "at least one bind plugin": nothing is
// bound through an API here.
const noBinder = "NoBinder"

type binder struct{}

func newNoBinder(context.Context, k8sruntime.Object, fwk.Handle) (fwk.Plugin, error) {
	return binder{}, nil
}

func (binder) Name() string { return noBinder }

func (binder) Bind(context.Context, fwk.CycleState, *corev1.Pod, string) *fwk.Status { return nil }
