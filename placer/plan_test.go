package placer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/prices"
)

var (
	now      = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	settings = config.DefaultSettings()
	c3a      = prices.Market{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: prices.ProductLinux}
	r3a      = prices.Market{InstanceType: "r3.large", Zone: "us-east-1a", Product: prices.ProductLinux}
)

// node is a 4-CPU node of a capacity type and instance type in
// us-east-1a; spot nodes carry the spot taint.
func node(name string, ct capacity.Type, typ string) *corev1.Node {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("20")}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		corev1.LabelHostname: name, settings.CapacityTypeLabel: string(ct), LabelInstanceType: typ, LabelZone: "us-east-1a"}},
		Status: corev1.NodeStatus{Allocatable: alloc, Capacity: alloc}}
	if ct == capacity.Spot {
		n.Spec.Taints = []corev1.Taint{settings.SpotTaint}
	}
	return n
}

// pod is a 1-CPU pod of workload w on node, placed by the webhook as pl.
func pod(w, name, nodeName string, pl capacity.Type, base bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
		Labels:            map[string]string{"app": w, LabelPlacement: string(pl)},
		Annotations:       map[string]string{config.AnnotationDecisionJSON: fmt.Sprintf(`{"placement":%q,"base":%v}`, pl, base)},
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: w + "-rs", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	applyPlacement(p, capacity.Placement{Type: pl, Required: pl == capacity.OnDemand}, settings)
	return p
}

var (
	onSpot  = capacity.Split{Rest: capacity.Spot, Reason: "spot preferred"}
	offSpot = capacity.Split{Rest: capacity.OnDemand, RestRequired: true, Reason: "off spot: market off"}
	batch   = config.Inputs{Enforce: true, Evictable: true}
)

// scene is a cluster: spot-1 and spot-2 (c3.xlarge), spot-3 (r3.large),
// od-1 and od-2 on-demand, every node 4 CPUs; workload "batch" has three
// 1-CPU pods on spot-1.
type scene struct {
	in Input
}

func newScene() *scene {
	s := &scene{in: Input{Now: now, Settings: settings, Placer: config.DefaultPlacerSettings(), Product: prices.ProductLinux,
		Markets: map[prices.Market]MarketState{
			c3a: {Market: c3a, Off: true, Fresh: true, Reason: "c3.xlarge/us-east-1a off spot since 11:50 UTC: crossing forecast", Since: now.Add(-10 * time.Minute)},
			r3a: {Market: r3a, Fresh: true, Reason: "r3.large/us-east-1a on spot"},
		}}}
	s.in.Placer.Settle = 0
	s.in.Cluster.Nodes = []*corev1.Node{node("spot-1", capacity.Spot, "c3.xlarge"), node("spot-2", capacity.Spot, "c3.xlarge"),
		node("spot-3", capacity.Spot, "r3.large"), node("od-1", capacity.OnDemand, "m5.large"), node("od-2", capacity.OnDemand, "m5.large")}
	s.add("batch", batch, offSpot, pod("batch", "b1", "spot-1", capacity.Spot, false), pod("batch", "b2", "spot-1", capacity.Spot, false), pod("batch", "b3", "spot-1", capacity.Spot, false))
	return s
}

func (s *scene) add(name string, in config.Inputs, split capacity.Split, pods ...*corev1.Pod) *Workload {
	class := config.ClassBatch
	if !in.Evictable {
		class = config.ClassStandard
	}
	w := Workload{Key: Key{Namespace: "shop", Kind: "Deployment", Name: name}, Class: class, Inputs: in, Split: split,
		SplitSince: now.Add(-time.Minute), Pods: pods}
	w.Outlook = OutlookOf(Exposure(nil, pods, Nodes(s.in.Cluster.Nodes, settings, s.in.Placer, prices.ProductLinux), settings), s.in.Markets)
	s.in.Workloads = append(s.in.Workloads, w)
	s.in.Cluster.Pods = append(s.in.Cluster.Pods, pods...)
	return &s.in.Workloads[len(s.in.Workloads)-1]
}

