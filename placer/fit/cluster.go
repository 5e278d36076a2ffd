package fit

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// hardPodAffinityWeight is InterPodAffinityArgs.HardPodAffinityWeight's
// default: how much a bound pod's required affinity to the incoming pod
// counts when scoring.
const hardPodAffinityWeight = 1

// Cluster is the simulation state: the snapshot's nodes with the pods bound
// to them, indexed for the scheduler's questions. Place and Move change it
// (a placed pod takes its node's resources, ports and topology counts, as
// the scheduler's assume step does); Explain doesn't. A Cluster is not safe
// for concurrent use.
type Cluster struct {
	nodes  []*nodeInfo
	byName map[string]int
	pods   map[string]*podInfo // bound pods by namespace/name

	nsLabels  map[string]labels.Set
	workloads workloads

	idx     indexes
	columns map[string]*column
	// affinityMemo remembers, per nodeSelector and required node affinity,
	// which nodes match: replicas ask the same question.
	affinityMemo map[string][]int8
	groups       termGroups
	taints       map[string]int // distinct hard-taint sets → id, for memoizing tolerations
	ignored      []string
	scratch      scratch
}

// nodeInfo is a node with the sums kube-scheduler's NodeInfo keeps.
type nodeInfo struct {
	idx           int
	node          *corev1.Node
	unschedulable bool // node.Spec.Unschedulable, kept here to stay in cache
	labels        labels.Set
	alloc         resources
	requested     resources
	// nonZeroCPU/Mem sum the pods' requests with defaults for containers
	// that request nothing, for the LeastAllocated score.
	nonZeroCPU, nonZeroMem int64
	pods                   []*podInfo
	ports                  hostPortInfo

	// balance is the node's BalancedAllocation score without the incoming
	// pod, kept until a pod is bound or removed.
	balance      int64
	balanceValid bool

	hardTaints   []corev1.Taint // NoSchedule and NoExecute: the filter's
	preferTaints []corev1.Taint // PreferNoSchedule: the score's
	taintSet     int
}

// workloads are what kube-scheduler's default topology spreading derives a
// pod's selector from (helper.DefaultSelector).
type workloads struct {
	services map[string][]*corev1.Service // by namespace
	rcs      map[string]*corev1.ReplicationController
	rss      map[string]*appsv1.ReplicaSet
	sss      map[string]*appsv1.StatefulSet // by namespace/name
}

// New indexes a snapshot. Objects it cannot use are skipped, each with a
// line in Ignored saying which and why; nothing in a snapshot makes it fail.
func New(s Snapshot) *Cluster {
	c := &Cluster{
		byName:       map[string]int{},
		pods:         map[string]*podInfo{},
		nsLabels:     map[string]labels.Set{},
		idx:          indexes{byKey: map[string]*countIndex{}},
		columns:      map[string]*column{},
		affinityMemo: map[string][]int8{},
		groups:       termGroups{byKey: map[string]*termGroup{}},
		taints:       map[string]int{},
		workloads: workloads{
			services: map[string][]*corev1.Service{},
			rcs:      map[string]*corev1.ReplicationController{},
			rss:      map[string]*appsv1.ReplicaSet{},
			sss:      map[string]*appsv1.StatefulSet{},
		},
	}
	for i, n := range s.Nodes {
		switch {
		case n == nil:
			c.ignore("node #%d is nil", i)
		case n.Name == "":
			c.ignore("node #%d has no name", i)
		default:
			if _, dup := c.byName[n.Name]; dup {
				c.ignore("node %s appears twice in the snapshot; the first is used", n.Name)
				continue
			}
			c.addNode(n)
		}
	}
	for i, p := range s.Pods {
		switch {
		case p == nil:
			c.ignore("pod #%d is nil", i)
		case p.Spec.NodeName == "" || terminal(p):
			// Pending, or done: holds nothing.
		default:
			n, ok := c.byName[p.Spec.NodeName]
			if !ok {
				c.ignore("pod %s/%s is bound to node %s, which is not in the snapshot", p.Namespace, p.Name, p.Spec.NodeName)
				continue
			}
			if _, dup := c.pods[p.Namespace+"/"+p.Name]; dup {
				c.ignore("pod %s/%s appears twice in the snapshot; the first is used", p.Namespace, p.Name)
				continue
			}
			c.bind(newPodInfo(p, true), n)
		}
	}
	for _, ns := range s.Namespaces {
		if ns != nil {
			c.nsLabels[ns.Name] = labels.Set(ns.Labels)
		}
	}
	for _, o := range s.Services {
		if o != nil {
			c.workloads.services[o.Namespace] = append(c.workloads.services[o.Namespace], o)
		}
	}
	for _, o := range s.ReplicationControllers {
		if o != nil {
			c.workloads.rcs[o.Namespace+"/"+o.Name] = o
		}
	}
	for _, o := range s.ReplicaSets {
		if o != nil {
			c.workloads.rss[o.Namespace+"/"+o.Name] = o
		}
	}
	for _, o := range s.StatefulSets {
		if o != nil {
			c.workloads.sss[o.Namespace+"/"+o.Name] = o
		}
	}
	return c
}

