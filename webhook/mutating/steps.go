package mutating

import (
	"fmt"
	"slices"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// A step is one concern of the pod mutation: it changes the pod for the
// decision and records what it injected, or what the user had set and it
// kept, on the decision. Steps run in order and only in enforce mode.
type step func(pod *corev1.Pod, d *PodDecision, s config.Settings)

// steps are the mutation steps, in order. The decider's request sizing joins
// this list as its own step.
var steps = []step{capacityAffinity, spotToleration, baseDeletionCost}

// preferredWeight is the weight of an injected preferred node affinity term:
// the maximum, so preference for spot outweighs spreading and bin-packing
// scores (NodeAffinity's score plugin weight is 2 in the default profile).
const preferredWeight = 100

// capacityAffinity steers the pod to nodes of the chosen capacity type with
// node affinity on s.CapacityTypeLabel: required, or preferred with the
// maximum weight.
func capacityAffinity(pod *corev1.Pod, d *PodDecision, s config.Settings) {
	value := s.OnDemandValue
	if d.Placement == capacity.Spot {
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
	if d.Required {
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
		d.Injected = append(d.Injected, fmt.Sprintf("required node affinity %s=%s", s.CapacityTypeLabel, value))
		return
	}
	na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.PreferredSchedulingTerm{Weight: preferredWeight, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{req}}})
	d.Injected = append(d.Injected, fmt.Sprintf("preferred node affinity %s=%s (weight %d)", s.CapacityTypeLabel, value, preferredWeight))
}

// spotToleration lets a pod placed on spot tolerate the spot taint. A pod
// that already tolerates it keeps its own toleration.
func spotToleration(pod *corev1.Pod, d *PodDecision, s config.Settings) {
	if d.Placement != capacity.Spot || s.SpotTaint.Key == "" {
		return
	}
	taint := s.SpotTaint
	if slices.ContainsFunc(pod.Spec.Tolerations, func(t corev1.Toleration) bool { return t.ToleratesTaint(logr.Discard(), &taint, false) }) {
		d.Kept = append(d.Kept, "the pod's own toleration for "+taint.Key)
		return
	}
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
		Key: taint.Key, Operator: corev1.TolerationOpEqual, Value: taint.Value, Effect: taint.Effect,
	})
	d.Injected = append(d.Injected, fmt.Sprintf("toleration %s=%s:%s", taint.Key, taint.Value, taint.Effect))
}

// AnnotationPodDeletionCost is the ReplicaSet controller's scale-in
// preference: among otherwise equal pods, the lower cost goes first.
// https://kubernetes.io/docs/reference/labels-annotations-taints/#pod-deletion-cost
const AnnotationPodDeletionCost = "controller.kubernetes.io/pod-deletion-cost"

// baseCost is the deletion cost trimtab gives the pods of a workload's
// on-demand base; the others keep the default 0.
const baseCost = "100"

// baseDeletionCost marks a pod that fills the on-demand base as the last to
// go on a scale-in, so scaling in removes spot pods first and the base
// survives it (a Deployment's ReplicaSet honours the annotation; a
// StatefulSet removes the highest ordinal whatever it says). A cost the
// user set is kept.
func baseDeletionCost(pod *corev1.Pod, d *PodDecision, _ config.Settings) {
	if !d.Base {
		return
	}
	if v, ok := pod.Annotations[AnnotationPodDeletionCost]; ok {
		d.Kept = append(d.Kept, fmt.Sprintf("the pod's own %s %s", AnnotationPodDeletionCost, v))
		return
	}
	if annotationsSize(pod.Annotations)+len(AnnotationPodDeletionCost)+len(baseCost) > annotationLimit {
		// The pod would be refused; it keeps its place, not its cost.
		d.Reason += "; no " + AnnotationPodDeletionCost + ": the pod's annotations are at the 256 KiB limit"
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationPodDeletionCost] = baseCost
	d.Injected = append(d.Injected, fmt.Sprintf("%s %s (the base goes last on scale-in)", AnnotationPodDeletionCost, baseCost))
}

// userPinned describes how the pod already constrains the capacity-type
// label itself (a nodeSelector or a node affinity term), or "" if it does
// not. trimtab then leaves placement to the user.
func userPinned(pod *corev1.Pod, label string) string {
	if v, ok := pod.Spec.NodeSelector[label]; ok {
		return fmt.Sprintf("the pod's nodeSelector %s=%s", label, v)
	}
	if pod.Spec.Affinity == nil || pod.Spec.Affinity.NodeAffinity == nil {
		return ""
	}
	na := pod.Spec.Affinity.NodeAffinity
	mentions := func(t corev1.NodeSelectorTerm) bool {
		return slices.ContainsFunc(t.MatchExpressions, func(r corev1.NodeSelectorRequirement) bool { return r.Key == label })
	}
	if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil && slices.ContainsFunc(r.NodeSelectorTerms, mentions) {
		return "the pod's required node affinity on " + label
	}
	if slices.ContainsFunc(na.PreferredDuringSchedulingIgnoredDuringExecution, func(t corev1.PreferredSchedulingTerm) bool { return mentions(t.Preference) }) {
		return "the pod's preferred node affinity on " + label
	}
	return ""
}