func (s *scene) w(name string) *Workload {
	for i := range s.in.Workloads {
		if s.in.Workloads[i].Key.Name == name {
			return &s.in.Workloads[i]
		}
	}
	panic(name)
}

// summary prints a workload's plan as "pod:kind:action" words, plus the
// hold or landing of the first move, for the table below.
func summary(ms []Move) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s:%s:%s", m.Pod, m.Kind, m.Action))
	}
	return strings.Join(parts, " ")
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(s *scene)
		// want is the plan of workload "batch"; text must appear in its
		// first move's Hold or Lands, or in a skip.
		want, text string
	}{
		{"off market, split flipped: move out within the workload budget", func(*scene) {},
			"b1:MoveOut:evict b2:MoveOut:evict b3:MoveOut:wait", "workload budget spent: 2 eviction(s) in the last 1m0s"},
		{"replacements land on on-demand", func(*scene) {}, "b1:MoveOut:evict b2:MoveOut:evict b3:MoveOut:wait", "lands on on-demand node od-1"},
		{"split not flipped yet: wait for the Decision", func(s *scene) { s.w("batch").Split = onSpot },
			"b1:MoveOut:wait b2:MoveOut:wait b3:MoveOut:wait", "the Decision does not send new pods where this move needs them yet"},
		{"split just flipped: settle", func(s *scene) { s.in.Placer.Settle = time.Minute; s.w("batch").SplitSince = now.Add(-time.Second) },
			"b1:MoveOut:wait b2:MoveOut:wait b3:MoveOut:wait", "once every webhook has it"},
		{"stale prices: nothing moves", func(s *scene) {
			ms := s.in.Markets[c3a]
			ms.Fresh, ms.Reason = false, "c3.xlarge/us-east-1a: stale price data"
			s.in.Markets[c3a] = ms
		}, "", "no move on stale data"},
		{"a standard workload is never moved", func(s *scene) {
			w := s.w("batch")
			w.Inputs.Evictable, w.Class = false, config.ClassStandard
		}, "", "class standard: the placer moves only batch pods"},
		{"a pod with no controller stays", func(s *scene) {
			for _, p := range s.w("batch").Pods {
				p.OwnerReferences = nil
			}
		}, "", "has no controller: evicting it would delete it"},
		{"a spot node without labels is not priced", func(s *scene) {
			delete(s.in.Cluster.Nodes[0].Labels, LabelInstanceType)
			w := s.w("batch")
			w.Outlook = OutlookOf([]prices.Market{c3a}, s.in.Markets)
		}, "", "spot node spot-1 has no node.kubernetes.io/instance-type label: its market is unknown"},
		{"policy pins spot: the owner's choice", func(s *scene) { s.w("batch").Inputs.Capacity.Pin = capacity.Spot },
			"", "the policy pins capacity spot"},
		{"shadow mode records", func(s *scene) { s.w("batch").Inputs.Enforce = false },
			"b1:MoveOut:record b2:MoveOut:record b3:MoveOut:record", "lands on on-demand node"},
		{"dry run records", func(s *scene) { s.in.Placer.DryRun = true },
			"b1:MoveOut:record b2:MoveOut:record b3:MoveOut:record", "lands on on-demand node"},
		{"no room on on-demand: wait, with the scheduler's words", func(s *scene) {
			s.in.Cluster.Nodes = s.in.Cluster.Nodes[:3]
		}, "b1:MoveOut:wait b2:MoveOut:wait b3:MoveOut:wait", "would not fit: 0/3 nodes are available"},
		{"no room, a provisioner will add it: evict", func(s *scene) {
			s.in.Cluster.Nodes = s.in.Cluster.Nodes[:3]
			s.in.Placer.AllowPending = true
		}, "b1:MoveOut:evict b2:MoveOut:evict b3:MoveOut:wait", "pending until a node provisioner adds one"},
		{"cluster budget spent by others", func(s *scene) {
			for i := range 20 {
				s.in.Evictions = append(s.in.Evictions, Eviction{Time: now.Add(-time.Duration(i) * time.Second)})
			}
		}, "b1:MoveOut:wait b2:MoveOut:wait b3:MoveOut:wait", "cluster budget spent: 20 eviction(s)"},
		{"evictions older than the window do not count", func(s *scene) {
			w := s.w("batch")
			w.Evictions = []Eviction{{Time: now.Add(-2 * time.Minute), UID: "old"}}
		}, "b1:MoveOut:evict b2:MoveOut:evict b3:MoveOut:wait", ""},
		{"backing off after a 429", func(s *scene) {
			s.w("batch").Prior = []Move{{Pod: "b1", UID: "uid-b1", Kind: MoveOut, State: Blocked, Attempts: 2, NextAttempt: now.Add(time.Minute)}}
		}, "b1:MoveOut:wait b2:MoveOut:evict b3:MoveOut:evict", "backing off after 2 refused eviction(s)"},
		{"interruption taint: move that node's pods, off spot or not", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			s.w("batch").Split = onSpot
			s.in.Cluster.Nodes[0].Spec.Taints = append(s.in.Cluster.Nodes[0].Spec.Taints, corev1.Taint{Key: "aws-node-termination-handler/spot-itn", Effect: corev1.TaintEffectNoSchedule})
		}, "b1:Interruption:evict b2:Interruption:evict b3:Interruption:wait", "lands on spot node spot-2"},
		{"interruption condition", func(s *scene) {
			s.in.Placer.InterruptionConditions = []string{"SpotInterruption"}
			s.in.Cluster.Nodes[0].Status.Conditions = []corev1.NodeCondition{{Type: "SpotInterruption", Status: corev1.ConditionTrue}}
		}, "b1:Interruption:evict b2:Interruption:evict b3:Interruption:wait", "lands on on-demand node"},
		{"back on spot after the spike", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			w := s.w("batch")
			w.Split = onSpot
			w.Outlook = OutlookOf([]prices.Market{c3a}, s.in.Markets) // the market is back
			w.Pods[0].Spec.NodeName, w.Pods[1].Spec.NodeName, w.Pods[2].Spec.NodeName = "od-1", "od-1", "od-2"
		}, "b1:MoveBack:evict b2:MoveBack:evict b3:MoveBack:wait", "lands on spot node"},
		{"back, but no room on spot: stay on on-demand", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			s.in.Cluster.Nodes = append(s.in.Cluster.Nodes[3:], node("spot-full", capacity.Spot, "c3.xlarge"))
			s.in.Cluster.Nodes[2].Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourcePods: resource.MustParse("10")}
			w := s.w("batch")
			w.Split = onSpot
			w.Outlook = OutlookOf([]prices.Market{c3a}, s.in.Markets) // the market is back
			w.Pods[0].Spec.NodeName, w.Pods[1].Spec.NodeName, w.Pods[2].Spec.NodeName = "od-1", "od-1", "od-2"
		}, "b1:MoveBack:wait b2:MoveBack:wait b3:MoveBack:wait", "would land on on-demand node od-1 again: no spot node takes it: 0/3 nodes are available: 1 Insufficient cpu"},
		{"back, but the only spot node is interrupted: stay, and say so (not \"no room\")", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			itn := node("spot-itn", capacity.Spot, "c3.xlarge")
			itn.Spec.Taints = append(itn.Spec.Taints, corev1.Taint{Key: "aws-node-termination-handler/spot-itn", Effect: corev1.TaintEffectNoSchedule})
			s.in.Cluster.Nodes = append(s.in.Cluster.Nodes[3:], itn)
			w := s.w("batch")
			w.Split = onSpot
			w.Outlook = OutlookOf([]prices.Market{c3a}, s.in.Markets) // the market is back
			w.Pods[0].Spec.NodeName, w.Pods[1].Spec.NodeName, w.Pods[2].Spec.NodeName = "od-1", "od-1", "od-2"
		}, "b1:MoveBack:wait b2:MoveBack:wait b3:MoveBack:wait", "would land on on-demand node od-1 again: no spot node takes it: 0/3 nodes are available: 1 node(s) had untolerated taint"},
		{"base shortfall: pods admitted while trimtab was down", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			w := s.w("batch")
			w.Split = capacity.Split{OnDemandBase: 2, Rest: capacity.Spot, Reason: "spot preferred"}
			for _, p := range w.Pods {
				delete(p.Labels, LabelPlacement)
				delete(p.Annotations, config.AnnotationDecisionJSON)
			}
		}, "b1:BaseShortfall:evict b2:BaseShortfall:evict", "lands on on-demand node"},
		{"base shortfall on stale prices: repaired all the same (on-demand is no riskier on any price)", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Reason: "c3.xlarge/us-east-1a: stale price data"}
			w := s.w("batch")
			w.Outlook = OutlookOf(Exposure(nil, w.Pods, Nodes(s.in.Cluster.Nodes, settings, s.in.Placer, prices.ProductLinux), settings), s.in.Markets)
			w.Split = capacity.Split{OnDemandBase: 2, Rest: capacity.Spot, Reason: "spot preferred"}
			for _, p := range w.Pods {
				delete(p.Labels, LabelPlacement)
				delete(p.Annotations, config.AnnotationDecisionJSON)
			}
		}, "b1:BaseShortfall:evict b2:BaseShortfall:evict", "lands on on-demand node"},
		{"base shortfall without a price source: repaired", func(s *scene) {
			s.in.Markets = nil
			w := s.w("batch")
			w.Outlook = WorkloadOutlook{}
			w.Split = capacity.Split{OnDemandBase: 1, Rest: capacity.Spot, Reason: "spot preferred"}
			for _, p := range w.Pods {
				delete(p.Labels, LabelPlacement)
			}
		}, "b1:BaseShortfall:evict", "lands on on-demand node"},
		{"base shortfall: pods already evicted for it count until their replacements run (no second move for the same gap)", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			w := s.w("batch")
			w.Split = capacity.Split{OnDemandBase: 2, Rest: capacity.Spot, Reason: "spot preferred"}
			for _, p := range w.Pods {
				delete(p.Labels, LabelPlacement)
			}
			w.Pods[0].DeletionTimestamp = ptr.To(metav1.NewTime(now))
			w.Pods[1].DeletionTimestamp = ptr.To(metav1.NewTime(now))
			w.Prior = []Move{{Pod: "b1", UID: "uid-b1", Kind: BaseShortfall, State: Evicted}, {Pod: "b2", UID: "uid-b2", Kind: BaseShortfall, State: Evicted}}
			w.Evictions = []Eviction{{Time: now.Add(-2 * time.Minute), UID: "uid-b1"}, {Time: now.Add(-2 * time.Minute), UID: "uid-b2"}}
		}, "b1:BaseShortfall:record b2:BaseShortfall:record", "2 moved there are on their way"},
		{"base shortfall: an evicted pod and its placed replacement count once (one more move for a base of 2)", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			w := s.w("batch")
			w.Split = capacity.Split{OnDemandBase: 2, Rest: capacity.Spot, Reason: "spot preferred"}
			for _, p := range w.Pods {
				delete(p.Labels, LabelPlacement)
			}
			w.Pods[0].DeletionTimestamp = ptr.To(metav1.NewTime(now.Add(-time.Minute)))
			w.Prior = []Move{{Pod: "b1", UID: "uid-b1", Kind: BaseShortfall, State: Evicted}}
			w.Evictions = []Eviction{{Time: now.Add(-time.Minute), UID: "uid-b1"}}
			replacement := pod("batch", "b4", "", capacity.OnDemand, true)
			replacement.Status.Phase = corev1.PodPending
			replacement.CreationTimestamp = metav1.NewTime(now.Add(-30 * time.Second))
			w.Pods = append(w.Pods, replacement)
		}, "b1:BaseShortfall:record b2:BaseShortfall:evict", "lands on on-demand node"},
		{"base shortfall: a replacement the webhook placed on on-demand, not bound yet, counts", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
			w := s.w("batch")
			w.Split = capacity.Split{OnDemandBase: 1, Rest: capacity.Spot, Reason: "spot preferred"}
			for _, p := range w.Pods {
				delete(p.Labels, LabelPlacement)
			}
			pending := pod("batch", "b4", "", capacity.OnDemand, true)
			pending.Status.Phase = corev1.PodPending
			w.Pods = append(w.Pods, pending)
		}, "", "the webhook counts 1 placed there already"},
		{"excess on-demand on stale prices: held", func(s *scene) {
			s.in.Markets[c3a] = MarketState{Market: c3a, Reason: "c3.xlarge/us-east-1a: stale price data"}
			w := s.w("batch")
			w.Split = onSpot
			w.Pods[0].Spec.NodeName, w.Pods[1].Spec.NodeName, w.Pods[2].Spec.NodeName = "od-1", "od-1", "od-2"
			w.Outlook = OutlookOf([]prices.Market{c3a}, s.in.Markets)
		}, "", "no move to spot on stale data"},
		{"excess on-demand while a market it uses is off (the Decision not flipped yet): held", func(s *scene) {
			w := s.w("batch")
			w.Split = onSpot
			w.Pods[0].Spec.NodeName, w.Pods[1].Spec.NodeName, w.Pods[2].Spec.NodeName = "od-1", "od-1", "od-2"
			w.Outlook = OutlookOf([]prices.Market{c3a, r3a}, s.in.Markets)
		}, "", "the workload uses are off spot"},
		{"excess on-demand without a price source: the policy's split moves it to spot", func(s *scene) {
			s.in.Markets = nil
			w := s.w("batch")
			w.Split = onSpot
			w.Pods[0].Spec.NodeName, w.Pods[1].Spec.NodeName, w.Pods[2].Spec.NodeName = "od-1", "od-1", "od-2"
			w.Outlook = WorkloadOutlook{}
		}, "b1:MoveBack:evict b2:MoveBack:evict b3:MoveBack:wait", "lands on spot node"},
		{"a prior eviction whose pod is still there is never repeated", func(s *scene) {
			w := s.w("batch")
			w.Prior = []Move{{Pod: "b1", UID: "uid-b1", Kind: MoveOut, State: Evicted}}
		}, "b1:MoveOut:record b2:MoveOut:evict b3:MoveOut:evict", ""},
		{"a pod evicted before (by UID) is not planned again", func(s *scene) {
			s.w("batch").Evictions = []Eviction{{Time: now.Add(-10 * time.Minute), UID: "uid-b1"}}
		}, "b2:MoveOut:evict b3:MoveOut:evict", ""},
		{"an eviction of unknown outcome on a live pod is retried", func(s *scene) {
			s.w("batch").Prior = []Move{{Pod: "b1", UID: "uid-b1", Kind: MoveOut, State: Evicting, PlannedAt: now.Add(-time.Hour)}}
		}, "b1:MoveOut:evict b2:MoveOut:evict b3:MoveOut:wait", ""},
		{"invalid policy: nothing", func(s *scene) { s.w("batch").PolicyErr = errors.New("bad") }, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene()
			tc.setup(s)
			res := Plan(s.in)
			plan := res.Plans[s.w("batch").Key]
			if got := summary(plan); got != tc.want {
				t.Errorf("plan %q, want %q", got, tc.want)
			}
			if tc.text == "" {
				return
			}
			var texts []string
			for _, m := range plan {
				texts = append(texts, m.Hold, m.Lands, m.String())
			}
			for _, sk := range res.Skips {
				texts = append(texts, sk.String())
			}
			if all := strings.Join(texts, "\n"); !strings.Contains(all, tc.text) {
				t.Errorf("no move or skip says %q:\n%s", tc.text, all)
			}
		})
	}
}

