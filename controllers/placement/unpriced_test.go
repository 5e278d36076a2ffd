package placement

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/placer"
)

// TestOutlookNamesSpotNodesWithoutAMarket: a batch workload whose pods run
// on a spot node without the instance-type label has no market, so no
// price ever moves them. Its Decision's outlook and PricesFresh condition
// say so, naming the node and the label, instead of "no market its pods
// use is predicted to spike" and "every market … fresh" alone (found
// trying the demo cluster by hand: a node without the label was silent).
func TestOutlookNamesSpotNodesWithoutAMarket(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	d := &v1alpha1.Decision{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "orphan"},
		Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "orphan"}}}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	s, ps := config.DefaultSettings(), config.DefaultPlacerSettings()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "spot-nolabel",
		Labels: map[string]string{s.CapacityTypeLabel: s.SpotValue, placer.LabelZone: "us-east-1a"}}}
	infos := placer.Nodes([]*corev1.Node{node}, s, ps, "Linux/UNIX")
	pods := []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "orphan-1"}, Spec: corev1.PodSpec{NodeName: node.Name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		{ObjectMeta: metav1.ObjectMeta{Name: "orphan-2"}, Spec: corev1.PodSpec{NodeName: node.Name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
	}
	w := &placer.Workload{Key: keyOfDecision(d), Class: config.ClassBatch, Pods: pods,
		Outlook: placer.OutlookOf(placer.Exposure(nil, pods, infos, s), nil)}
	ctl := &Controller{Client: c, Prices: &Prices{}}
	if err := ctl.recordOutlook(ctx, d, w, infos, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := &v1alpha1.Decision{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	want := "2 pod(s) on spot node spot-nolabel, which has no node.kubernetes.io/instance-type label: its market is unknown, so no spot price moves them"
	p := got.Status.Placement
	if p == nil || p.Outlook == nil || !strings.Contains(p.Outlook.Reason, want) {
		t.Errorf("outlook %+v does not say %q", p, want)
	}
	if p != nil && (len(p.Conditions) == 0 || !strings.Contains(p.Conditions[0].Message, want)) {
		t.Errorf("conditions %+v do not say %q", p.Conditions, want)
	}
}
