package fit

import (
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// kube-scheduler answers "how many pods matching this selector are in each
// topology domain?" by walking every pod of every node, for every pod it
// schedules that has spread constraints or inter-pod affinity. fit keeps the
// answers instead: a count index per (namespace, selector) asked about, per
// node, built on first use and kept current as pods are bound and removed.
// Replicas of one workload ask the same question, so a few indexes serve
// many placements. The results are the scheduler's; only the bookkeeping
// differs.

// maxIndexes bounds the indexes kept; past it they are dropped and rebuilt
// on demand, so a stream of one-off selectors can't slow every bind.
const maxIndexes = 512

// countIndex counts, per node, the bound pods a predicate accepts, and on
// request per value of a node label (a topology domain).
type countIndex struct {
	match   func(*podInfo) bool
	perNode []int32
	total   int
	byValue map[*column][]int32
}

// perValue sums the counts per value of col; nodes without the label count
// nowhere.
func (ix *countIndex) perValue(col *column) []int32 {
	if v, ok := ix.byValue[col]; ok {
		return v
	}
	counts := make([]int32, len(col.names))
	for n, cnt := range ix.perNode {
		if v := col.value[n]; v >= 0 {
			counts[v] += cnt
		}
	}
	if ix.byValue == nil {
		ix.byValue = map[*column][]int32{}
	}
	ix.byValue[col] = counts
	return counts
}

type indexes struct {
	byKey map[string]*countIndex
}

// count returns the index for key, building it over the bound pods on first
// use. Callers must use the same predicate for the same key.
func (c *Cluster) count(key string, match func(*podInfo) bool) *countIndex {
	if ix, ok := c.idx.byKey[key]; ok {
		return ix
	}
	if len(c.idx.byKey) >= maxIndexes {
		c.idx.byKey = map[string]*countIndex{}
	}
	ix := &countIndex{match: match, perNode: make([]int32, len(c.nodes))}
	for _, n := range c.nodes {
		for _, p := range n.pods {
			if match(p) {
				ix.perNode[n.idx]++
				ix.total++
			}
		}
	}
	c.idx.byKey[key] = ix
	return ix
}

// indexPod updates every index and term group for p bound (sign +1) to or
// removed (-1) from its node.
func (c *Cluster) indexPod(p *podInfo, sign int32) {
	for _, ix := range c.idx.byKey {
		if ix.match(p) {
			ix.perNode[p.node] += sign
			ix.total += int(sign)
			for col, counts := range ix.byValue {
				if v := col.value[p.node]; v >= 0 {
					counts[v] += sign
				}
			}
		}
	}
	n := c.nodes[p.node]
	for _, t := range p.reqAnti {
		c.groups.add(&c.groups.anti, "", t, 0, n, sign)
	}
	for _, t := range p.reqAffinity {
		c.groups.add(&c.groups.score, "h", t, hardPodAffinityWeight, n, sign)
	}
	for _, t := range p.prefAffinity {
		c.groups.add(&c.groups.score, "p", t.affinityTerm, t.weight, n, sign)
	}
	for _, t := range p.prefAnti {
		c.groups.add(&c.groups.score, "a", t.affinityTerm, -t.weight, n, sign)
	}
}

// termGroup gathers identical (anti-)affinity terms of bound pods: the term
// once, and how many pods carry it per value of its topology key. Pods on
// nodes without the key count nowhere, as in kube-scheduler.
type termGroup struct {
	term     affinityTerm
	weight   int32 // signed score weight; 0 for required anti-affinity
	perValue map[string]int32
}

type termGroups struct {
	byKey map[string]*termGroup
	anti  []*termGroup // required anti-affinity of bound pods
	score []*termGroup // affinity and preferred terms of bound pods, scored against the incoming pod
}

func (g *termGroups) add(list *[]*termGroup, kind string, t affinityTerm, weight int32, n *nodeInfo, sign int32) {
	v, ok := n.labels[t.topologyKey]
	if !ok {
		return
	}
	key := kind + strconv.Itoa(int(weight)) + "|" + termKey(t)
	tg := g.byKey[key]
	if tg == nil {
		tg = &termGroup{term: t, weight: weight, perValue: map[string]int32{}}
		g.byKey[key] = tg
		*list = append(*list, tg)
	}
	tg.perValue[v] += sign
	if tg.perValue[v] == 0 {
		delete(tg.perValue, v)
	}
}

// termKey identifies an affinity term by what it matches.
func termKey(t affinityTerm) string {
	ns := make([]string, 0, len(t.namespaces))
	for n := range t.namespaces {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ",") + "|" + selectorKey(t.selector) + "|" + selectorKey(t.namespaceSelector) + "|" + t.topologyKey
}

// selectorKey tells apart the selectors whose String() is the same: the
// one matching everything and the one matching nothing.
func selectorKey(s labels.Selector) string {
	switch {
	case s == nil:
		return "<nil>"
	case s.Empty():
		return "<all>"
	}
	if str := s.String(); str != "" {
		return str
	}
	return "<none>"
}

// column is one node label across all nodes, as small integers: the
// topology questions ("which zone is this node in?") become array lookups.
// Nodes never change in a simulation, so a column never goes stale.
type column struct {
	value   []int32 // per node: the value's id, -1 if the node lacks the label
	names   []string
	ids     map[string]int32
	missing int // nodes without the label
}

func (c *Cluster) column(key string) *column {
	if col, ok := c.columns[key]; ok {
		return col
	}
	col := &column{value: make([]int32, len(c.nodes)), ids: map[string]int32{}}
	for i, n := range c.nodes {
		v, ok := n.labels[key]
		if !ok {
			col.value[i] = -1
			col.missing++
			continue
		}
		id, ok := col.ids[v]
		if !ok {
			id = int32(len(col.names))
			col.ids[v] = id
			col.names = append(col.names, v)
		}
		col.value[i] = id
	}
	c.columns[key] = col
	return col
}
