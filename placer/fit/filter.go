package fit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// The reasons, word for word, that kube-scheduler 1.37's filter plugins give
// for a node; the FailedScheduling event counts them per node.
const (
	ReasonUnschedulable      = "node(s) were unschedulable"                                         // nodeunschedulable
	ReasonTaint              = "node(s) had untolerated taint(s)"                                   // tainttoleration
	ReasonNodeAffinity       = "node(s) didn't match Pod's node affinity/selector"                  // nodeaffinity
	ReasonNodeNames          = "node(s) didn't satisfy plugin(s) [NodeAffinity]"                    // nodeaffinity PreFilterResult
	ReasonPorts              = "node(s) didn't have free ports for the requested pod ports"         // nodeports
	ReasonTooManyPods        = "Too many pods"                                                      // noderesources
	ReasonSpread             = "node(s) didn't match pod topology spread constraints"               // podtopologyspread
	ReasonSpreadMissingLabel = ReasonSpread + " (missing required label)"                           // podtopologyspread
	ReasonAffinity           = "node(s) didn't match pod affinity rules"                            // interpodaffinity
	ReasonAntiAffinity       = "node(s) didn't match pod anti-affinity rules"                       // interpodaffinity
	ReasonExistingAnti       = "node(s) didn't satisfy existing pods anti-affinity rules"           // interpodaffinity
	reasonNodeNameConflict   = "pod affinity terms conflict"                                        // nodeaffinity PreFilter
	noNodesAvailable         = "no nodes available to schedule pods"                                // scheduler.ErrNoNodesAvailable
	noNodeAvailableMsg       = "0/%v nodes are available"                                           // framework.NoNodeAvailableMsg
	reasonCPU                = "Insufficient cpu"                                                   // noderesources
	reasonMemory             = "Insufficient memory"                                                // noderesources
	reasonEphemeral          = "Insufficient ephemeral-storage"                                     // noderesources
	_                        = "see k8s.io/kubernetes/pkg/scheduler/framework/plugins/*/ (v1.37.1)" // where these come from
)

// discard is the logger the component-helpers want; they log nothing this
// package needs.
var discard = logr.Discard()

// cycle is what one pod's evaluation computes once for all nodes: the
// scheduler's PreFilter state.
type cycle struct {
	p           *podInfo
	tolerations []corev1.Toleration
	tolerated   []int8 // per hard-taint set: 0 unknown, 1 tolerated, 2 not

	nodeAffinity    nodeaffinity.RequiredNodeAffinity
	hasNodeAffinity bool
	affinityMemo    []int8           // per node: 0 unknown, 1 matches, 2 doesn't
	nodeNames       sets.Set[string] // nil: every node (no metadata.name term)

	spread    spreadFilter
	interPod  interPodFilter
	preReject string // a PreFilter rejection: every node gets this reason

	// The pod's CPU and memory as the two resource scores count them.
	leastCPU, leastMem, balancedCPU, balancedMem int64
}

// prepare runs the PreFilter stage for pod.
func (c *Cluster) prepare(p *podInfo) *cycle {
	pod := p.pod
	cy := &cycle{p: p, tolerations: pod.Spec.Tolerations, tolerated: c.scratch.tolerated(len(c.taints))}

	// NodeAffinity: skipped for a pod with neither nodeSelector nor
	// required node affinity; a metadata.name term narrows the nodes.
	a := pod.Spec.Affinity
	required := a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil
	cy.hasNodeAffinity = required || pod.Spec.NodeSelector != nil
	if cy.hasNodeAffinity {
		cy.nodeAffinity = nodeaffinity.GetRequiredNodeAffinity(pod)
		cy.affinityMemo = c.affinityMemoFor(pod)
	}
	if required {
		names, conflict := nodeNamesOf(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms)
		if conflict {
			cy.preReject = reasonNodeNameConflict
			return cy
		}
		cy.nodeNames = names
	}
	c.prepareSpread(cy)
	if cy.preReject == "" {
		c.prepareInterPod(cy)
	}
	return cy
}

// tolerates says whether the pod tolerates node n's NoSchedule and NoExecute
// taints; remembered per distinct set of taints.
func (cy *cycle) tolerates(n *nodeInfo) bool {
	t := &cy.tolerated[n.taintSet]
	if *t == 0 {
		*t = 1
		if _, untolerated := v1helper.FindMatchingUntoleratedTaint(discard, n.hardTaints, cy.tolerations, nil, false); untolerated {
			*t = 2
		}
	}
	return *t == 1
}

// matchesNode says whether node n passes the pod's nodeSelector and required
// node affinity (a parse error doesn't match); remembered per node.
func (cy *cycle) matchesNode(n *nodeInfo) bool {
	if !cy.hasNodeAffinity {
		return true
	}
	m := &cy.affinityMemo[n.idx]
	if *m == 0 {
		*m = 2
		if ok, _ := cy.nodeAffinity.Match(n.node); ok {
			*m = 1
		}
	}
	return *m == 1
}

