package fit

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	resourcehelper "k8s.io/component-helpers/resource"
)

// The requests kube-scheduler assumes, when scoring, for a container that
// requests no CPU or memory, so that many such pods don't pile onto one node
// (pkg/scheduler/util/pod_resources.go).
const (
	defaultMilliCPURequest int64 = 100               // 0.1 core
	defaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MB
)

// resources is kube-scheduler's framework.Resource: CPU in millicores,
// memory and ephemeral storage in bytes, pod slots, and the scalar resources
// (extended, hugepages, prefixed native, attachable volumes).
type resources struct {
	milliCPU, memory, ephemeral int64
	pods                        int
	scalars                     map[corev1.ResourceName]int64
}

// add adds a ResourceList, as framework.Resource.Add does.
func (r *resources) add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.milliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.memory += q.Value()
		case corev1.ResourcePods:
			r.pods += int(q.Value())
		case corev1.ResourceEphemeralStorage:
			r.ephemeral += q.Value()
		default:
			if isScalarResourceName(name) {
				if r.scalars == nil {
					r.scalars = map[corev1.ResourceName]int64{}
				}
				r.scalars[name] += q.Value()
			}
		}
	}
}

// addScaled adds sign × o (sign is +1 or -1).
func (r *resources) addScaled(o resources, sign int64) {
	r.milliCPU += sign * o.milliCPU
	r.memory += sign * o.memory
	r.ephemeral += sign * o.ephemeral
	for name, v := range o.scalars {
		if r.scalars == nil {
			r.scalars = map[corev1.ResourceName]int64{}
		}
		r.scalars[name] += sign * v
	}
}

func (r resources) empty() bool {
	return r.milliCPU == 0 && r.memory == 0 && r.ephemeral == 0 && len(r.scalars) == 0
}

// podRequests is what a pod takes from a node: the requests the
// NodeResourcesFit filter checks and the node's Requested sum counts, and the
// "non-zero" CPU and memory the LeastAllocated score counts.
type podRequests struct {
	req                    resources
	nonZeroCPU, nonZeroMem int64
}

// requestsOf computes a pod's requests with the same helper and the same
// options kube-scheduler 1.37 uses with its default feature gates
// (PodLevelResources and in-place resize on): for a pod already bound, the
// larger of spec and status resources (framework.PodInfo.CalculateResource);
// for a pod being placed, the spec (noderesources.computePodResourceRequest).
func requestsOf(pod *corev1.Pod, bound bool) podRequests {
	opts := resourcehelper.PodResourcesOptions{
		UseStatusResources: bound,
		InPlacePodLevelResourcesVerticalScalingEnabled: bound,
	}
	reqs := resourcehelper.PodRequests(pod, opts)
	var pr podRequests
	pr.req.add(reqs)
	// framework.getNonMissingContainerRequests: the defaults fill in for
	// containers that request nothing; with pod-level requests set, only
	// for a resource the pod doesn't request at all.
	non0 := reqs
	podLevel := resourcehelper.IsPodLevelRequestsSet(pod)
	if podLevel || !everyContainerRequestsCPUAndMemory(pod) {
		fill := corev1.ResourceList{}
		if _, ok := reqs[corev1.ResourceCPU]; !podLevel || !ok {
			fill[corev1.ResourceCPU] = *resource.NewMilliQuantity(defaultMilliCPURequest, resource.DecimalSI)
		}
		if _, ok := reqs[corev1.ResourceMemory]; !podLevel || !ok {
			fill[corev1.ResourceMemory] = *resource.NewQuantity(defaultMemoryRequest, resource.DecimalSI)
		}
		if len(fill) > 0 {
			opts.NonMissingContainerRequests = fill
			non0 = resourcehelper.PodRequests(pod, opts)
		}
	}
	cpu, mem := non0[corev1.ResourceCPU], non0[corev1.ResourceMemory]
	pr.nonZeroCPU, pr.nonZeroMem = cpu.MilliValue(), mem.Value()
	return pr
}

// everyContainerRequestsCPUAndMemory: then no default fills in, and the
// second PodRequests pass would return the first's answer.
func everyContainerRequestsCPUAndMemory(pod *corev1.Pod) bool {
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			r := cs[i].Resources.Requests
			if _, ok := r[corev1.ResourceCPU]; !ok {
				return false
			}
			if _, ok := r[corev1.ResourceMemory]; !ok {
				return false
			}
		}
	}
	return true
}

// scoringRequests are the pod's CPU and memory requests the two resource
// scores use: LeastAllocated counts defaults for containers that request
// nothing, BalancedAllocation counts only what is requested
// (noderesources.resourceAllocationScorer.calculatePodResourceRequest). The
// pod is pending: its status has no resources to count.
func scoringRequests(p *podInfo) (leastCPU, leastMem, balancedCPU, balancedMem int64) {
	if !resourcehelper.IsPodLevelRequestsSet(p.pod) {
		// The same as requestsOf's: defaults for every container missing one.
		return p.nonZeroCPU, p.nonZeroMem, p.req.milliCPU, p.req.memory
	}
	opts := resourcehelper.PodResourcesOptions{}
	plain := resourcehelper.PodRequests(p.pod, opts)
	opts.NonMissingContainerRequests = corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(defaultMilliCPURequest, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(defaultMemoryRequest, resource.DecimalSI),
	}
	least := resourcehelper.PodRequests(p.pod, opts)
	lc, lm := least[corev1.ResourceCPU], least[corev1.ResourceMemory]
	bc, bm := plain[corev1.ResourceCPU], plain[corev1.ResourceMemory]
	return lc.MilliValue(), lm.Value(), bc.MilliValue(), bm.Value()
}

// isScalarResourceName follows pkg/scheduler/util.IsScalarResourceName and
// the pkg/apis/core/v1/helper predicates it calls.
func isScalarResourceName(name corev1.ResourceName) bool {
	s := string(name)
	return isExtendedResourceName(name) ||
		strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) ||
		strings.Contains(s, corev1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(s, corev1.ResourceAttachableVolumesPrefix)
}

func isExtendedResourceName(name corev1.ResourceName) bool {
	s := string(name)
	native := !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
	if native || strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}

// insufficient is the NodeResourcesFit reason for a resource.
func insufficient(name corev1.ResourceName) string {
	return fmt.Sprintf("Insufficient %v", name)
}
