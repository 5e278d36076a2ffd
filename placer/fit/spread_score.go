package fit

import (
	"math"

	corev1 "k8s.io/api/core/v1"
)

// PodTopologySpread's scoring (podtopologyspread/scoring.go): the
// ScheduleAnyway constraints, or the system defaults, favour the nodes whose
// domains hold fewer matching pods.

// scoreSpread is PodTopologySpread's PreScore, Score and NormalizeScore over
// the feasible nodes; ok is false when the plugin skips (no soft
// constraints).
func (c *Cluster) scoreSpread(cy *cycle, feasible []int, out []int64) (ok bool, err error) {
	pod := cy.p.pod
	ks, err := c.constraintsOf(pod, corev1.ScheduleAnyway)
	if err != nil || len(ks) == 0 {
		return false, err
	}
	cols := c.columnsOf(ks)
	// Only a pod's own constraints need every topology key on a node;
	// system defaults let a node without a zone still spread by hostname.
	requireAll := len(pod.Spec.TopologySpreadConstraints) > 0
	ignored := c.scratch.flags(len(c.nodes))
	counts := make([][]int64, len(ks))
	tracked := make([][]bool, len(ks))
	size := make([]int, len(ks))
	for i := range ks {
		if ks[i].key == corev1.LabelHostname {
			continue // counted per node
		}
		counts[i] = make([]int64, len(cols[i].names)+1) // +1: the node without the label ("")
		tracked[i] = make([]bool, len(cols[i].names)+1)
	}
	slot := func(i, n int) int { // a missing label counts as the value ""
		if v := cols[i].value[n]; v >= 0 {
			return int(v)
		}
		if id, ok := cols[i].ids[""]; ok {
			return int(id)
		}
		return len(cols[i].names)
	}
	nIgnored := 0
	for _, f := range feasible {
		if requireAll && !hasAllKeys(cols, f) {
			ignored[f] = true
			nIgnored++
			continue
		}
		for i := range ks {
			if ks[i].key == corev1.LabelHostname {
				continue
			}
			if v := slot(i, f); !tracked[i][v] {
				tracked[i][v] = true
				size[i]++
			}
		}
	}
	weight := make([]float64, len(ks))
	for i := range ks {
		sz := size[i]
		if ks[i].key == corev1.LabelHostname {
			sz = len(feasible) - nIgnored
		}
		weight[i] = math.Log(float64(sz + 2))
	}
	// Pods on nodes without the key would count under "", a domain no node
	// scores, so the per-value sums serve whenever no node is left out.
	walk := false
	for i := range ks {
		k := &ks[i]
		if k.key == corev1.LabelHostname || k.counts == nil {
			continue
		}
		if requireAll && !everyNodeCounts(cy, k, cols) || !requireAll && !everyNodeCounts(cy, k, nil) {
			walk = true
			continue
		}
		for v, cnt := range k.counts.perValue(cols[i]) {
			counts[i][v] = int64(cnt)
		}
	}
	for _, n := range c.nodes {
		if !walk {
			break
		}
		if requireAll && !hasAllKeys(cols, n.idx) {
			continue
		}
		for i := range ks {
			k := &ks[i]
			if k.key == corev1.LabelHostname || k.counts == nil {
				continue
			}
			if requireAll && everyNodeCounts(cy, k, cols) || !requireAll && everyNodeCounts(cy, k, nil) {
				continue // summed above
			}
			if v := slot(i, n.idx); tracked[i][v] && c.included(cy, k, n) {
				counts[i][v] += int64(k.counts.perNode[n.idx])
			}
		}
	}
	for j, f := range feasible {
		if ignored[f] {
			out[j] = -1
			continue
		}
		var score float64
		for i := range ks {
			k := &ks[i]
			v := cols[i].value[f]
			if v < 0 {
				continue
			}
			var cnt int64
			if k.key == corev1.LabelHostname {
				if k.counts != nil {
					cnt = int64(k.counts.perNode[f])
				}
			} else {
				cnt = counts[i][v]
			}
			score += float64(cnt)*weight[i] + float64(k.maxSkew-1)
		}
		out[j] = int64(math.Round(score))
	}
	// NormalizeScore: fewer matching pods score higher; ignored nodes 0.
	minS, maxS := int64(math.MaxInt64), int64(0)
	for j, f := range feasible {
		if ignored[f] {
			continue
		}
		minS, maxS = min(minS, out[j]), max(maxS, out[j])
	}
	for j, f := range feasible {
		switch {
		case ignored[f]:
			out[j] = 0
		case maxS == 0:
			out[j] = maxNodeScore
		default:
			out[j] = maxNodeScore * (maxS + minS - out[j]) / maxS
		}
	}
	return true, nil
}
