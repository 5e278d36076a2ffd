package mutating

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity/stamp"
)

// A step is one concern of the pod mutation: it changes the pod for the
// decision and records what it injected, or what the user had set and it
// kept, on the decision. Steps run in order and only in enforce mode.
type step func(pod *corev1.Pod, d *PodDecision, s config.Settings)

// steps are the mutation steps, in order. The decider's request sizing joins
// this list as its own step.
var steps = []step{capacityAffinity, spotToleration, baseDeletionCost}

// capacityAffinity steers the pod to nodes of the chosen capacity type with
// node affinity on s.CapacityTypeLabel: required, or preferred with the
// maximum weight (decider/capacity/stamp, which the placer's simulation
// uses too).
func capacityAffinity(pod *corev1.Pod, d *PodDecision, s config.Settings) {
	d.Injected = append(d.Injected, stamp.Affinity(pod, d.Placement, d.Required, s))
}

// spotToleration lets a pod placed on spot tolerate the spot taint. A pod
// that already tolerates it keeps its own toleration.
func spotToleration(pod *corev1.Pod, d *PodDecision, s config.Settings) {
	injected, kept := stamp.Toleration(pod, d.Placement, s)
	if kept {
		d.Kept = append(d.Kept, "the pod's own toleration for "+s.SpotTaint.Key)
	}
	if injected != "" {
		d.Injected = append(d.Injected, injected)
	}
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
