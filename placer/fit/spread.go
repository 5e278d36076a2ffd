package fit

import (
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// This file follows k8s.io/kubernetes/pkg/scheduler/framework/plugins/
// podtopologyspread (common.go, filtering.go, scoring.go) with its feature
// gates as 1.37 defaults them: node inclusion policies and matchLabelKeys on.

// constraint is a parsed topology spread constraint.
type constraint struct {
	maxSkew                    int32
	key                        string
	selector                   labels.Selector
	minDomains                 int32
	honorAffinity, honorTaints bool
	counts                     *countIndex // matching pods per node; nil when the selector is empty
}

// systemDefaultConstraints apply, as ScheduleAnyway, to a pod without
// constraints of its own that a Service, ReplicaSet, StatefulSet or
// ReplicationController selects.
var systemDefaultConstraints = []corev1.TopologySpreadConstraint{
	{TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.ScheduleAnyway, MaxSkew: 3},
	{TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.ScheduleAnyway, MaxSkew: 5},
}

// constraintsOf returns the pod's constraints with the given action: its
// own, or the system defaults when it has none.
func (c *Cluster) constraintsOf(pod *corev1.Pod, action corev1.UnsatisfiableConstraintAction) ([]constraint, error) {
	if len(pod.Spec.TopologySpreadConstraints) > 0 {
		return c.parseConstraints(pod, pod.Spec.TopologySpreadConstraints, action, nil)
	}
	if action == corev1.DoNotSchedule {
		return nil, nil // the system defaults are all ScheduleAnyway
	}
	sel := c.defaultSelector(pod)
	if sel.Empty() {
		return nil, nil
	}
	return c.parseConstraints(pod, systemDefaultConstraints, action, sel)
}

func (c *Cluster) parseConstraints(pod *corev1.Pod, all []corev1.TopologySpreadConstraint, action corev1.UnsatisfiableConstraintAction, defaultSel labels.Selector) ([]constraint, error) {
	var out []constraint
	for _, tsc := range all {
		if tsc.WhenUnsatisfiable != action {
			continue
		}
		sel := defaultSel
		if sel == nil {
			var err error
			if sel, err = metav1.LabelSelectorAsSelector(tsc.LabelSelector); err != nil {
				return nil, err
			}
			// matchLabelKeys: the pod's values for those keys join the selector.
			if len(tsc.MatchLabelKeys) > 0 {
				set := labels.Set{}
				for _, k := range tsc.MatchLabelKeys {
					if v, ok := pod.Labels[k]; ok {
						set[k] = v
					}
				}
				if len(set) > 0 {
					merged := labels.SelectorFromSet(set)
					if reqs, ok := sel.Requirements(); ok {
						sel = merged.Add(reqs...)
					}
				}
			}
		}
		k := constraint{
			maxSkew:       tsc.MaxSkew,
			key:           tsc.TopologyKey,
			selector:      sel,
			minDomains:    ptr.Deref(tsc.MinDomains, 1),
			honorAffinity: tsc.NodeAffinityPolicy == nil || *tsc.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor,
			honorTaints:   tsc.NodeTaintsPolicy != nil && *tsc.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor,
		}
		if !sel.Empty() { // countPodsMatchSelector counts nothing for an empty selector
			ns := pod.Namespace
			k.counts = c.count("spread|"+ns+"|"+selectorKey(sel), func(p *podInfo) bool {
				return p.pod.Namespace == ns && p.pod.DeletionTimestamp == nil && sel.Matches(labels.Set(p.pod.Labels))
			})
		}
		out = append(out, k)
	}
	return out, nil
}

// defaultSelector follows helper.DefaultSelector.
func (c *Cluster) defaultSelector(pod *corev1.Pod) labels.Selector {
	set := labels.Set{}
	for _, svc := range c.workloads.services[pod.Namespace] {
		if svc.Spec.Selector != nil && labels.Set(svc.Spec.Selector).AsSelectorPreValidated().Matches(labels.Set(pod.Labels)) {
			set = labels.Merge(set, svc.Spec.Selector)
		}
	}
	sel := set.AsSelector()
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		return sel
	}
	gv, err := schema.ParseGroupVersion(owner.APIVersion)
	if err != nil {
		return sel
	}
	key := pod.Namespace + "/" + owner.Name
	var other *metav1.LabelSelector
	switch gv.WithKind(owner.Kind) {
	case corev1.SchemeGroupVersion.WithKind("ReplicationController"):
		if rc, ok := c.workloads.rcs[key]; ok {
			return labels.Merge(set, rc.Spec.Selector).AsSelector()
		}
		return sel
	case schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:
		if rs, ok := c.workloads.rss[key]; ok {
			other = rs.Spec.Selector
		}
	case schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}:
		if ss, ok := c.workloads.sss[key]; ok {
			other = ss.Spec.Selector
		}
	}
	if other != nil {
		if o, err := metav1.LabelSelectorAsSelector(other); err == nil {
			if r, ok := o.Requirements(); ok {
				sel = sel.Add(r...)
			}
		}
	}
	return sel
}

