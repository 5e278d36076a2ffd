package fit

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// node builds a node with allocatable cpu, memory and pods and the given
// labels (hostname added).
func node(name, cpu, mem string, pods int64, labels map[string]string) *corev1.Node {
	l := map[string]string{corev1.LabelHostname: name}
	for k, v := range labels {
		l[k] = v
	}
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(mem),
		corev1.ResourcePods:   *resource.NewQuantity(pods, resource.DecimalSI),
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}, Status: corev1.NodeStatus{Allocatable: alloc}}
}

func tainted(n *corev1.Node, key string, effect corev1.TaintEffect) *corev1.Node {
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: "true", Effect: effect})
	return n
}

func cordoned(n *corev1.Node) *corev1.Node {
	n.Spec.Unschedulable = true
	return n
}

// pod builds a pod requesting cpu and memory ("" requests nothing).
func pod(name, cpu, mem string) *corev1.Pod {
	rl := corev1.ResourceList{}
	if cpu != "" {
		rl[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		rl[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "a"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: rl}}}},
	}
}

func on(p *corev1.Pod, node string) *corev1.Pod {
	p.Spec.NodeName = node
	return p
}

func with(p *corev1.Pod, f func(*corev1.Pod)) *corev1.Pod {
	f(p)
	return p
}

