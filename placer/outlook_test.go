package placer

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/prices"
)

func TestMarketStateOf(t *testing.T) {
	out := spot.Assessment{Market: c3a, Price: 0.2, Threshold: 0.21, P: 0.31, Off: true, Action: spot.Stay, Reason: spot.ReasonWaiting,
		Since: now.Add(-time.Hour), EarliestBack: now.Add(5 * time.Hour)}
	for _, tc := range []struct {
		name       string
		a          spot.Assessment
		because    spot.Reason
		off, fresh bool
		want       string
	}{
		{"off, waiting, remembers why", out, spot.ReasonNear, true, true, "c3.xlarge/us-east-1a/Linux/UNIX off spot since 11:00 UTC: spot near threshold, now waiting for calm (spot 0.2000, threshold 0.2100, P(cross)=0.31)"},
		{"off, why unknown", out, spot.ReasonSteady, true, true, "off spot since 11:00 UTC: waiting for calm"},
		{"stale", spot.Assessment{Market: c3a, Price: 0.05, Action: spot.Hold, Reason: spot.ReasonStale}, 0, false, false, "stale price data (spot 0.0500 last known)"},
		{"no data", spot.Assessment{Market: c3a, Action: spot.Hold, Reason: spot.ReasonNoData}, 0, false, false, "no spot price yet"},
		{"on", spot.Assessment{Market: c3a, Price: 0.05, Threshold: 0.21, Action: spot.Stay}, 0, false, true, "on spot"},
	} {
		ms := MarketStateOf(tc.a, tc.because)
		if ms.Off != tc.off || ms.Fresh != tc.fresh || !strings.Contains(ms.Reason, tc.want) {
			t.Errorf("%s: %+v, want off=%v fresh=%v and %q", tc.name, ms, tc.off, tc.fresh, tc.want)
		}
	}
}

func TestOutlookOf(t *testing.T) {
	states := map[prices.Market]MarketState{
		c3a: {Market: c3a, Off: true, Fresh: true, Reason: "c3 off", Since: now.Add(-time.Hour), EarliestBack: now.Add(5 * time.Hour)},
		r3a: {Market: r3a, Fresh: false, Reason: "r3 stale"},
	}
	o := OutlookOf([]prices.Market{c3a, r3a}, states)
	if !o.OffSpot || len(o.Markets) != 1 || o.Fresh() || !o.Since.Equal(now.Add(-time.Hour)) {
		t.Errorf("outlook %+v", o)
	}
	for _, want := range []string{"c3 off", "back to spot no earlier than 17:00 UTC if calm", "held: r3 stale"} {
		if !strings.Contains(o.Reason, want) {
			t.Errorf("reason %q lacks %q", o.Reason, want)
		}
	}
	if o := OutlookOf([]prices.Market{r3a}, states); o.OffSpot || o.Fresh() {
		t.Errorf("stale only: %+v, want on spot and not fresh", o)
	}
	unknown := prices.Market{InstanceType: "x", Zone: "z", Product: prices.ProductLinux}
	if o := OutlookOf([]prices.Market{unknown}, states); o.OffSpot || o.Fresh() || !strings.Contains(o.Unfresh[0], "no spot price yet") {
		t.Errorf("no price: %+v", o)
	}
	if o := OutlookOf(nil, states); o.OffSpot || !o.Fresh() {
		t.Errorf("exposed to nothing: %+v", o)
	}
}

