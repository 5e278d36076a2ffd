// Package fittest makes seeded random clusters and pods for testing and
// benchmarking package fit: the same seed gives the same scenario, so a
// disagreement with kube-scheduler can be replayed. The pods exercise every
// rule fit simulates: requests (init containers and sidecars included),
// host ports, nodeSelector, required and preferred node affinity with every
// operator, taints of each effect and tolerations for them, cordoned nodes,
// topology spread constraints (minDomains, inclusion policies,
// matchLabelKeys), and required and preferred inter-pod (anti-)affinity.
package fittest

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Node labels and taints the scenarios use besides the well-known ones.
const (
	LabelDisk         = "example.com/disk"
	LabelGeneration   = "example.com/generation"
	LabelCapacityType = "karpenter.sh/capacity-type"
	LabelInstanceType = "node.kubernetes.io/instance-type"
	TaintSpot         = "example.com/spot"
	TaintDedicated    = "example.com/dedicated"
	TaintNoisy        = "example.com/noisy"
)

// Options shape a scenario. Zero values take the defaults.
type Options struct {
	Nodes int // default 10
	Pods  int // default 60

	Namespace  string // default "default"
	NodePrefix string // node names are NodePrefix + "n" + index; default "fit-"

	// Added to every node and pod: how a test on a shared cluster keeps its
	// pods on its own nodes and other tests' pods off them.
	NodeLabels      map[string]string
	NodeTaints      []corev1.Taint
	PodNodeSelector map[string]string
	PodTolerations  []corev1.Toleration

	// NamespaceSelectors lets affinity terms select namespaces by label
	// ({} = every namespace). Off for shared clusters, where other tests'
	// pods would match.
	NamespaceSelectors bool
}

// Scenario is a cluster and the pods to place on it, in order.
type Scenario struct {
	Seed  uint64
	Nodes []*corev1.Node
	Pods  []*corev1.Pod
}

var (
	zones   = []string{"zone-a", "zone-b", "zone-c"}
	apps    = []string{"web", "api", "db", "batch", "cache"}
	tiers   = []string{"front", "back"}
	shapes  = []struct{ cpu, mem string }{{"2", "4Gi"}, {"4", "8Gi"}, {"4", "16Gi"}, {"8", "16Gi"}, {"8", "32Gi"}}
	cpus    = []string{"", "", "50m", "100m", "250m", "500m", "750m", "1", "1500m"}
	mems    = []string{"", "", "64Mi", "128Mi", "256Mi", "512Mi", "1Gi", "2Gi", "3Gi"}
	intypes = []string{"m5.large", "m5.xlarge", "c5.2xlarge", "r5.xlarge"}
)

// Generate makes the scenario for seed.
func Generate(seed uint64, o Options) Scenario {
	if o.Nodes == 0 {
		o.Nodes = 10
	}
	if o.Pods == 0 {
		o.Pods = 60
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.NodePrefix == "" {
		o.NodePrefix = "fit-"
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x7a1b)), o: o}
	s := Scenario{Seed: seed}
	for i := 0; i < o.Nodes; i++ {
		s.Nodes = append(s.Nodes, g.node(fmt.Sprintf("%sn%02d", o.NodePrefix, i)))
	}
	for i := 0; i < o.Pods; i++ {
		s.Pods = append(s.Pods, g.pod(fmt.Sprintf("p%03d", i)))
	}
	return s
}

type gen struct {
	r *rand.Rand
	o Options
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

func (g *gen) node(name string) *corev1.Node {
	shape := pick(g, shapes)
	pods := 6 + g.r.IntN(20)
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(shape.cpu),
		corev1.ResourceMemory: resource.MustParse(shape.mem),
		corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
	}
	l := map[string]string{
		corev1.LabelHostname: name,
		corev1.LabelOSStable: "linux",
		LabelGeneration:      strconv.Itoa(1 + g.r.IntN(5)),
		LabelInstanceType:    pick(g, intypes),
		LabelCapacityType:    "on-demand",
		"kubernetes.io/arch": "amd64",
		"type":               "kwok",
	}
	if g.chance(0.9) { // a node without a zone: spread constraints must say so
		l[corev1.LabelTopologyZone] = pick(g, zones)
	}
	if g.chance(0.6) {
		l[LabelDisk] = pick(g, []string{"ssd", "hdd"})
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l},
		Status:     corev1.NodeStatus{Capacity: alloc, Allocatable: alloc},
	}
	if g.chance(0.4) {
		l[LabelCapacityType] = "spot"
		if g.chance(0.75) {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: TaintSpot, Value: "true", Effect: corev1.TaintEffectNoSchedule})
		}
	}
	if g.chance(0.1) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: TaintDedicated, Value: "batch", Effect: corev1.TaintEffectNoExecute})
	}
	if g.chance(0.3) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: TaintNoisy, Value: "true", Effect: corev1.TaintEffectPreferNoSchedule})
	}
	if g.chance(0.08) {
		n.Spec.Unschedulable = true
	}
	for k, v := range g.o.NodeLabels {
		l[k] = v
	}
	n.Spec.Taints = append(n.Spec.Taints, g.o.NodeTaints...)
	return n
}