func TestPlace(t *testing.T) {
	zone := func(z string) map[string]string { return map[string]string{corev1.LabelTopologyZone: z} }
	spreadByZone := func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}},
		}}
	}
	tests := []struct {
		name    string
		snap    Snapshot
		pod     *corev1.Pod
		node    string // "" = unschedulable
		message string // for an unschedulable pod
	}{
		{
			name:    "empty cluster",
			pod:     pod("p", "100m", "100Mi"),
			message: "no nodes available to schedule pods",
		},
		{
			name: "a cordoned node is skipped",
			snap: Snapshot{Nodes: []*corev1.Node{cordoned(node("a", "4", "8Gi", 10, nil)), node("b", "1", "1Gi", 10, nil)}},
			pod:  pod("p", "100m", "100Mi"),
			node: "b",
		},
		{
			name:    "only cordoned nodes",
			snap:    Snapshot{Nodes: []*corev1.Node{cordoned(node("a", "4", "8Gi", 10, nil))}},
			pod:     pod("p", "100m", "100Mi"),
			message: "0/1 nodes are available: 1 node(s) were unschedulable.",
		},
		{
			name: "tolerating the unschedulable taint makes a cordoned node usable",
			snap: Snapshot{Nodes: []*corev1.Node{cordoned(node("a", "4", "8Gi", 10, nil))}},
			pod: with(pod("p", "100m", "100Mi"), func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists}}
			}),
			node: "a",
		},
		{
			name: "a pod with no requests fits anywhere with a pod slot",
			snap: Snapshot{Nodes: []*corev1.Node{node("a", "0", "0", 1, nil)}},
			pod:  pod("p", "", ""),
			node: "a",
		},
		{
			name: "no pod slot left",
			snap: Snapshot{
				Nodes: []*corev1.Node{node("a", "4", "8Gi", 1, nil)},
				Pods:  []*corev1.Pod{on(pod("q", "", ""), "a")},
			},
			pod:     pod("p", "", ""),
			message: "0/1 nodes are available: 1 Too many pods.",
		},
		{
			name: "every shortfall and taint is counted, as the scheduler's event counts them",
			snap: Snapshot{Nodes: []*corev1.Node{
				node("a", "1", "8Gi", 10, nil),
				node("b", "1", "1Gi", 10, nil),
				tainted(node("c", "8", "8Gi", 10, nil), "spot", corev1.TaintEffectNoSchedule),
				tainted(node("d", "8", "8Gi", 10, nil), "spot", corev1.TaintEffectNoExecute),
			}},
			pod:     pod("p", "2", "2Gi"),
			message: "0/4 nodes are available: 1 Insufficient memory, 2 Insufficient cpu, 2 node(s) had untolerated taint(s).",
		},
		{
			name: "a PreferNoSchedule taint only scores",
			snap: Snapshot{Nodes: []*corev1.Node{
				tainted(node("a", "4", "8Gi", 10, nil), "noisy", corev1.TaintEffectPreferNoSchedule),
				node("b", "4", "8Gi", 10, nil),
			}},
			pod:  pod("p", "100m", "100Mi"),
			node: "b",
		},
		{
			name: "requests already bound count",
			snap: Snapshot{
				Nodes: []*corev1.Node{node("a", "2", "8Gi", 10, nil), node("b", "2", "8Gi", 10, nil)},
				Pods: []*corev1.Pod{
					on(pod("q", "1500m", ""), "a"),
					on(with(pod("done", "2", ""), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }), "b"), // finished pods hold nothing
				},
			},
			pod:  pod("p", "1", ""),
			node: "b",
		},
		{
			name: "nodes without capacity-type, instance-type or zone labels fail a selector on them, with the scheduler's reason",
			snap: Snapshot{Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)}},
			pod: with(pod("p", "100m", ""), func(p *corev1.Pod) {
				p.Spec.NodeSelector = map[string]string{"karpenter.sh/capacity-type": "on-demand"}
			}),
			message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
		},
		{
			name:    "a node without the zone label can't take a pod spreading by zone",
			snap:    Snapshot{Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)}},
			pod:     with(pod("p", "100m", ""), spreadByZone),
			message: "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label).",
		},
		{
			name: "spreading by zone picks the emptier zone",
			snap: Snapshot{
				Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, zone("z1")), node("b", "4", "8Gi", 10, zone("z2"))},
				Pods:  []*corev1.Pod{on(pod("q", "", ""), "b")},
			},
			pod:  with(pod("p", "100m", ""), spreadByZone),
			node: "a",
		},
		{
			name: "a pod with no controller is placed like any other",
			snap: Snapshot{Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, zone("z1"))}},
			pod:  pod("orphan", "100m", "100Mi"),
			node: "a",
		},
		{
			name: "host ports in use",
			snap: Snapshot{
				Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)},
				Pods:  []*corev1.Pod{on(with(pod("q", "", ""), hostPort(8080)), "a")},
			},
			pod:     with(pod("p", "", ""), hostPort(8080)),
			message: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.",
		},
		{
			name: "a PodDisruptionBudget allowing no disruption is the planner's concern, not placement's",
			snap: Snapshot{
				Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)},
				PDBs: []*policyv1.PodDisruptionBudget{{
					ObjectMeta: metav1.ObjectMeta{Name: "none", Namespace: "ns"},
					Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(0))},
				}},
			},
			pod:  pod("p", "100m", ""),
			node: "a",
		},
		{
			name: "metadata.name terms that don't intersect",
			snap: Snapshot{Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)}},
			pod: with(pod("p", "", ""), func(p *corev1.Pod) {
				p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
					NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
						{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
						{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}},
					}}},
				}}}
			}),
			message: "0/1 nodes are available: pod affinity terms conflict.",
		},
		{
			name: "a pod affinity selector that doesn't parse",
			snap: Snapshot{Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)}},
			pod: with(pod("p", "", ""), func(p *corev1.Pod) {
				p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					TopologyKey:   corev1.LabelHostname,
					LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Nearly"}}},
				}}}}
			}),
			message: `0/1 nodes are available: parsing pod: requiredAffinityTerms: "Nearly" is not a valid label selector operator.`,
		},
		{
			name: "the first pod of a group with affinity to itself may go anywhere",
			snap: Snapshot{Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)}},
			pod: with(pod("p", "", ""), func(p *corev1.Pod) {
				p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					TopologyKey: corev1.LabelHostname, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}},
				}}}}
			}),
			node: "a",
		},
		{
			name: "a bound pod's anti-affinity keeps the newcomer off its node",
			snap: Snapshot{
				Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)},
				Pods: []*corev1.Pod{on(with(pod("q", "", ""), func(p *corev1.Pod) {
					p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
						TopologyKey: corev1.LabelHostname, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}},
					}}}}
				}), "a")},
			},
			pod:     pod("p", "", ""),
			message: "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.snap)
			got := c.Place(tt.pod)
			if got.Node != tt.node {
				t.Fatalf("placed on %q, want %q: %s", got.Node, tt.node, got.Message())
			}
			if tt.node == "" && got.Message() != tt.message {
				t.Errorf("message:\n got %s\nwant %s", got.Message(), tt.message)
			}
			if tt.node != "" && c.NodeOf(tt.pod.Namespace, tt.pod.Name) != tt.node {
				t.Errorf("the placed pod isn't bound to %s in the simulation", tt.node)
			}
		})
	}
}