func TestExposure(t *testing.T) {
	nodes := Nodes([]*corev1.Node{node("spot-1", capacity.Spot, "c3.xlarge"), node("spot-3", capacity.Spot, "r3.large"), node("od-1", capacity.OnDemand, "m5.large")},
		settings, config.DefaultPlacerSettings(), prices.ProductLinux)
	running := []*corev1.Pod{pod("b", "b1", "spot-1", capacity.Spot, false)}
	tpl := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}
	onlyR3 := tpl.DeepCopy()
	onlyR3.NodeSelector = map[string]string{LabelInstanceType: "r3.large"}
	pinned := tpl.DeepCopy()
	pinned.NodeSelector = map[string]string{settings.CapacityTypeLabel: "on-demand"}
	for _, tc := range []struct {
		name string
		tpl  *corev1.PodSpec
		pods []*corev1.Pod
		want string
	}{
		{"a template that may go anywhere on spot", tpl, nil, "c3.xlarge/us-east-1a/Linux/UNIX r3.large/us-east-1a/Linux/UNIX"},
		{"a nodeSelector narrows it", onlyR3, nil, "r3.large/us-east-1a/Linux/UNIX"},
		{"running pods count too", onlyR3, running, "c3.xlarge/us-east-1a/Linux/UNIX r3.large/us-east-1a/Linux/UNIX"},
		{"pinned to on-demand by its owner", pinned, nil, ""},
		{"no template", nil, running, "c3.xlarge/us-east-1a/Linux/UNIX"},
	} {
		var got []string
		for _, m := range Exposure(tc.tpl, tc.pods, nodes, settings) {
			got = append(got, m.String())
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
	// A node the node lifecycle controller tainted for a moment (kwok or a
	// kubelet renewing its lease late) is still in its market: new pods
	// land there once the taint lifts, so the workload stays exposed.
	for _, key := range []string{corev1.TaintNodeUnreachable, corev1.TaintNodeNotReady, corev1.TaintNodeMemoryPressure} {
		nodes["spot-3"].Node.Spec.Taints = append([]corev1.Taint{{Key: key, Effect: corev1.TaintEffectNoSchedule}}, settings.SpotTaint)
		if got := Exposure(onlyR3, nil, nodes, settings); len(got) != 1 {
			t.Errorf("a node tainted %s is not counted: %v (%v)", key, got, nodes["spot-3"].Node.Spec.Taints)
		}
	}
	// A taint the template does not tolerate keeps it off the node.
	nodes["spot-3"].Node.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}, settings.SpotTaint}
	if got := Exposure(onlyR3, nil, nodes, settings); len(got) != 0 {
		t.Errorf("a node with an untolerated taint counted: %v", got)
	}
	// An interrupted spot node is not counted: it is going away.
	nodes["spot-3"].Node.Spec.Taints = []corev1.Taint{settings.SpotTaint}
	nodes["spot-3"].Interrupted = "taint x"
	if got := Exposure(onlyR3, nil, nodes, settings); len(got) != 0 {
		t.Errorf("interrupted node counted: %v", got)
	}
}

func TestNodes(t *testing.T) {
	unlabelled := node("bare", capacity.Spot, "c3.xlarge")
	delete(unlabelled.Labels, settings.CapacityTypeLabel)
	odd := node("odd", "reserved", "c3.xlarge")
	noZone := node("nozone", capacity.Spot, "c3.xlarge")
	delete(noZone.Labels, LabelZone)
	ns := Nodes([]*corev1.Node{unlabelled, odd, noZone, nil, node("spot-1", capacity.Spot, "c3.xlarge")}, settings, config.DefaultPlacerSettings(), prices.ProductLinux)
	for name, want := range map[string]string{
		"bare":   "node bare has no karpenter.sh/capacity-type label",
		"odd":    `node odd has karpenter.sh/capacity-type="reserved", neither "spot" nor "on-demand"`,
		"nozone": "spot node nozone has no topology.kubernetes.io/zone label: its market is unknown",
	} {
		if got := ns[name].Problem; got == "" || !strings.Contains(got, want) {
			t.Errorf("%s: problem %q, want %q", name, got, want)
		}
	}
	if got := Markets(ns); len(got) != 1 || got[0] != c3a {
		t.Errorf("markets %v, want only c3a (the one priced spot node)", got)
	}
}

func TestReplacement(t *testing.T) {
	p := pod("b", "b1", "spot-1", capacity.Spot, false)
	// The owner's own required term survives, trimtab's requirement does not.
	p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
		{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpIn, Values: []string{"ssd"}}, {Key: settings.CapacityTypeLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"spot"}}}},
	}}
	r := Replacement(p, capacity.Placement{Type: capacity.OnDemand, Required: true}, settings)
	if r.Spec.NodeName != "" || r.Name != p.Name {
		t.Errorf("replacement node %q name %q", r.Spec.NodeName, r.Name)
	}
	na := r.Spec.Affinity.NodeAffinity
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 2 || terms[0].MatchExpressions[1].Values[0] != "on-demand" || terms[0].MatchExpressions[0].Key != "disk" {
		t.Errorf("required terms %+v", terms)
	}
	if len(na.PreferredDuringSchedulingIgnoredDuringExecution) != 0 {
		t.Errorf("spot preference kept: %+v", na.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if p.Spec.NodeName != "spot-1" || len(p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions) != 2 {
		t.Error("the original pod was changed")
	}
	// Back to spot: a preferred term and the toleration, once.
	b := Replacement(r, capacity.Placement{Type: capacity.Spot}, settings)
	if pref := b.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution; len(pref) != 1 || pref[0].Weight != 100 {
		t.Errorf("preferred %+v", pref)
	}
	if n := len(b.Spec.Tolerations); n != 1 {
		t.Errorf("%d tolerations, want the spot one once", n)
	}
}