// TestPlanRecordsOutcomesOfTheLastPlan: evictions found Evicting whose
// pod is terminating or gone are reported once as done; Evicted ones were
// counted when they were made and are not; a terminating pod is shown
// until it is gone.
func TestPlanRecordsOutcomesOfTheLastPlan(t *testing.T) {
	s := newScene()
	w := s.w("batch")
	w.Pods[0].DeletionTimestamp = ptr.To(metav1.NewTime(now))
	w.Pods = w.Pods[:2] // b3 is gone
	w.Prior = []Move{
		{Pod: "b1", UID: "uid-b1", Kind: MoveOut, State: Evicting},
		{Pod: "b3", UID: "uid-b3", Kind: MoveOut, State: Evicted},
		{Pod: "gone-already-recorded", UID: "uid-x", Kind: MoveOut, State: Evicted},
	}
	w.Evictions = []Eviction{{Time: now.Add(-30 * time.Second), UID: "uid-x"}}
	res := Plan(s.in)
	if got := summary(res.Plans[w.Key]); got != "b1:MoveOut:record b2:MoveOut:evict" {
		t.Errorf("plan %q", got)
	}
	if len(res.Done) != 1 || res.Done[0].UID != "uid-b1" {
		t.Errorf("done %+v, want b1 only recorded (b3 was counted when it was evicted)", res.Done)
	}
	// b2 is the only eviction left within the budget: x counted.
	if got := res.Evictions(); len(got) != 1 || got[0].Pod != "b2" {
		t.Errorf("evictions %v", got)
	}
}

