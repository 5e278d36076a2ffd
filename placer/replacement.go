package placer

import (
	"slices"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// preferredWeight is the weight of the webhook's preferred capacity term
// (webhook/mutating/steps.go).
const preferredWeight = 100

// Replacement is the pod a controller creates for p after its eviction,
// as the webhook stamps it for placement pl: p's spec without its node
// and without trimtab's capacity affinity, then the affinity (and, for
// spot, the toleration) the webhook's capacityAffinity and spotToleration
// steps inject for pl. It keeps p's name, so placing it in a fit.Cluster
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

// applyPlacement stamps pl on pod as the webhook's capacityAffinity and
// spotToleration steps do.
func applyPlacement(pod *corev1.Pod, pl capacity.Placement, s config.Settings) {
	value := s.OnDemandValue
	if pl.Type == capacity.Spot {
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
	if pl.Required {
		if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
		}
		ns := na.RequiredDuringSchedulingIgnoredDuringExecution
		if len(ns.NodeSelectorTerms) == 0 {
			ns.NodeSelectorTerms = []corev1.NodeSelectorTerm{{}}
		}
		for i := range ns.NodeSelectorTerms {
			ns.NodeSelectorTerms[i].MatchExpressions = append(ns.NodeSelectorTerms[i].MatchExpressions, req)
		}
	} else {
		na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.PreferredSchedulingTerm{Weight: preferredWeight, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{req}}})
	}
	if pl.Type != capacity.Spot || s.SpotTaint.Key == "" {
		return
	}
	taint := s.SpotTaint
	if slices.ContainsFunc(pod.Spec.Tolerations, func(t corev1.Toleration) bool { return t.ToleratesTaint(logr.Discard(), &taint, false) }) {
		return
	}
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{Key: taint.Key, Operator: corev1.TolerationOpEqual, Value: taint.Value, Effect: taint.Effect})
}
