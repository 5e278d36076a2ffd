package fit

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Placement is where one pod would land, and why.
type Placement struct {
	Pod      string // namespace/name
	Node     string // the chosen node; "" when no node takes the pod
	Nodes    int    // nodes in the simulation
	Feasible int    // nodes that passed every filter
	// Ties is how many feasible nodes share the top score. kube-scheduler
	// picks among them arbitrarily; fit takes the first in snapshot order,
	// so a plan is reproducible.
	Ties  int
	Score int64 // the chosen node's total weighted score
	// Rejected counts the nodes each filter reason turned down, ordered as
	// kube-scheduler's FailedScheduling message orders them.
	Rejected []Rejection
	// PreFilter is the reason every node was turned down before any was
	// looked at (e.g. "pod affinity terms conflict"), if that happened.
	PreFilter string
}

// Rejection is one line of the scheduler's "0/8 nodes are available" count.
type Rejection struct {
	Reason string
	Nodes  int
}

// Scheduled says whether a node takes the pod.
func (p Placement) Scheduled() bool { return p.Node != "" }

// Message is what kube-scheduler's FailedScheduling event would say for an
// unschedulable pod (less the preemption note), e.g. "0/8 nodes are
// available: 3 Insufficient cpu, 5 node(s) had untolerated taint(s).", and
// a one-line summary for a scheduled one.
func (p Placement) Message() string {
	switch {
	case p.Scheduled():
		return fmt.Sprintf("%s → %s (score %d; %d of %d nodes feasible, %d tied)", p.Pod, p.Node, p.Score, p.Feasible, p.Nodes, p.Ties)
	case p.Nodes == 0:
		return noNodesAvailable
	}
	return fitErrorMessage(p.Nodes, p.PreFilter, p.Rejected)
}

// String is Message.
func (p Placement) String() string { return p.Message() }

// NodeVerdict is one node's part in a placement, as Explain reports it.
type NodeVerdict struct {
	Node    string
	Reasons []string // why the node was turned down; none if it fits
	Score   int64    // total weighted score, for feasible nodes when scored
	Scores  []PluginScore
}

// PluginScore is one score plugin's weighted contribution.
type PluginScore struct {
	Plugin string
	Score  int64
}

// Place simulates one scheduling cycle for pod as a new pending pod (its
// spec.nodeName is ignored, as for a replacement a controller creates) and,
// if a node takes it, binds it there: the next placement sees its requests,
// host ports and labels. A pod already bound in the simulation is taken off
// its node first.
func (c *Cluster) Place(pod *corev1.Pod) Placement {
	if pod == nil {
		return Placement{PreFilter: "no pod given", Nodes: len(c.nodes)}
	}
	if old, ok := c.pods[pod.Namespace+"/"+pod.Name]; ok {
		c.unbind(old)
	}
	pl, _, p := c.evaluate(pod, false)
	if pl.Scheduled() {
		c.bind(p, c.byName[pl.Node]) // as the new pod it is: its spec, no status
	}
	return pl
}

// Bind puts pod on node without asking the filters, as kube-scheduler's
// cache takes in a pod bound by someone else; a simulation follows the real
// cluster this way. The pod is taken off any node it was on first.
func (c *Cluster) Bind(pod *corev1.Pod, node string) error {
	n, ok := c.byName[node]
	if !ok {
		return fmt.Errorf("binding pod %s/%s: node %s is not in the simulation", pod.Namespace, pod.Name, node)
	}
	if old, ok := c.pods[pod.Namespace+"/"+pod.Name]; ok {
		c.unbind(old)
	}
	c.bind(newPodInfo(pod, true), n)
	return nil
}

// Move simulates moving pods one after another: each is evicted from its
// node, then its replacement (the same pod spec, unbound) is placed before
// the next is evicted, as an eviction at a time and its controller's
// replacement would go. Pods not bound in the simulation are just placed.
func (c *Cluster) Move(pods []*corev1.Pod) []Placement {
	out := make([]Placement, len(pods))
	for i, p := range pods {
		out[i] = c.Place(p)
	}
	return out
}

// Explain is Place without binding, with every node's verdict: the reasons
// it was turned down, or its scores.
func (c *Cluster) Explain(pod *corev1.Pod) (Placement, []NodeVerdict) {
	if pod == nil {
		return Placement{PreFilter: "no pod given", Nodes: len(c.nodes)}, nil
	}
	if old, ok := c.pods[pod.Namespace+"/"+pod.Name]; ok {
		n := old.node
		c.unbind(old)
		defer c.bind(old, n)
	}
	pl, verdicts, _ := c.evaluate(pod, true)
	return pl, verdicts
}

