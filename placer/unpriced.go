package placer

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// Unpriced says, once per node, why the workload's live pods on spot nodes
// without a market (no instance-type or zone label) can never be moved by
// a price: "2 pod(s) on spot node x, which has no … label: …". Exposure
// leaves such nodes out, so without this the workload's outlook reads
// "no market its pods use is predicted to spike" while no price is ever
// read for them. Sorted; nil when there are none.
func Unpriced(pods []*corev1.Pod, nodes map[string]*NodeInfo) []string {
	n := map[string]int{}
	for _, p := range pods {
		if !live(p) {
			continue
		}
		if ni := nodes[p.Spec.NodeName]; ni != nil && ni.Capacity == capacity.Spot && !ni.Priced {
			n[p.Spec.NodeName]++
		}
	}
	var out []string
	for name, k := range n {
		var missing []string
		for _, l := range []string{LabelInstanceType, LabelZone} {
			if nodes[name].Node.Labels[l] == "" {
				missing = append(missing, l)
			}
		}
		out = append(out, fmt.Sprintf("%d pod(s) on spot node %s, which has no %s label: its market is unknown, so no spot price moves them",
			k, name, strings.Join(missing, " or ")))
	}
	sort.Strings(out)
	return out
}
