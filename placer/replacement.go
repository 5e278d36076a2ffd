package placer

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/capacity/stamp"
)

// Replacement is the pod a controller creates for p after its eviction,
// as the webhook stamps it for placement pl: p's spec without its node
// and without trimtab's capacity affinity, then the affinity (and, for
// spot, the toleration) the webhook injects for pl, by the same rule
// (decider/capacity/stamp). It keeps p's name, so placing it in a fit.Cluster
// takes p off its node first, as the eviction does.
func Replacement(p *corev1.Pod, pl capacity.Placement, s config.Settings) *corev1.Pod {
	r := &corev1.Pod{ObjectMeta: *p.ObjectMeta.DeepCopy(), Spec: *p.Spec.DeepCopy()}
	r.Spec.NodeName = ""
	r.Spec.Affinity = stripCapacity(r.Spec.Affinity, s.CapacityTypeLabel)
	applyPlacement(r, pl, s)
	return r
}

// stripCapacity removes node affinity on the capacity-type label: the
// requirement the webhook joined to each required term, and preferred terms
// on that label alone. A required term left empty (it held only the
// capacity requirement) is dropped, and the required selector with it when
// none is left: an empty term would match no node.
func stripCapacity(a *corev1.Affinity, label string) *corev1.Affinity {
	if a == nil || a.NodeAffinity == nil {
		return a
	}
	na := a.NodeAffinity
	isCapacity := func(r corev1.NodeSelectorRequirement) bool { return r.Key == label }
	if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
		var terms []corev1.NodeSelectorTerm
		for _, t := range req.NodeSelectorTerms {
			t.MatchExpressions = slices.DeleteFunc(slices.Clone(t.MatchExpressions), isCapacity)
			if len(t.MatchExpressions) > 0 || len(t.MatchFields) > 0 {
				terms = append(terms, t)
			}
		}
		if len(terms) == 0 {
			na.RequiredDuringSchedulingIgnoredDuringExecution = nil
		} else {
			req.NodeSelectorTerms = terms
		}
	}
	na.PreferredDuringSchedulingIgnoredDuringExecution = slices.DeleteFunc(na.PreferredDuringSchedulingIgnoredDuringExecution,
		func(t corev1.PreferredSchedulingTerm) bool {
			return len(t.Preference.MatchFields) == 0 && len(t.Preference.MatchExpressions) > 0 && !slices.ContainsFunc(t.Preference.MatchExpressions, func(r corev1.NodeSelectorRequirement) bool { return !isCapacity(r) })
		})
	return a
}

// applyPlacement stamps pl on pod as the webhook does (decider/capacity/stamp).
func applyPlacement(pod *corev1.Pod, pl capacity.Placement, s config.Settings) {
	stamp.Affinity(pod, pl.Type, pl.Required, s)
	stamp.Toleration(pod, pl.Type, s)
}