func (g *gen) requests() corev1.ResourceRequirements {
	var rr corev1.ResourceRequirements
	rl := corev1.ResourceList{}
	if c := pick(g, cpus); c != "" {
		rl[corev1.ResourceCPU] = resource.MustParse(c)
	}
	if m := pick(g, mems); m != "" {
		rl[corev1.ResourceMemory] = resource.MustParse(m)
	}
	if len(rl) == 0 {
		return rr
	}
	if g.chance(0.15) {
		rr.Limits = rl // requests default to limits
	} else {
		rr.Requests = rl
	}
	return rr
}

func (g *gen) pod(name string) *corev1.Pod {
	app := pick(g, apps)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: g.o.Namespace,
			Labels: map[string]string{"app": app, "tier": pick(g, tiers)},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10", Resources: g.requests()}},
		},
	}
	if g.chance(0.2) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "helper", Image: "registry.k8s.io/pause:3.10", Resources: g.requests()})
	}
	if g.chance(0.1) {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init", Image: "registry.k8s.io/pause:3.10", Resources: g.requests()})
	}
	if g.chance(0.08) {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{
			Name: "sidecar", Image: "registry.k8s.io/pause:3.10", Resources: g.requests(),
			RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
		})
	}
	if g.chance(0.08) {
		proto := pick(g, []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolTCP, corev1.ProtocolUDP})
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: pick(g, []int32{8080, 9090}), Protocol: proto}}
	}
	if g.chance(0.15) {
		p.Spec.NodeSelector = map[string]string{}
		if g.chance(0.5) {
			p.Spec.NodeSelector[LabelDisk] = pick(g, []string{"ssd", "hdd"})
		} else {
			p.Spec.NodeSelector[LabelCapacityType] = pick(g, []string{"spot", "on-demand"})
		}
	}
	g.nodeAffinity(p)
	g.tolerations(p)
	g.spread(p, app)
	g.podAffinity(p, app)
	for k, v := range g.o.PodNodeSelector {
		if p.Spec.NodeSelector == nil {
			p.Spec.NodeSelector = map[string]string{}
		}
		p.Spec.NodeSelector[k] = v
	}
	p.Spec.Tolerations = append(p.Spec.Tolerations, g.o.PodTolerations...)
	return p
}

func (g *gen) requirement() corev1.NodeSelectorRequirement {
	switch g.r.IntN(6) {
	case 0:
		return corev1.NodeSelectorRequirement{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{pick(g, zones), pick(g, zones)}}
	case 1:
		return corev1.NodeSelectorRequirement{Key: LabelInstanceType, Operator: corev1.NodeSelectorOpNotIn, Values: []string{pick(g, intypes)}}
	case 2:
		return corev1.NodeSelectorRequirement{Key: LabelDisk, Operator: corev1.NodeSelectorOpExists}
	case 3:
		return corev1.NodeSelectorRequirement{Key: LabelDisk, Operator: corev1.NodeSelectorOpDoesNotExist}
	case 4:
		return corev1.NodeSelectorRequirement{Key: LabelGeneration, Operator: corev1.NodeSelectorOpGt, Values: []string{strconv.Itoa(g.r.IntN(4))}}
	default:
		return corev1.NodeSelectorRequirement{Key: LabelGeneration, Operator: corev1.NodeSelectorOpLt, Values: []string{strconv.Itoa(2 + g.r.IntN(4))}}
	}
}

func (g *gen) term() corev1.NodeSelectorTerm {
	t := corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{g.requirement()}}
	if g.chance(0.3) {
		t.MatchExpressions = append(t.MatchExpressions, g.requirement())
	}
	return t
}