// affinityMemoFor returns the node-match memo shared by every pod with the
// same nodeSelector and required node affinity.
func (c *Cluster) affinityMemoFor(pod *corev1.Pod) []int8 {
	var b strings.Builder
	keys := make([]string, 0, len(pod.Spec.NodeSelector))
	for k := range pod.Spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + pod.Spec.NodeSelector[k] + ",")
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		b.WriteString("|" + a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.String())
	}
	key := b.String()
	if m, ok := c.affinityMemo[key]; ok {
		return m
	}
	if len(c.affinityMemo) >= maxIndexes {
		c.affinityMemo = map[string][]int8{}
	}
	m := make([]int8, len(c.nodes))
	c.affinityMemo[key] = m
	return m
}

// nodeNamesOf follows NodeAffinity.PreFilter: when every term pins
// metadata.name (In), only those nodes are considered at all; terms whose
// names don't intersect are a conflict.
func nodeNamesOf(terms []corev1.NodeSelectorTerm) (sets.Set[string], bool) {
	var names sets.Set[string]
	for _, t := range terms {
		var termNames sets.Set[string]
		for _, r := range t.MatchFields {
			if r.Key == metav1.ObjectNameField && r.Operator == corev1.NodeSelectorOpIn {
				s := sets.New(r.Values...)
				if termNames == nil {
					termNames = s
				} else {
					termNames = termNames.Intersection(s)
				}
			}
		}
		if termNames == nil {
			return nil, false
		}
		names = names.Union(termNames)
	}
	if names != nil && len(names) == 0 {
		return nil, true
	}
	if len(names) == 0 {
		return nil, false
	}
	return names, false
}

// filter runs the filter plugins on node n in kube-scheduler's order and
// returns the reasons of the first that rejects it (none: it fits).
func (c *Cluster) filter(cy *cycle, n *nodeInfo, out []string) []string {
	if cy.nodeNames != nil && !cy.nodeNames.Has(n.node.Name) {
		return append(out, ReasonNodeNames)
	}
	// NodeUnschedulable: a cordoned node takes only pods tolerating its taint.
	if n.unschedulable && !v1helper.TolerationsTolerateTaint(discard, cy.tolerations, &unschedulableTaint, false) {
		return append(out, ReasonUnschedulable)
	}
	// TaintToleration: NoSchedule and NoExecute taints must be tolerated.
	if len(n.hardTaints) > 0 && !cy.tolerates(n) {
		return append(out, ReasonTaint)
	}
	// NodeAffinity: nodeSelector and required node affinity.
	if !cy.matchesNode(n) {
		return append(out, ReasonNodeAffinity)
	}
	// NodePorts.
	for _, hp := range cy.p.ports {
		if n.ports.conflicts(hp.HostIP, string(hp.Protocol), hp.HostPort) {
			return append(out, ReasonPorts)
		}
	}
	// NodeResourcesFit: every shortfall is a reason.
	if out = fitsRequest(cy.p, n, out); len(out) > 0 {
		return out
	}
	if r := c.filterSpread(cy, n); r != "" {
		return append(out, r)
	}
	if r := c.filterInterPod(cy, n); r != "" {
		return append(out, r)
	}
	return out
}

var unschedulableTaint = corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}

// fitsRequest follows noderesources.fitsRequest (no ignored resources, no
// DRA-backed extended resources).
func fitsRequest(p *podInfo, n *nodeInfo, out []string) []string {
	if len(n.pods)+1 > n.alloc.pods {
		out = append(out, ReasonTooManyPods)
	}
	r := &p.req
	if r.empty() {
		return out
	}
	if r.milliCPU > 0 && r.milliCPU > n.alloc.milliCPU-n.requested.milliCPU {
		out = append(out, reasonCPU)
	}
	if r.memory > 0 && r.memory > n.alloc.memory-n.requested.memory {
		out = append(out, reasonMemory)
	}
	if r.ephemeral > 0 && r.ephemeral > n.alloc.ephemeral-n.requested.ephemeral {
		out = append(out, reasonEphemeral)
	}
	for name, q := range r.scalars {
		if q > 0 && q > n.alloc.scalars[name]-n.requested.scalars[name] {
			out = append(out, insufficient(name))
		}
	}
	return out
}

// Message formats kube-scheduler's FitError for a pod no node takes.
func fitErrorMessage(nodes int, preFilter string, rejected []Rejection) string {
	msg := fmt.Sprintf(noNodeAvailableMsg+":", nodes)
	if preFilter != "" {
		return msg + fmt.Sprintf(" %v.", preFilter)
	}
	if len(rejected) == 0 {
		return msg
	}
	msg += " "
	for i, r := range rejected {
		if i > 0 {
			msg += ", "
		}
		msg += fmt.Sprintf("%d %s", r.Nodes, r.Reason)
	}
	return msg + "."
}
