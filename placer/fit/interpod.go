package fit

import (
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

// This file follows k8s.io/kubernetes/pkg/scheduler/framework/plugins/
// interpodaffinity (filtering.go, scoring.go) as 1.37 runs it by default:
// without the InterPodAffinityHostnameFastPath alpha, whose results are the
// same.

// interPodFilter is InterPodAffinity's PreFilter state: per topology key and
// value, how many bound pods match the incoming pod's required affinity (all
// terms at once) and anti-affinity terms, and which domains bound pods'
// anti-affinity closes to it.
type interPodFilter struct {
	active       bool
	affinity     []affinityTerm
	anti         []affinityTerm
	affCounts    pairCounts
	antiCounts   pairCounts
	existingAnti pairCounts
	selfMatch    bool
}

// pairCounts counts per topology pair: key → per value id of the key's
// column.
type pairCounts map[string][]int64

func (m pairCounts) add(c *Cluster, key string, v int32, n int64) {
	cnt, ok := m[key]
	if !ok {
		cnt = make([]int64, len(c.column(key).names))
		m[key] = cnt
	}
	cnt[v] += n
}

// get is the count for node n's value of key (0 if the node lacks it).
func (m pairCounts) get(c *Cluster, key string, n int) (count int64, hasLabel bool) {
	v := c.column(key).value[n]
	if v < 0 {
		return 0, false
	}
	if cnt, ok := m[key]; ok {
		return cnt[v], true
	}
	return 0, true
}

// mergeNamespaces resolves a term's namespaceSelector against the snapshot's
// namespaces into its namespace list (mergeAffinityTermNamespacesIfNotEmpty),
// on a copy: a bound pod's own terms keep their selector.
func (c *Cluster) mergeNamespaces(t affinityTerm) affinityTerm {
	if t.namespaceSelector.Empty() {
		return t
	}
	ns := sets.New(sets.List(t.namespaces)...)
	for name, l := range c.nsLabels {
		if t.namespaceSelector.Matches(l) {
			ns.Insert(name)
		}
	}
	t.namespaces, t.namespaceSelector = ns, labels.Nothing()
	return t
}

func (c *Cluster) mergeAll(ts []affinityTerm) []affinityTerm {
	out := make([]affinityTerm, len(ts))
	for i, t := range ts {
		out[i] = c.mergeNamespaces(t)
	}
	return out
}

// termIndex counts, per node, the bound pods matching an incoming pod's term.
func (c *Cluster) termIndex(t affinityTerm) *countIndex {
	return c.count("term|"+termKey(t), func(p *podInfo) bool { return t.matches(p.pod, nil) })
}

func (c *Cluster) prepareInterPod(cy *cycle) {
	p := cy.p
	if p.parseErr != nil {
		cy.preReject = fmt.Sprintf("parsing pod: %+v", p.parseErr)
		return
	}
	s := &cy.interPod
	pod := p.pod
	nsLabels := c.nsLabels[pod.Namespace]

	for _, g := range c.groups.anti {
		if len(g.perValue) == 0 || !g.term.matches(pod, nsLabels) {
			continue
		}
		if s.existingAnti == nil {
			s.existingAnti = pairCounts{}
		}
		col := c.column(g.term.topologyKey)
		for v, cnt := range g.perValue {
			s.existingAnti.add(c, g.term.topologyKey, col.ids[v], int64(cnt))
		}
	}
	s.affinity, s.anti = c.mergeAll(p.reqAffinity), c.mergeAll(p.reqAnti)
	if len(s.affinity) > 0 {
		keys := make([]string, len(s.affinity))
		for i, t := range s.affinity {
			keys[i] = termKey(t)
		}
		terms := s.affinity
		ix := c.count("all|"+strings.Join(keys, "&"), func(q *podInfo) bool { return matchesAll(terms, q.pod) })
		s.affCounts = pairCounts{}
		if ix.total > 0 {
			for n, cnt := range ix.perNode {
				if cnt > 0 {
					for _, t := range terms {
						if v := c.column(t.topologyKey).value[n]; v >= 0 {
							s.affCounts.add(c, t.topologyKey, v, int64(cnt))
						}
					}
				}
			}
		}
		s.selfMatch = matchesAll(terms, pod)
	}
	for _, t := range s.anti {
		ix := c.termIndex(t)
		if ix.total == 0 {
			continue
		}
		if s.antiCounts == nil {
			s.antiCounts = pairCounts{}
		}
		col := c.column(t.topologyKey)
		for n, cnt := range ix.perNode {
			if v := col.value[n]; cnt > 0 && v >= 0 {
				s.antiCounts.add(c, t.topologyKey, v, int64(cnt))
			}
		}
	}
	s.active = len(s.existingAnti) > 0 || len(s.affinity) > 0 || len(s.anti) > 0
}

// matchesAll is podMatchesAllAffinityTerms: a non-empty term list all of
// whose terms match the pod.
func matchesAll(terms []affinityTerm, pod *corev1.Pod) bool {
	if len(terms) == 0 {
		return false
	}
	for _, t := range terms {
		if !t.matches(pod, nil) {
			return false
		}
	}
	return true
}

// filterInterPod is InterPodAffinity.Filter.
func (c *Cluster) filterInterPod(cy *cycle, n *nodeInfo) string {
	s := &cy.interPod
	if !s.active {
		return ""
	}
	if len(s.affinity) > 0 {
		podsExist := true
		for _, t := range s.affinity {
			cnt, ok := s.affCounts.get(c, t.topologyKey, n.idx)
			if !ok {
				return ReasonAffinity // every topology key must be on the node, self-affinity too
			}
			if cnt <= 0 {
				podsExist = false
			}
		}
		// The first of a group of pods with affinity to each other may go
		// anywhere its own terms allow, if no pod matches them yet.
		if !podsExist && !(len(s.affCounts) == 0 && s.selfMatch) {
			return ReasonAffinity
		}
	}
	for _, t := range s.anti {
		if cnt, _ := s.antiCounts.get(c, t.topologyKey, n.idx); cnt > 0 {
			return ReasonAntiAffinity
		}
	}
	for k := range s.existingAnti {
		if cnt, _ := s.existingAnti.get(c, k, n.idx); cnt > 0 {
			return ReasonExistingAnti
		}
	}
	return ""
}

// scoreInterPod is InterPodAffinity's PreScore, Score and NormalizeScore;
// ok is false when the plugin skips (no term touches any domain).
func (c *Cluster) scoreInterPod(cy *cycle, feasible []int, out []int64) (ok bool) {
	pod := cy.p.pod
	nsLabels := c.nsLabels[pod.Namespace]
	topo := pairCounts{}
	touched := false
	// Bound pods' terms that the incoming pod matches: required affinity
	// (hardPodAffinityWeight), preferred affinity (+w) and anti-affinity (-w).
	for _, g := range c.groups.score {
		if len(g.perValue) == 0 || !g.term.matches(pod, nsLabels) {
			continue
		}
		col := c.column(g.term.topologyKey)
		for v, cnt := range g.perValue {
			topo.add(c, g.term.topologyKey, col.ids[v], int64(g.weight)*int64(cnt))
			touched = true
		}
	}
	// The incoming pod's preferred terms that bound pods match.
	add := func(terms []weightedAffinityTerm, sign int64) {
		for _, wt := range terms {
			t := c.mergeNamespaces(wt.affinityTerm)
			ix := c.termIndex(t)
			if ix.total == 0 {
				continue
			}
			col := c.column(t.topologyKey)
			for n, cnt := range ix.perNode {
				if v := col.value[n]; cnt > 0 && v >= 0 {
					topo.add(c, t.topologyKey, v, sign*int64(wt.weight)*int64(cnt))
					touched = true
				}
			}
		}
	}
	add(cy.p.prefAffinity, 1)
	add(cy.p.prefAnti, -1)
	if !touched {
		return false
	}
	minS, maxS := int64(math.MaxInt64), int64(math.MinInt64)
	for j, f := range feasible {
		var s int64
		for k := range topo {
			cnt, _ := topo.get(c, k, f)
			s += cnt
		}
		out[j] = s
		minS, maxS = min(minS, s), max(maxS, s)
	}
	for j := range feasible {
		if diff := maxS - minS; diff > 0 {
			out[j] = int64(float64(maxNodeScore) * (float64(out[j]-minS) / float64(diff)))
		} else {
			out[j] = 0
		}
	}
	return true
}