func hostPort(port int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: port, HostPort: port, Protocol: corev1.ProtocolTCP}}
	}
}

// TestPlaceReserves: each placed pod takes its share, so the next sees a
// fuller node.
func TestPlaceReserves(t *testing.T) {
	c := New(Snapshot{Nodes: []*corev1.Node{node("a", "2", "8Gi", 10, nil)}})
	for i, want := range []string{"a", "a", ""} {
		p := pod(string(rune('p'+i)), "1", "")
		if got := c.Place(p); got.Node != want {
			t.Fatalf("pod %d: placed on %q, want %q (%s)", i, got.Node, want, got.Message())
		}
	}
}

// TestExplainChangesNothing: Explain reports every node's verdict and
// leaves the simulation as it was.
func TestExplainChangesNothing(t *testing.T) {
	c := New(Snapshot{Nodes: []*corev1.Node{node("a", "1", "8Gi", 10, nil), node("b", "4", "8Gi", 10, nil)}})
	pl, verdicts := c.Explain(pod("p", "2", ""))
	if pl.Node != "b" || len(verdicts) != 2 {
		t.Fatalf("got %s with %d verdicts", pl.Message(), len(verdicts))
	}
	if strings.Join(verdicts[0].Reasons, ",") != "Insufficient cpu" || len(verdicts[1].Reasons) != 0 {
		t.Errorf("verdicts: %+v", verdicts)
	}
	if c.NodeOf("ns", "p") != "" {
		t.Error("Explain bound the pod")
	}
}

// TestMove: an evicted pod's replacement sees the room its eviction freed.
func TestMove(t *testing.T) {
	big := on(pod("big", "3", ""), "a")
	c := New(Snapshot{
		Nodes: []*corev1.Node{node("a", "4", "8Gi", 10, nil)},
		Pods:  []*corev1.Pod{big, on(pod("small", "1", ""), "a")},
	})
	got := c.Move([]*corev1.Pod{big})
	if len(got) != 1 || got[0].Node != "a" {
		t.Fatalf("moving a pod off a full node: %v", got)
	}
}

// TestBadInput: nothing in a snapshot panics; what can't be used is named.
func TestBadInput(t *testing.T) {
	c := New(Snapshot{
		Nodes: []*corev1.Node{nil, {}, node("a", "4", "8Gi", 10, nil), node("a", "1", "1Gi", 1, nil)},
		Pods:  []*corev1.Pod{nil, on(pod("lost", "", ""), "gone"), on(pod("q", "", ""), "a"), on(pod("q", "", ""), "a")},
	})
	want := []string{
		"node #0 is nil",
		"node #1 has no name",
		"node a appears twice in the snapshot; the first is used",
		"pod #0 is nil",
		"pod ns/lost is bound to node gone, which is not in the snapshot",
		"pod ns/q appears twice in the snapshot; the first is used",
	}
	if got := c.Ignored(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ignored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := c.Place(nil); got.Scheduled() || got.Message() != "0/1 nodes are available: no pod given." {
		t.Errorf("placing nil: %s", got.Message())
	}
	if err := c.Bind(pod("p", "", ""), "gone"); err == nil {
		t.Error("binding to a node that isn't there: no error")
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "bare"}} // no labels, no allocatable
	if got := New(Snapshot{Nodes: []*corev1.Node{node}}).Place(pod("p", "", "")); got.Message() != "0/1 nodes are available: 1 Too many pods." {
		t.Errorf("a node reporting nothing allocatable: %s", got.Message())
	}
}
