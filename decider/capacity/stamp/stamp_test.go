package stamp

import (
	"testing"

	"github.com/go-logr/logr"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// A required placement joins every term the pod already has (terms are
// ORed, so a requirement in one alone would not bind); a preferred one adds
// a term at the maximum weight.
func TestAffinity(t *testing.T) {
	s := config.DefaultSettings()
	pod := &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}},
		}}}}}}
	if got, want := Affinity(pod, capacity.OnDemand, true, s), "required node affinity "+s.CapacityTypeLabel+"="+s.OnDemandValue; got != want {
		t.Errorf("said %q, want %q", got, want)
	}
	for i, term := range pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		last := term.MatchExpressions[len(term.MatchExpressions)-1]
		if len(term.MatchExpressions) != 2 || last.Key != s.CapacityTypeLabel || last.Values[0] != s.OnDemandValue {
			t.Errorf("term %d = %+v: want its zone and the capacity requirement", i, term.MatchExpressions)
		}
	}

	pod = &corev1.Pod{}
	Affinity(pod, capacity.Spot, false, s)
	pref := pod.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	if len(pref) != 1 || pref[0].Weight != PreferredWeight || pref[0].Preference.MatchExpressions[0].Values[0] != s.SpotValue {
		t.Errorf("preferred = %+v, want one spot term at weight %d", pref, PreferredWeight)
	}
	if pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		t.Error("a preferred placement added a required selector")
	}
}

// Only spot pods get the toleration, once: a pod that tolerates the taint
// keeps its own.
func TestToleration(t *testing.T) {
	s := config.DefaultSettings()
	pod := &corev1.Pod{}
	if injected, kept := Toleration(pod, capacity.OnDemand, s); injected != "" || kept || len(pod.Spec.Tolerations) != 0 {
		t.Errorf("on-demand: injected %q, kept %v, tolerations %v; want nothing", injected, kept, pod.Spec.Tolerations)
	}
	injected, kept := Toleration(pod, capacity.Spot, s)
	if injected == "" || kept || len(pod.Spec.Tolerations) != 1 || !pod.Spec.Tolerations[0].ToleratesTaint(logr.Discard(), &s.SpotTaint, false) {
		t.Fatalf("spot: injected %q, kept %v, tolerations %v; want the spot taint tolerated", injected, kept, pod.Spec.Tolerations)
	}
	if injected, kept := Toleration(pod, capacity.Spot, s); injected != "" || !kept || len(pod.Spec.Tolerations) != 1 {
		t.Errorf("again: injected %q, kept %v, %d tolerations; want the pod's own kept", injected, kept, len(pod.Spec.Tolerations))
	}
	s.SpotTaint = corev1.Taint{}
	if injected, _ := Toleration(&corev1.Pod{}, capacity.Spot, s); injected != "" {
		t.Errorf("no spot taint: injected %q", injected)
	}
}