// TestPlanNeverRecountsATerminatingPod: a pod evicted more than a budget
// window ago that is still terminating (a long grace period, a stuck
// finalizer; its eviction record has left the window) is shown as Evicted
// and is not counted again, round after round, against the budgets.
func TestPlanNeverRecountsATerminatingPod(t *testing.T) {
	s := newScene()
	w := s.w("batch")
	w.Pods[0].DeletionTimestamp = ptr.To(metav1.NewTime(now.Add(-5 * time.Minute)))
	w.Prior = []Move{{Pod: "b1", UID: "uid-b1", Kind: MoveOut, State: Evicted, PlannedAt: now.Add(-5 * time.Minute)}}
	w.Evictions = nil // the record is older than the window
	for round := range 3 {
		s.in.Now = now.Add(time.Duration(round) * 15 * time.Second)
		res := Plan(s.in)
		if len(res.Done) != 0 {
			t.Fatalf("round %d: done %+v, want the old eviction not counted again", round, res.Done)
		}
		if got := summary(res.Plans[w.Key]); got != "b1:MoveOut:record b2:MoveOut:evict b3:MoveOut:evict" {
			t.Errorf("round %d: plan %q, want b1 shown as evicted and b2, b3 within the budget of 2", round, got)
		}
	}
}

// TestPlanNeverTouchesCritical: a critical workload beside the batch one
// on the off market keeps all its pods.
func TestPlanNeverTouchesCritical(t *testing.T) {
	s := newScene()
	crit := s.add("api", config.Inputs{Enforce: true, Capacity: capacity.Rule{OnDemandBase: 2}}, offSpot, pod("api", "a1", "spot-1", capacity.Spot, false))
	crit.Class = config.ClassCritical
	res := Plan(s.in)
	if ms := res.Plans[crit.Key]; len(ms) != 0 {
		t.Errorf("critical workload planned %v", ms)
	}
	found := false
	for _, sk := range res.Skips {
		found = found || (sk.Pod == "a1" && strings.Contains(sk.Reason, "class critical"))
	}
	if !found {
		t.Errorf("no skip explains a1: %v", res.Skips)
	}
}

func TestBackoff(t *testing.T) {
	for attempts, want := range map[int]time.Duration{0: 10 * time.Second, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 10: 5 * time.Minute} {
		if got := Backoff(attempts, 10*time.Second, 5*time.Minute); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempts, got, want)
		}
	}
}

func TestPlanSimulationUsesTheWholeCluster(t *testing.T) {
	// Another tenant fills od-1: the replacements go to od-2.
	s := newScene()
	filler := pod("other", "o1", "od-1", capacity.OnDemand, false)
	filler.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("4")
	s.in.Cluster.Pods = append(s.in.Cluster.Pods, filler)
	res := Plan(s.in)
	for _, m := range res.Plans[s.w("batch").Key] {
		if m.Action == Evict && !strings.Contains(m.Lands, "od-2") {
			t.Errorf("%s lands %q, want od-2", m.Pod, m.Lands)
		}
	}
	_ = fit.Snapshot{}
}
