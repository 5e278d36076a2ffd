package fittest

import (
	"fmt"
	"math/rand/v2"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Large is a production-shaped cluster for benchmarks: nodes in three zones
// (40% spot, tainted), and pods from Workloads ReplicaSets whose pods are
// identical but for their names, as replicas are. The mix, by workload:
// 55% requests only (plus the spot toleration for some), 20% spread over
// zones and hosts, 10% preferred anti-affinity to their own replicas, 5%
// required anti-affinity per host, 5% preferred affinity to another
// workload per zone, 5% with a nodeSelector. Every pod is controlled by a
// ReplicaSet in the snapshot, so kube-scheduler's default spreading applies
// to all pods without constraints of their own.
type Large struct {
	Nodes       []*corev1.Node
	ReplicaSets []*appsv1.ReplicaSet
	Pods        []*corev1.Pod // unbound, in creation order
}

// Workloads is how many ReplicaSets Large's pods come from.
const Workloads = 100

// GenerateLarge makes a cluster of nodes and pods pods for seed.
func GenerateLarge(seed uint64, nodes, pods int) Large {
	r := rand.New(rand.NewPCG(seed, 0x1a26e))
	var l Large
	for i := 0; i < nodes; i++ {
		name := fmt.Sprintf("node-%04d", i)
		alloc := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(fmt.Sprint(8 * (1 + r.IntN(2)))),
			corev1.ResourceMemory: resource.MustParse(fmt.Sprintf("%dGi", 32*(1+r.IntN(2)))),
			corev1.ResourcePods:   resource.MustParse("110"),
		}
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
				corev1.LabelHostname:     name,
				corev1.LabelTopologyZone: zones[i%len(zones)],
				LabelInstanceType:        intypes[r.IntN(len(intypes))],
				LabelCapacityType:        "on-demand",
				LabelDisk:                []string{"ssd", "hdd"}[r.IntN(2)],
				corev1.LabelOSStable:     "linux",
				"kubernetes.io/arch":     "amd64",
			}},
			Status: corev1.NodeStatus{Allocatable: alloc, Capacity: alloc},
		}
		if r.Float64() < 0.4 {
			n.Labels[LabelCapacityType] = "spot"
			n.Spec.Taints = []corev1.Taint{{Key: TaintSpot, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
		}
		l.Nodes = append(l.Nodes, n)
	}
	templates := make([]*corev1.Pod, Workloads)
	for w := range templates {
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%03d", w), Namespace: "bench", UID: types.UID(fmt.Sprintf("rs-%03d", w))},
			Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("w%03d", w)}}},
		}
		l.ReplicaSets = append(l.ReplicaSets, rs)
		templates[w] = largeTemplate(r, w, rs)
	}
	for i := 0; i < pods; i++ {
		p := templates[r.IntN(Workloads)].DeepCopy()
		p.Name = fmt.Sprintf("%s-%05d", p.Labels["app"], i)
		p.UID = types.UID(p.Name)
		l.Pods = append(l.Pods, p)
	}
	return l
}

func largeTemplate(r *rand.Rand, w int, rs *appsv1.ReplicaSet) *corev1.Pod {
	app := fmt.Sprintf("w%03d", w)
	own := &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	cpu := []string{"100m", "250m", "500m", "1"}[r.IntN(4)]
	mem := []string{"128Mi", "512Mi", "1Gi", "2Gi"}[r.IntN(4)]
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "bench", Labels: map[string]string{"app": app},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem),
		}}}}},
	}
	if r.Float64() < 0.5 {
		p.Spec.Tolerations = []corev1.Toleration{{Key: TaintSpot, Operator: corev1.TolerationOpExists}}
	}
	switch x := r.Float64(); {
	case x < 0.20:
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: own},
			{MaxSkew: 2, TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: own},
		}
	case x < 0.30:
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
			{Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: corev1.LabelHostname, LabelSelector: own}},
		}}}
	case x < 0.35:
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{TopologyKey: corev1.LabelHostname, LabelSelector: own},
		}}}
	case x < 0.40:
		other := &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("w%03d", r.IntN(Workloads))}}
		p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
			{Weight: 50, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: corev1.LabelTopologyZone, LabelSelector: other}},
		}}}
	case x < 0.45:
		p.Spec.NodeSelector = map[string]string{LabelDisk: "ssd"}
	}
	return p
}