func (c *Cluster) evaluate(pod *corev1.Pod, explain bool) (Placement, []NodeVerdict, *podInfo) {
	pl := Placement{Pod: pod.Namespace + "/" + pod.Name, Nodes: len(c.nodes)}
	if len(c.nodes) == 0 {
		return pl, nil, nil
	}
	p := newPodInfo(pod, false)
	cy := c.prepare(p)
	var verdicts []NodeVerdict
	if explain {
		verdicts = make([]NodeVerdict, len(c.nodes))
		for i, n := range c.nodes {
			verdicts[i].Node = n.node.Name
		}
	}
	if cy.preReject != "" {
		pl.PreFilter = cy.preReject
		for i := range verdicts {
			verdicts[i].Reasons = []string{cy.preReject}
		}
		return pl, verdicts, p
	}

	feasible := c.scratch.feasible[:0]
	var counts map[string]int
	var reasons []string
	for _, n := range c.nodes {
		reasons = c.filter(cy, n, reasons[:0])
		if len(reasons) == 0 {
			feasible = append(feasible, n.idx)
			continue
		}
		if counts == nil {
			counts = map[string]int{}
		}
		for _, r := range reasons {
			counts[r]++
		}
		if explain {
			verdicts[n.idx].Reasons = append([]string(nil), reasons...)
		}
	}
	c.scratch.feasible = feasible
	pl.Feasible = len(feasible)
	switch len(feasible) {
	case 0:
		pl.Rejected = histogram(counts)
		return pl, verdicts, p
	case 1:
		pl.Node, pl.Ties = c.nodes[feasible[0]].node.Name, 1
		return pl, verdicts, p
	}

	totals := c.scratch.ints(&c.scratch.totals, len(feasible))
	clear(totals)
	raw := c.scratch.ints(&c.scratch.raw, len(feasible))
	cy.leastCPU, cy.leastMem, cy.balancedCPU, cy.balancedMem = scoringRequests(p)
	for _, s := range scorers {
		ok, err := s.score(c, cy, feasible, raw)
		if err != nil {
			// kube-scheduler fails the cycle on a score error and retries
			// later; the pod stays pending.
			pl.PreFilter = fmt.Sprintf("running Score plugin %q: %v", s.name, err)
			pl.Feasible = 0
			return pl, verdicts, p
		}
		if !ok {
			continue
		}
		for j := range feasible {
			totals[j] += s.weight * raw[j]
			if explain {
				v := &verdicts[feasible[j]]
				v.Scores = append(v.Scores, PluginScore{s.name, s.weight * raw[j]})
			}
		}
	}
	best := 0
	for j := range feasible {
		switch {
		case totals[j] > totals[best]:
			best, pl.Ties = j, 1
		case totals[j] == totals[best]:
			pl.Ties++
		}
		if explain {
			verdicts[feasible[j]].Score = totals[j]
		}
	}
	pl.Node, pl.Score = c.nodes[feasible[best]].node.Name, totals[best]
	return pl, verdicts, p
}

// histogram orders reason counts as FitError.Error does: "N reason"
// strings sorted as strings.
func histogram(counts map[string]int) []Rejection {
	out := make([]Rejection, 0, len(counts))
	for r, n := range counts {
		out = append(out, Rejection{Reason: r, Nodes: n})
	}
	sort.Slice(out, func(i, j int) bool {
		return fmt.Sprintf("%d %s", out[i].Nodes, out[i].Reason) < fmt.Sprintf("%d %s", out[j].Nodes, out[j].Reason)
	})
	return out
}

// scratch holds buffers reused across placements.
type scratch struct {
	feasible    []int
	totals, raw []int64
	tolerations []int8
	flagBuf     []bool
}

func (s *scratch) ints(buf *[]int64, n int) []int64 {
	if cap(*buf) < n {
		*buf = make([]int64, n)
	}
	return (*buf)[:n]
}

func (s *scratch) tolerated(n int) []int8 {
	if cap(s.tolerations) < n {
		s.tolerations = make([]int8, n)
	}
	t := s.tolerations[:n]
	clear(t)
	return t
}

func (s *scratch) flags(n int) []bool {
	if cap(s.flagBuf) < n {
		s.flagBuf = make([]bool, n)
	}
	f := s.flagBuf[:n]
	clear(f)
	return f
}