// Ignored lists the snapshot's objects New skipped and why, e.g. "pod
// shop/web-1 is bound to node n9, which is not in the snapshot".
func (c *Cluster) Ignored() []string { return c.ignored }

// Nodes is the number of nodes in the simulation.
func (c *Cluster) Nodes() int { return len(c.nodes) }

func (c *Cluster) ignore(format string, args ...any) {
	c.ignored = append(c.ignored, fmt.Sprintf(format, args...))
}

func (c *Cluster) addNode(n *corev1.Node) {
	ni := &nodeInfo{idx: len(c.nodes), node: n, labels: labels.Set(n.Labels), unschedulable: n.Spec.Unschedulable}
	ni.alloc.add(n.Status.Allocatable)
	var key strings.Builder
	for _, t := range n.Spec.Taints {
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute:
			ni.hardTaints = append(ni.hardTaints, t)
			fmt.Fprintf(&key, "%s=%s:%s,", t.Key, t.Value, t.Effect)
		case corev1.TaintEffectPreferNoSchedule:
			ni.preferTaints = append(ni.preferTaints, t)
		}
	}
	id, ok := c.taints[key.String()]
	if !ok {
		id = len(c.taints)
		c.taints[key.String()] = id
	}
	ni.taintSet = id
	c.byName[n.Name] = ni.idx
	c.nodes = append(c.nodes, ni)
}

// bind puts p on node n: its requests, ports and terms now count there.
func (c *Cluster) bind(p *podInfo, n int) {
	ni := c.nodes[n]
	p.node = n
	ni.pods = append(ni.pods, p)
	ni.balanceValid = false
	ni.requested.addScaled(p.req, 1)
	ni.nonZeroCPU += p.nonZeroCPU
	ni.nonZeroMem += p.nonZeroMem
	if len(p.ports) > 0 {
		if ni.ports == nil {
			ni.ports = hostPortInfo{}
		}
		for _, hp := range p.ports {
			ni.ports.add(hp.HostIP, string(hp.Protocol), hp.HostPort)
		}
	}
	c.pods[p.key] = p
	c.indexPod(p, 1)
}

// unbind takes p off its node.
func (c *Cluster) unbind(p *podInfo) {
	ni := c.nodes[p.node]
	c.indexPod(p, -1)
	for i, q := range ni.pods {
		if q == p {
			ni.pods = append(ni.pods[:i], ni.pods[i+1:]...)
			break
		}
	}
	ni.balanceValid = false
	ni.requested.addScaled(p.req, -1)
	ni.nonZeroCPU -= p.nonZeroCPU
	ni.nonZeroMem -= p.nonZeroMem
	for _, hp := range p.ports {
		ni.ports.remove(hp.HostIP, string(hp.Protocol), hp.HostPort)
	}
	delete(c.pods, p.key)
	p.node = -1
}

// Remove takes a bound pod (by namespace and name) off its node, as an
// eviction does, and says whether it was there.
func (c *Cluster) Remove(namespace, name string) bool {
	p, ok := c.pods[namespace+"/"+name]
	if ok {
		c.unbind(p)
	}
	return ok
}

// NodeOf returns the node a pod is bound to in the simulation, or "".
func (c *Cluster) NodeOf(namespace, name string) string {
	if p, ok := c.pods[namespace+"/"+name]; ok {
		return c.nodes[p.node].node.Name
	}
	return ""
}
