package placer

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/prices"
)

// Node labels the placer reads a node's spot market from, as EC2 nodes
// carry them (kubelet's well-known labels).
const (
	LabelInstanceType = corev1.LabelInstanceTypeStable // node.kubernetes.io/instance-type
	LabelZone         = corev1.LabelTopologyZone       // topology.kubernetes.io/zone
	// LabelZoneID is EKS's and Karpenter's zone ID label (use1-az1), which
	// spot placement scores are reported by.
	LabelZoneID = "topology.k8s.aws/zone-id"
)

// NodeInfo is what the placer knows of a node.
type NodeInfo struct {
	Node *corev1.Node
	// Capacity is spot or on-demand by the capacity-type label; "" when the
	// node has neither value.
	Capacity capacity.Type
	// Market is the node's spot market; Priced is false when the node
	// lacks the instance-type or zone label (Problem says which).
	Market prices.Market
	Priced bool
	// Interrupted names the interruption signal the node carries ("taint
	// aws-node-termination-handler/spot-itn"); "" when none.
	Interrupted string
	// Problem says why the node's capacity type or market is unknown.
	Problem string
}

// Nodes classifies nodes by capacity type, market and interruption signal.
// A node without the capacity-type label is neither spot nor on-demand, and
// a spot node without the instance-type or zone label has no market: no
// price ever moves pods off them, and Problem says why. Interruption signals
// count on any node.
func Nodes(nodes []*corev1.Node, s config.Settings, p config.PlacerSettings, product string) map[string]*NodeInfo {
	out := make(map[string]*NodeInfo, len(nodes))
	for _, n := range nodes {
		if n == nil || n.Name == "" {
			continue
		}
		ni := &NodeInfo{Node: n}
		switch v, ok := n.Labels[s.CapacityTypeLabel]; {
		case !ok:
			ni.Problem = fmt.Sprintf("node %s has no %s label: neither spot nor on-demand to trimtab", n.Name, s.CapacityTypeLabel)
		case v == s.SpotValue:
			ni.Capacity = capacity.Spot
		case v == s.OnDemandValue:
			ni.Capacity = capacity.OnDemand
		default:
			ni.Problem = fmt.Sprintf("node %s has %s=%q, neither %q nor %q", n.Name, s.CapacityTypeLabel, v, s.SpotValue, s.OnDemandValue)
		}
		typ, zone := n.Labels[LabelInstanceType], n.Labels[LabelZone]
		ni.Market = prices.Market{InstanceType: typ, Zone: zone, Product: product}
		ni.Priced = typ != "" && zone != ""
		if ni.Capacity == capacity.Spot && !ni.Priced {
			var missing []string
			if typ == "" {
				missing = append(missing, LabelInstanceType)
			}
			if zone == "" {
				missing = append(missing, LabelZone)
			}
			ni.Problem = fmt.Sprintf("spot node %s has no %s label: its market is unknown, so no price moves pods off it", n.Name, strings.Join(missing, " or "))
		}
		ni.Interrupted = interruption(n, p)
		out[n.Name] = ni
	}
	return out
}

// interruption names the first interruption signal on n, or "".
func interruption(n *corev1.Node, p config.PlacerSettings) string {
	for _, t := range n.Spec.Taints {
		if slices.Contains(p.InterruptionTaints, t.Key) {
			return "taint " + t.Key
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Status == corev1.ConditionTrue && slices.Contains(p.InterruptionConditions, string(c.Type)) {
			return "condition " + string(c.Type) + "=True"
		}
	}
	return ""
}

// Markets lists the distinct markets of the priced spot nodes, in order:
// the markets whose prices the placer reads.
func Markets(nodes map[string]*NodeInfo) []prices.Market {
	seen := map[prices.Market]bool{}
	var out []prices.Market
	for _, ni := range nodes {
		if ni.Capacity == capacity.Spot && ni.Priced && !seen[ni.Market] {
			seen[ni.Market] = true
			out = append(out, ni.Market)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
