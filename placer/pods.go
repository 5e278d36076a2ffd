package placer

import (
	"encoding/json"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// LabelPlacement is the label the webhook puts on every pod it placed
// (webhook/mutating.LabelPlacement): the capacity type it chose.
const LabelPlacement = config.Prefix + "placement"

// podDecision is the part of the webhook's decision annotation
// (config.AnnotationDecisionJSON, written by webhook/mutating.PodDecision)
// the placer reads.
type podDecision struct {
	Placement capacity.Type `json:"placement,omitempty"`
	Base      bool          `json:"base,omitempty"`
	Kept      []string      `json:"kept,omitempty"`
}

// decisionOf reads the webhook's decision on a pod; ok is false when there
// is none or it does not parse (a pod admitted while trimtab was down).
func decisionOf(p *corev1.Pod) (d podDecision, ok bool) {
	raw, found := p.Annotations[config.AnnotationDecisionJSON]
	if !found || json.Unmarshal([]byte(raw), &d) != nil {
		return podDecision{}, false
	}
	return d, true
}

// userPlaced says the webhook left the pod's placement to its owner (the
// pod pins the capacity-type label itself): trimtab does not move it.
func userPlaced(p *corev1.Pod) bool {
	d, ok := decisionOf(p)
	return ok && d.Placement == "" && len(d.Kept) > 0
}

// live says the pod occupies a node: bound, not finished, not terminating.
func live(p *corev1.Pod) bool {
	return p.Spec.NodeName != "" && p.DeletionTimestamp == nil &&
		p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// newestFirst orders pods by creation time, newest first, then by name: a
// move takes the pods that have done the least work.
func newestFirst(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i].CreationTimestamp, pods[j].CreationTimestamp
		if !a.Equal(&b) {
			return b.Before(&a)
		}
		return pods[i].Name < pods[j].Name
	})
}
