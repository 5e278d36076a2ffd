package placer

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/config"
)

// TestUnpriced: pods on a spot node missing the instance-type or zone
// label are named with the node's problem, once per node; pods on priced
// spot nodes, on-demand nodes, finished and terminating pods are not.
func TestUnpriced(t *testing.T) {
	s, p := config.DefaultSettings(), config.DefaultPlacerSettings()
	node := func(name, capType string, labels map[string]string) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{s.CapacityTypeLabel: capType}}}
		for k, v := range labels {
			n.Labels[k] = v
		}
		return n
	}
	nodes := Nodes([]*corev1.Node{
		node("priced", s.SpotValue, map[string]string{LabelInstanceType: "c3.xlarge", LabelZone: "us-east-1a"}),
		node("notype", s.SpotValue, map[string]string{LabelZone: "us-east-1a"}),
		node("nothing", s.SpotValue, nil),
		node("od", s.OnDemandValue, nil),
	}, s, p, "Linux/UNIX")
	pod := func(name, node string, phase corev1.PodPhase, deleting bool) *corev1.Pod {
		po := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
		if deleting {
			po.DeletionTimestamp = &metav1.Time{Time: time.Unix(0, 0)}
		}
		return po
	}
	got := Unpriced([]*corev1.Pod{
		pod("a", "notype", corev1.PodRunning, false),
		pod("b", "notype", corev1.PodRunning, false),
		pod("c", "notype", corev1.PodSucceeded, false),
		pod("d", "nothing", corev1.PodRunning, false),
		pod("e", "nothing", corev1.PodRunning, true),
		pod("f", "priced", corev1.PodRunning, false),
		pod("g", "od", corev1.PodRunning, false),
		pod("h", "", corev1.PodPending, false),
	}, nodes)
	want := []string{
		"1 pod(s) on spot node nothing, which has no node.kubernetes.io/instance-type or topology.kubernetes.io/zone label: its market is unknown, so no spot price moves them",
		"2 pod(s) on spot node notype, which has no node.kubernetes.io/instance-type label: its market is unknown, so no spot price moves them",
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] got %q, want %q", i, got[i], want[i])
		}
	}
}
