package fit

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// maxNodeScore is framework.MaxNodeScore: every plugin scores 0..100, then
// its weight multiplies.
const maxNodeScore int64 = 100

// The score plugins of kube-scheduler's default profile that fit runs, with
// their default weights. ImageLocality (weight 1) is left out: a snapshot
// carries no image state worth trusting, and a replacement pod's image is
// on few nodes either way.
const (
	PluginTaintToleration    = "TaintToleration"
	PluginNodeAffinity       = "NodeAffinity"
	PluginNodeResourcesFit   = "NodeResourcesFit"
	PluginPodTopologySpread  = "PodTopologySpread"
	PluginInterPodAffinity   = "InterPodAffinity"
	PluginBalancedAllocation = "NodeResourcesBalancedAllocation"
)

type scorer struct {
	name   string
	weight int64
	// score fills out[j] with the normalized 0..100 score of feasible[j];
	// ok false means the plugin skips this pod (scores nothing).
	score func(c *Cluster, cy *cycle, feasible []int, out []int64) (ok bool, err error)
}

var scorers = []scorer{
	{PluginTaintToleration, 3, scoreTaints},
	{PluginNodeAffinity, 2, scoreNodeAffinity},
	{PluginNodeResourcesFit, 1, scoreLeastAllocated},
	{PluginPodTopologySpread, 2, func(c *Cluster, cy *cycle, f []int, out []int64) (bool, error) { return c.scoreSpread(cy, f, out) }},
	{PluginInterPodAffinity, 2, func(c *Cluster, cy *cycle, f []int, out []int64) (bool, error) {
		return c.scoreInterPod(cy, f, out), nil
	}},
	{PluginBalancedAllocation, 1, scoreBalanced},
}

// scoreTaints counts the PreferNoSchedule taints a node has that the pod
// doesn't tolerate; fewer is better (tainttoleration.Score).
func scoreTaints(c *Cluster, cy *cycle, feasible []int, out []int64) (bool, error) {
	var tols []corev1.Toleration
	for _, t := range cy.tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	for j, f := range feasible {
		var n int64
		for i := range c.nodes[f].preferTaints {
			if !v1helper.TolerationsTolerateTaint(discard, tols, &c.nodes[f].preferTaints[i], false) {
				n++
			}
		}
		out[j] = n
	}
	normalize(out[:len(feasible)], true)
	return true, nil
}

// scoreNodeAffinity sums the weights of the preferred node affinity terms a
// node matches (nodeaffinity.Score).
func scoreNodeAffinity(c *Cluster, cy *cycle, feasible []int, out []int64) (bool, error) {
	a := cy.p.pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution == nil {
		return false, nil
	}
	terms, err := nodeaffinity.NewPreferredSchedulingTerms(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	if err != nil {
		return false, err
	}
	for j, f := range feasible {
		out[j] = terms.Score(c.nodes[f].node)
	}
	normalize(out[:len(feasible)], false)
	return true, nil
}

// normalize is helper.DefaultNormalizeScore: scale to 0..100 by the
// maximum, reversed when fewer is better.
func normalize(s []int64, reverse bool) {
	var top int64
	for _, v := range s {
		top = max(top, v)
	}
	for i := range s {
		switch {
		case top == 0 && reverse:
			s[i] = maxNodeScore
		case top == 0:
		default:
			s[i] = maxNodeScore * s[i] / top
			if reverse {
				s[i] = maxNodeScore - s[i]
			}
		}
	}
}

// scoreLeastAllocated favours the node with the most CPU and memory left
// after the pod, counting defaults for containers that request nothing
// (NodeResourcesFit's default LeastAllocated strategy, CPU and memory
// weighted 1 each).
func scoreLeastAllocated(c *Cluster, cy *cycle, feasible []int, out []int64) (bool, error) {
	cpu, mem := cy.leastCPU, cy.leastMem
	for j, f := range feasible {
		n := c.nodes[f]
		var sum, weights int64
		for _, r := range [2]struct{ req, alloc int64 }{{n.nonZeroCPU + cpu, n.alloc.milliCPU}, {n.nonZeroMem + mem, n.alloc.memory}} {
			if r.alloc == 0 {
				continue
			}
			weights++
			if r.req <= r.alloc {
				sum += (r.alloc - r.req) * maxNodeScore / r.alloc
			}
		}
		if weights > 0 {
			out[j] = sum / weights
		} else {
			out[j] = 0
		}
	}
	return true, nil
}

// scoreBalanced favours the node whose CPU and memory fractions the pod
// brings closer together (noderesources.balancedResourceScorer); skipped
// for a pod that requests neither.
func scoreBalanced(c *Cluster, cy *cycle, feasible []int, out []int64) (bool, error) {
	cpu, mem := cy.balancedCPU, cy.balancedMem
	if cpu == 0 && mem == 0 {
		return false, nil
	}
	for j, f := range feasible {
		n := c.nodes[f]
		with := balance(n.requested.milliCPU+cpu, n.alloc.milliCPU, n.requested.memory+mem, n.alloc.memory)
		if !n.balanceValid { // the node's own balance changes only when a pod comes or goes
			n.balance = balance(n.requested.milliCPU, n.alloc.milliCPU, n.requested.memory, n.alloc.memory)
			n.balanceValid = true
		}
		out[j] = maxNodeScore/2 + (maxNodeScore/2+with-n.balance)/2
	}
	return true, nil
}

// balance is balancedResourceScore for CPU and memory: 100 × (1 − std of
// the requested fractions), a resource with nothing allocatable left out.
func balance(cpu, cpuAlloc, mem, memAlloc int64) int64 {
	var fr [2]float64
	k := 0
	for _, r := range [2][2]int64{{cpu, cpuAlloc}, {mem, memAlloc}} {
		if r[1] == 0 {
			continue
		}
		fr[k] = min(float64(r[0])/float64(r[1]), 1)
		k++
	}
	std := 0.0
	if k == 2 {
		std = math.Abs((fr[0] - fr[1]) / 2)
	}
	return int64((1 - std) * float64(maxNodeScore))
}