// included is matchNodeInclusionPolicies: does node n count as a domain of
// constraint k for the pod?
func (c *Cluster) included(cy *cycle, k *constraint, n *nodeInfo) bool {
	// A pod without nodeSelector or required node affinity matches every node.
	if k.honorAffinity && !cy.matchesNode(n) {
		return false
	}
	if k.honorTaints && len(n.hardTaints) > 0 && !cy.tolerates(n) {
		return false
	}
	return true
}

// everyNodeCounts says whether every node with the constraint's key is one
// of its domains for this pod: no inclusion policy narrows them and no node
// lacks another constraint's key. Then the domain counts are the index's
// per-value sums, without a walk over the nodes.
func everyNodeCounts(cy *cycle, k *constraint, cols []*column) bool {
	if (k.honorAffinity && cy.hasNodeAffinity) || k.honorTaints {
		return false
	}
	for _, col := range cols {
		if col.missing > 0 {
			return false
		}
	}
	return true
}

// hasAllKeys is nodeLabelsMatchSpreadConstraints: node n has every
// constraint's topology key.
func hasAllKeys(cols []*column, n int) bool {
	for _, col := range cols {
		if col.value[n] < 0 {
			return false
		}
	}
	return true
}

func (c *Cluster) columnsOf(ks []constraint) []*column {
	cols := make([]*column, len(ks))
	for i := range ks {
		cols[i] = c.column(ks[i].key)
	}
	return cols
}

// spreadFilter is PodTopologySpread's PreFilter state: per DoNotSchedule
// constraint, matching pods per domain (topology value id) and the
// smallest domain count.
type spreadFilter struct {
	constraints []constraint
	cols        []*column
	counts      [][]int
	min         []int
}

func (c *Cluster) prepareSpread(cy *cycle) {
	ks, err := c.constraintsOf(cy.p.pod, corev1.DoNotSchedule)
	if err != nil {
		cy.preReject = fmt.Sprintf("running PreFilter plugin %q: obtaining pod's hard topology spread constraints: %v", "PodTopologySpread", err)
		return
	}
	if len(ks) == 0 {
		return
	}
	s := &cy.spread
	s.constraints, s.cols = ks, c.columnsOf(ks)
	s.counts = make([][]int, len(ks))
	s.min = make([]int, len(ks))
	domains := make([][]bool, len(ks))
	for i := range ks {
		s.counts[i] = make([]int, len(s.cols[i].names))
		domains[i] = make([]bool, len(s.cols[i].names))
	}
	walk := false
	for i := range ks {
		if !everyNodeCounts(cy, &ks[i], s.cols) {
			walk = true
			continue
		}
		for v := range domains[i] {
			domains[i][v] = true // every value is some node's
		}
		if ks[i].counts != nil {
			for v, cnt := range ks[i].counts.perValue(s.cols[i]) {
				s.counts[i][v] = int(cnt)
			}
		}
	}
	for _, n := range c.nodes {
		if !walk {
			break
		}
		if !hasAllKeys(s.cols, n.idx) {
			continue
		}
		for i := range ks {
			k := &ks[i]
			if everyNodeCounts(cy, k, s.cols) || !c.included(cy, k, n) {
				continue
			}
			v := s.cols[i].value[n.idx]
			domains[i][v] = true
			if k.counts != nil {
				s.counts[i][v] += int(k.counts.perNode[n.idx])
			}
		}
	}
	for i := range ks {
		m, nd := math.MaxInt32, 0
		for v, ok := range domains[i] {
			if ok {
				m, nd = min(m, s.counts[i][v]), nd+1
			}
		}
		if nd < int(ks[i].minDomains) {
			m = 0 // fewer domains than minDomains: the global minimum is 0
		}
		s.min[i] = m
	}
}

// filterSpread is PodTopologySpread.Filter.
func (c *Cluster) filterSpread(cy *cycle, n *nodeInfo) string {
	s := &cy.spread
	for i := range s.constraints {
		k := &s.constraints[i]
		v := s.cols[i].value[n.idx]
		if v < 0 {
			return ReasonSpreadMissingLabel
		}
		self := 0
		if k.selector.Matches(labels.Set(cy.p.pod.Labels)) {
			self = 1
		}
		if s.counts[i][v]+self-s.min[i] > int(k.maxSkew) {
			return ReasonSpread
		}
	}
	return ""
}
