package cluster

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/trimtab-dev/trimtab/config"
)

// Node labels, as Karpenter and the cloud providers set them; trimtab reads
// the capacity-type label by default.
const (
	LabelCapacityType = "karpenter.sh/capacity-type"
	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelZone         = "topology.kubernetes.io/zone"
	CapacitySpot      = "spot"
	CapacityOnDemand  = "on-demand"
)

// kwokAnnotation marks the nodes kwok manages (see startKwok).
const kwokAnnotation = "kwok.x-k8s.io/node"

// NodeSpec is one simulated node.
type NodeSpec struct {
	Name         string
	Zone         string
	InstanceType string
	CapacityType string // CapacitySpot or CapacityOnDemand
	CPU, Memory  string // allocatable, as quantities
	Pods         int
}

// instanceTypes are the shapes of the default node set: EC2 types that appear
// in the recorded 2015 spot price history (../shared/data/prices), so demos
// can join node placement with real prices. Allocatable is capacity less a
// typical kube/system reservation.
var instanceTypes = []struct {
	name, cpu, memory string
	pods              int
}{
	{"c3.xlarge", "3920m", "6500Mi", 58}, // 4 vCPU, 7.5 GiB
	{"r3.large", "1930m", "14000Mi", 29}, // 2 vCPU, 15.25 GiB
}

// DefaultNodes is 2 zones × {spot, on-demand} × 2 instance types.
func DefaultNodes() []NodeSpec {
	var nodes []NodeSpec
	for _, zone := range []string{"us-east-1a", "us-east-1b"} {
		for _, capacity := range []string{CapacityOnDemand, CapacitySpot} {
			for _, it := range instanceTypes {
				nodes = append(nodes, NodeSpec{
					Name:         fmt.Sprintf("%s-%s-%s", capacity, strings.ReplaceAll(it.name, ".", "-"), zone[len(zone)-2:]),
					Zone:         zone,
					InstanceType: it.name,
					CapacityType: capacity,
					CPU:          it.cpu,
					Memory:       it.memory,
					Pods:         it.pods,
				})
			}
		}
	}
	return nodes
}

// node builds the Node object for a spec.
func (n NodeSpec) node(spotTaint *corev1.Taint) (*corev1.Node, error) {
	cpu, err := resource.ParseQuantity(n.CPU)
	if err != nil {
		return nil, fmt.Errorf("node %s: cpu %q: %w", n.Name, n.CPU, err)
	}
	mem, err := resource.ParseQuantity(n.Memory)
	if err != nil {
		return nil, fmt.Errorf("node %s: memory %q: %w", n.Name, n.Memory, err)
	}
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    cpu,
		corev1.ResourceMemory: mem,
		corev1.ResourcePods:   *resource.NewQuantity(int64(n.Pods), resource.DecimalSI),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        n.Name,
			Annotations: map[string]string{kwokAnnotation: "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname":        n.Name,
				"kubernetes.io/os":              "linux",
				"kubernetes.io/arch":            "amd64",
				"type":                          "kwok",
				LabelCapacityType:               n.CapacityType,
				LabelInstanceType:               n.InstanceType,
				LabelZone:                       n.Zone,
				"topology.kubernetes.io/region": strings.TrimRight(n.Zone, "abcdef"),
			},
		},
		Status: corev1.NodeStatus{Capacity: alloc, Allocatable: alloc},
	}
	if n.CapacityType == CapacitySpot && spotTaint != nil {
		node.Spec.Taints = []corev1.Taint{*spotTaint}
	}
	return node, nil
}

// createNodes registers the node set; kwok then takes them over (their
// status, heartbeats and the pods bound to them).
func createNodes(ctx context.Context, cs kubernetes.Interface, specs []NodeSpec, spotTaint string) error {
	var taint *corev1.Taint
	if spotTaint != "" {
		t, err := config.ParseTaint(spotTaint)
		if err != nil {
			return err
		}
		taint = &t
	}
	for _, spec := range specs {
		node, err := spec.node(taint)
		if err != nil {
			return err
		}
		status := node.Status
		created, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err := ignoreAlreadyExists(err); err != nil {
			return fmt.Errorf("creating node %s: %w", spec.Name, err)
		}
		if created != nil && created.Name != "" {
			// Status is ignored on create; allocatable must be set for the
			// scheduler to place anything. The node lifecycle controller may
			// update the node in between (a conflict): read it again, retry.
			if err := setNodeStatus(ctx, cs, created.Name, status); err != nil {
				return fmt.Errorf("setting allocatable of node %s: %w", spec.Name, err)
			}
		}
	}
	return nil
}

// setNodeStatus sets a node's capacity and allocatable, retrying on
// conflicts.
func setNodeStatus(ctx context.Context, cs kubernetes.Interface, name string, status corev1.NodeStatus) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Capacity, n.Status.Allocatable = status.Capacity, status.Allocatable
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
}

// nodesReady returns nil once want nodes report Ready.
func nodesReady(ctx context.Context, cs kubernetes.Interface, want int) error {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ready := 0
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if ready < want {
		return fmt.Errorf("%d of %d nodes Ready", ready, want)
	}
	return nil
}
