package fit

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// podInfo is a pod with what the rules ask of it computed once: its requests,
// host ports and parsed inter-pod affinity terms (kube-scheduler's
// framework.PodInfo).
type podInfo struct {
	pod  *corev1.Pod
	key  string // namespace/name
	node int    // index of the node it is bound to; -1 while being placed
	podRequests
	ports []corev1.ContainerPort

	reqAffinity, reqAnti   []affinityTerm
	prefAffinity, prefAnti []weightedAffinityTerm
	parseErr               error // a term whose selector doesn't parse
}

func newPodInfo(pod *corev1.Pod, bound bool) *podInfo {
	p := &podInfo{
		pod:         pod,
		key:         pod.Namespace + "/" + pod.Name,
		node:        -1,
		podRequests: requestsOf(pod, bound),
		ports:       hostPorts(pod),
	}
	p.parseTerms()
	return p
}

// parseTerms follows framework.NewPodInfo: each list that fails to parse is
// left empty and the errors are kept together.
func (p *podInfo) parseTerms() {
	a := p.pod.Spec.Affinity
	if a == nil || (a.PodAffinity == nil && a.PodAntiAffinity == nil) {
		return
	}
	var errs []error
	var err error
	if p.reqAffinity, err = affinityTerms(p.pod, requiredAffinityTerms(a)); err != nil {
		errs = append(errs, fmt.Errorf("requiredAffinityTerms: %w", err))
	}
	if p.reqAnti, err = affinityTerms(p.pod, requiredAntiAffinityTerms(a)); err != nil {
		errs = append(errs, fmt.Errorf("requiredAntiAffinityTerms: %w", err))
	}
	if a.PodAffinity != nil {
		if p.prefAffinity, err = weightedAffinityTerms(p.pod, a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution); err != nil {
			errs = append(errs, fmt.Errorf("preferredAffinityTerms: %w", err))
		}
	}
	if a.PodAntiAffinity != nil {
		if p.prefAnti, err = weightedAffinityTerms(p.pod, a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution); err != nil {
			errs = append(errs, fmt.Errorf("preferredAntiAffinityTerms: %w", err))
		}
	}
	p.parseErr = utilerrors.NewAggregate(errs)
}

// hostPorts follows pkg/scheduler/util.GetHostPorts: the host ports of the
// containers and of the sidecars (init containers that keep running).
func hostPorts(pod *corev1.Pod) []corev1.ContainerPort {
	var ports []corev1.ContainerPort
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			continue
		}
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				ports = append(ports, p)
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				ports = append(ports, p)
			}
		}
	}
	return ports
}

// terminal pods hold nothing on their node; kube-scheduler's informer doesn't
// even list them.
func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}
