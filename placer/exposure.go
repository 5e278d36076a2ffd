package placer

import (
	"sort"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/prices"
)

// Exposure lists the spot markets a workload's pods may run in: the
// markets of the spot nodes its pods run on now, and of the spot nodes a
// new pod of its template could be scheduled to once the webhook has
// stamped it for spot (kube-scheduler's node affinity, nodeSelector and
// taint rules, with the spot toleration added; resources are not
// considered, since room comes and goes). A new pod admitted while one of
// these markets is forecast to spike would be exposed to it, so the
// workload's outlook is off spot while any of them is off.
//
// template may be nil (only the running pods count). Nodes that carry an
// interruption signal do not count: they are going away.
func Exposure(template *corev1.PodSpec, pods []*corev1.Pod, nodes map[string]*NodeInfo, s config.Settings) []prices.Market {
	seen := map[prices.Market]bool{}
	for _, p := range pods {
		if ni := nodes[p.Spec.NodeName]; ni != nil && ni.Capacity == capacity.Spot && ni.Priced {
			seen[ni.Market] = true
		}
	}
	if template != nil {
		pod := &corev1.Pod{Spec: *template.DeepCopy()}
		if !PinsCapacity(&pod.Spec, s.CapacityTypeLabel) {
			// What the webhook stamps for spot; a template that pins the
			// capacity type itself is left as the webhook leaves it.
			applyPlacement(pod, capacity.Placement{Type: capacity.Spot, Required: true}, s)
		}
		aff := nodeaffinity.GetRequiredNodeAffinity(pod)
		for _, ni := range nodes {
			if ni.Capacity != capacity.Spot || !ni.Priced || ni.Interrupted != "" || seen[ni.Market] {
				continue
			}
			if ok, err := aff.Match(ni.Node); err != nil || !ok {
				continue
			}
			if _, untolerated := corev1helpers.FindMatchingUntoleratedTaint(logr.Discard(), ni.Node.Spec.Taints, pod.Spec.Tolerations, hardTaint, false); untolerated {
				continue
			}
			seen[ni.Market] = true
		}
	}
	out := make([]prices.Market, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// PinsCapacity says whether a pod spec constrains the capacity-type label
// itself (nodeSelector or node affinity), as the webhook's userPinned
// does: trimtab then leaves its placement to the user.
func PinsCapacity(spec *corev1.PodSpec, label string) bool {
	if _, ok := spec.NodeSelector[label]; ok {
		return true
	}
	if spec.Affinity == nil || spec.Affinity.NodeAffinity == nil {
		return false
	}
	na := spec.Affinity.NodeAffinity
	mentions := func(t corev1.NodeSelectorTerm) bool {
		for _, r := range t.MatchExpressions {
			if r.Key == label {
				return true
			}
		}
		return false
	}
	if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
		for _, t := range r.NodeSelectorTerms {
			if mentions(t) {
				return true
			}
		}
	}
	for _, t := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		if mentions(t.Preference) {
			return true
		}
	}
	return false
}

// hardTaint selects the taints that keep a pod off a node (kube-scheduler's
// TaintToleration filter: NoSchedule and NoExecute), leaving out the node
// lifecycle controller's condition taints: they come and go with a node's
// heartbeat (a kubelet, or kwok, renewing its lease late), and a node
// tainted not-ready for a moment is still in its market. Counting them
// flipped a workload's outlook to spot for a round while its market was
// off (found by the e2e spike replay).
func hardTaint(t *corev1.Taint) bool {
	if conditionTaints[t.Key] {
		return false
	}
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

// conditionTaints are the taints the node lifecycle controller sets from
// node conditions (k8s.io/api/core/v1 well_known_taints.go).
var conditionTaints = map[string]bool{
	corev1.TaintNodeNotReady:           true,
	corev1.TaintNodeUnreachable:        true,
	corev1.TaintNodeMemoryPressure:     true,
	corev1.TaintNodeDiskPressure:       true,
	corev1.TaintNodePIDPressure:        true,
	corev1.TaintNodeNetworkUnavailable: true,
}
