// Package stamp is the one rule for stamping a capacity placement on a pod:
// node affinity on the capacity-type label (required, or preferred at the
// maximum weight) and, on spot, a toleration of the spot taint. The
// mutating webhook stamps new pods with it and the placer stamps the
// replacements it simulates with it, so the two agree on where a pod may
// land.
package stamp

import (
	"fmt"
	"slices"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// PreferredWeight is the weight of a preferred node affinity term: the
// maximum, so the preference for spot outweighs spreading and bin-packing
// scores (NodeAffinity's score plugin weight is 2 in the default profile).
const PreferredWeight = 100

// Affinity steers pod to nodes of capacity type t with node affinity on
// s.CapacityTypeLabel, required or preferred, and says what it added.
func Affinity(pod *corev1.Pod, t capacity.Type, required bool, s config.Settings) string {
	value := s.OnDemandValue
	if t == capacity.Spot {
		value = s.SpotValue
	}
	req := corev1.NodeSelectorRequirement{Key: s.CapacityTypeLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{value}}
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &corev1.Affinity{}
	}
	if pod.Spec.Affinity.NodeAffinity == nil {
		pod.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := pod.Spec.Affinity.NodeAffinity
	if !required {
		na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.PreferredSchedulingTerm{Weight: PreferredWeight, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{req}}})
		return fmt.Sprintf("preferred node affinity %s=%s (weight %d)", s.CapacityTypeLabel, value, PreferredWeight)
	}
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	ns := na.RequiredDuringSchedulingIgnoredDuringExecution
	if len(ns.NodeSelectorTerms) == 0 {
		ns.NodeSelectorTerms = []corev1.NodeSelectorTerm{{}}
	}
	// Terms are ORed: the requirement must join every one of them.
	for i := range ns.NodeSelectorTerms {
		ns.NodeSelectorTerms[i].MatchExpressions = append(ns.NodeSelectorTerms[i].MatchExpressions, req)
	}
	return fmt.Sprintf("required node affinity %s=%s", s.CapacityTypeLabel, value)
}

// Toleration lets a pod placed on spot tolerate s.SpotTaint. injected says
// what it added ("" when nothing); kept is true when the pod already
// tolerated the taint and keeps its own toleration. Off spot, or with no
// spot taint, it does nothing.
func Toleration(pod *corev1.Pod, t capacity.Type, s config.Settings) (injected string, kept bool) {
	if t != capacity.Spot || s.SpotTaint.Key == "" {
		return "", false
	}
	taint := s.SpotTaint
	if slices.ContainsFunc(pod.Spec.Tolerations, func(t corev1.Toleration) bool { return t.ToleratesTaint(logr.Discard(), &taint, false) }) {
		return "", true
	}
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
		Key: taint.Key, Operator: corev1.TolerationOpEqual, Value: taint.Value, Effect: taint.Effect,
	})
	return fmt.Sprintf("toleration %s=%s:%s", taint.Key, taint.Value, taint.Effect), false
}
