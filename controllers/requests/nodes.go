package requests

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/decider/requests/stamp"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// nodeInfo is what the controller needs of the nodes: the largest
// allocatable (no recommendation exceeds it) and the largest capacity (no
// usage sample can).
type nodeInfo struct {
	maxAllocatable, maxCapacity requests.Resources
}

// nodes lists the nodes from the cache.
func (c *Controller) nodes(ctx context.Context) (nodeInfo, error) {
	var list corev1.NodeList
	if err := c.Client.List(ctx, &list); err != nil {
		return nodeInfo{}, fmt.Errorf("listing nodes: %w", err)
	}
	var n nodeInfo
	for _, node := range list.Items {
		a := resourcesOf(node.Status.Allocatable)
		cp := resourcesOf(node.Status.Capacity)
		n.maxAllocatable.CPU, n.maxAllocatable.Memory = max(n.maxAllocatable.CPU, a.CPU), max(n.maxAllocatable.Memory, a.Memory)
		n.maxCapacity.CPU, n.maxCapacity.Memory = max(n.maxCapacity.CPU, cp.CPU, a.CPU), max(n.maxCapacity.Memory, cp.Memory, a.Memory)
	}
	return n, nil
}

// absurd reports whether a usage value is above every node's capacity.
func (n nodeInfo) absurd(resource string, v float64) bool {
	switch resource {
	case prometheus.ResourceCPU:
		return n.maxCapacity.CPU > 0 && v > n.maxCapacity.CPU
	case prometheus.ResourceMemory:
		return n.maxCapacity.Memory > 0 && v > n.maxCapacity.Memory
	}
	return true
}

func resourcesOf(l corev1.ResourceList) requests.Resources {
	var r requests.Resources
	if q, ok := l[corev1.ResourceCPU]; ok {
		r.CPU = stamp.Value(q)
	}
	if q, ok := l[corev1.ResourceMemory]; ok {
		r.Memory = stamp.Value(q)
	}
	return r
}