func (g *gen) nodeAffinity(p *corev1.Pod) {
	var na corev1.NodeAffinity
	if g.chance(0.2) {
		req := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{g.term()}}
		if g.chance(0.3) {
			req.NodeSelectorTerms = append(req.NodeSelectorTerms, g.term())
		}
		na.RequiredDuringSchedulingIgnoredDuringExecution = req
	}
	if g.chance(0.3) {
		for i := 0; i < 1+g.r.IntN(2); i++ {
			na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
				corev1.PreferredSchedulingTerm{Weight: int32(1 + g.r.IntN(100)), Preference: g.term()})
		}
	}
	if na.RequiredDuringSchedulingIgnoredDuringExecution != nil || na.PreferredDuringSchedulingIgnoredDuringExecution != nil {
		affinity(p).NodeAffinity = &na
	}
}

func affinity(p *corev1.Pod) *corev1.Affinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	return p.Spec.Affinity
}

func (g *gen) tolerations(p *corev1.Pod) {
	if g.chance(0.5) {
		if g.chance(0.5) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: TaintSpot, Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule})
		} else {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: TaintSpot, Operator: corev1.TolerationOpExists})
		}
	}
	if g.chance(0.15) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: TaintDedicated, Operator: corev1.TolerationOpEqual, Value: "batch", Effect: corev1.TaintEffectNoExecute})
	}
	if g.chance(0.25) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: TaintNoisy, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectPreferNoSchedule})
	}
	if g.chance(0.05) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
}

func (g *gen) appSelector(app string) *metav1.LabelSelector {
	if g.chance(0.8) {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{pick(g, apps), pick(g, apps)}},
	}}
}

func (g *gen) spread(p *corev1.Pod, app string) {
	if !g.chance(0.3) {
		return
	}
	for i := 0; i < 1+g.r.IntN(2); i++ {
		c := corev1.TopologySpreadConstraint{
			MaxSkew:           int32(1 + g.r.IntN(2)),
			TopologyKey:       pick(g, []string{corev1.LabelTopologyZone, corev1.LabelHostname}),
			WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector:     g.appSelector(app),
		}
		if g.chance(0.4) {
			c.WhenUnsatisfiable = corev1.ScheduleAnyway
		} else if g.chance(0.2) {
			c.MinDomains = ptr.To(int32(2 + g.r.IntN(3)))
		}
		if g.chance(0.2) {
			c.NodeAffinityPolicy = ptr.To(pick(g, []corev1.NodeInclusionPolicy{corev1.NodeInclusionPolicyHonor, corev1.NodeInclusionPolicyIgnore}))
		}
		if g.chance(0.2) {
			c.NodeTaintsPolicy = ptr.To(pick(g, []corev1.NodeInclusionPolicy{corev1.NodeInclusionPolicyHonor, corev1.NodeInclusionPolicyIgnore}))
		}
		if g.chance(0.15) {
			c.MatchLabelKeys = []string{"tier"}
		}
		dup := false // the API allows one constraint per key and action
		for _, o := range p.Spec.TopologySpreadConstraints {
			dup = dup || (o.TopologyKey == c.TopologyKey && o.WhenUnsatisfiable == c.WhenUnsatisfiable)
		}
		if !dup {
			p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, c)
		}
	}
}

func (g *gen) podTerm(app string) corev1.PodAffinityTerm {
	t := corev1.PodAffinityTerm{
		LabelSelector: g.appSelector(app),
		TopologyKey:   pick(g, []string{corev1.LabelHostname, corev1.LabelHostname, corev1.LabelTopologyZone}),
	}
	if g.o.NamespaceSelectors && g.chance(0.15) {
		t.NamespaceSelector = &metav1.LabelSelector{}
	}
	return t
}

func (g *gen) podAffinity(p *corev1.Pod, app string) {
	other := pick(g, apps)
	if g.chance(0.12) {
		pa := &corev1.PodAffinity{}
		if g.chance(0.5) {
			pa.RequiredDuringSchedulingIgnoredDuringExecution = []corev1.PodAffinityTerm{g.podTerm(other)}
		} else {
			pa.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.WeightedPodAffinityTerm{{Weight: int32(1 + g.r.IntN(100)), PodAffinityTerm: g.podTerm(other)}}
		}
		affinity(p).PodAffinity = pa
	}
	if g.chance(0.2) {
		pa := &corev1.PodAntiAffinity{}
		if g.chance(0.5) {
			pa.RequiredDuringSchedulingIgnoredDuringExecution = []corev1.PodAffinityTerm{g.podTerm(app)}
		} else {
			pa.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.WeightedPodAffinityTerm{{Weight: int32(1 + g.r.IntN(100)), PodAffinityTerm: g.podTerm(app)}}
		}
		affinity(p).PodAntiAffinity = pa
	}
}
