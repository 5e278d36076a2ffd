package fit

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

// This file is a copy of the pieces of k8s.io/kube-scheduler/framework
// (v0.37.1, types.go; Apache License 2.0, The Kubernetes Authors) that the
// plugins use to match pods to affinity terms and host ports to ports in
// use. Importing that package instead costs trimtab's binary 4 MB and 14
// modules, because its listers pull in the DRA allocator and CEL (measured
// in docs/placer.md); these 120 lines are what fit needs of it.
// hack/intree checks the copy against the original on every random pod.

// affinityTerm is framework.AffinityTerm: a pod (anti-)affinity term with
// its selectors parsed and its namespaces resolved.
type affinityTerm struct {
	namespaces        sets.Set[string]
	selector          labels.Selector
	topologyKey       string
	namespaceSelector labels.Selector
}

// matches is AffinityTerm.Matches: the pod is in one of the term's
// namespaces (or its namespace's labels match the namespace selector) and
// its labels match the selector.
func (t *affinityTerm) matches(pod *corev1.Pod, nsLabels labels.Set) bool {
	if t.namespaces.Has(pod.Namespace) || t.namespaceSelector.Matches(nsLabels) {
		return t.selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

// weightedAffinityTerm is framework.WeightedAffinityTerm.
type weightedAffinityTerm struct {
	affinityTerm
	weight int32
}

// affinityTerms is framework.GetAffinityTerms.
func affinityTerms(pod *corev1.Pod, v1Terms []corev1.PodAffinityTerm) ([]affinityTerm, error) {
	if v1Terms == nil {
		return nil, nil
	}
	var terms []affinityTerm
	for i := range v1Terms {
		t, err := newAffinityTerm(pod, &v1Terms[i])
		if err != nil {
			return nil, err // a label selector that doesn't parse
		}
		terms = append(terms, *t)
	}
	return terms, nil
}

// weightedAffinityTerms is framework.GetWeightedAffinityTerms.
func weightedAffinityTerms(pod *corev1.Pod, v1Terms []corev1.WeightedPodAffinityTerm) ([]weightedAffinityTerm, error) {
	if v1Terms == nil {
		return nil, nil
	}
	var terms []weightedAffinityTerm
	for i := range v1Terms {
		t, err := newAffinityTerm(pod, &v1Terms[i].PodAffinityTerm)
		if err != nil {
			return nil, err
		}
		terms = append(terms, weightedAffinityTerm{affinityTerm: *t, weight: v1Terms[i].Weight})
	}
	return terms, nil
}

func newAffinityTerm(pod *corev1.Pod, term *corev1.PodAffinityTerm) (*affinityTerm, error) {
	selector, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return nil, err
	}
	// No namespaces and no namespace selector: the pod's own namespace.
	namespaces := sets.Set[string]{}
	if len(term.Namespaces) == 0 && term.NamespaceSelector == nil {
		namespaces.Insert(pod.Namespace)
	} else {
		namespaces.Insert(term.Namespaces...)
	}
	nsSelector, err := metav1.LabelSelectorAsSelector(term.NamespaceSelector)
	if err != nil {
		return nil, err
	}
	return &affinityTerm{namespaces: namespaces, selector: selector, topologyKey: term.TopologyKey, namespaceSelector: nsSelector}, nil
}

// requiredAffinityTerms and requiredAntiAffinityTerms are
// framework.GetPodAffinityTerms and GetPodAntiAffinityTerms.
func requiredAffinityTerms(a *corev1.Affinity) []corev1.PodAffinityTerm {
	if a != nil && a.PodAffinity != nil && len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
		return a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

func requiredAntiAffinityTerms(a *corev1.Affinity) []corev1.PodAffinityTerm {
	if a != nil && a.PodAntiAffinity != nil && len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
		return a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

// bindAllHostIP is framework.DefaultBindAllHostIP.
const bindAllHostIP = "0.0.0.0"

// protocolPort is framework.ProtocolPort.
type protocolPort struct {
	protocol string
	port     int32
}

// hostPortInfo is framework.HostPortInfo: the host ports in use on a node,
// by host IP.
type hostPortInfo map[string]map[protocolPort]struct{}

// sanitize defaults an empty IP to 0.0.0.0 and an empty protocol to TCP.
func sanitize(ip, protocol string) (string, protocolPort) {
	if ip == "" {
		ip = bindAllHostIP
	}
	if protocol == "" {
		protocol = string(corev1.ProtocolTCP)
	}
	return ip, protocolPort{protocol: protocol}
}

func (h hostPortInfo) add(ip, protocol string, port int32) {
	if port <= 0 {
		return
	}
	ip, pp := sanitize(ip, protocol)
	pp.port = port
	if _, ok := h[ip]; !ok {
		h[ip] = map[protocolPort]struct{}{}
	}
	h[ip][pp] = struct{}{}
}

func (h hostPortInfo) remove(ip, protocol string, port int32) {
	if port <= 0 {
		return
	}
	ip, pp := sanitize(ip, protocol)
	pp.port = port
	if m, ok := h[ip]; ok {
		delete(m, pp)
		if len(m) == 0 {
			delete(h, ip)
		}
	}
}

// conflicts is HostPortInfo.CheckConflict: 0.0.0.0 conflicts with the port
// on any IP; another IP with the port on itself or on 0.0.0.0.
func (h hostPortInfo) conflicts(ip, protocol string, port int32) bool {
	if port <= 0 {
		return false
	}
	ip, pp := sanitize(ip, protocol)
	pp.port = port
	if ip == bindAllHostIP {
		for _, m := range h {
			if _, ok := m[pp]; ok {
				return true
			}
		}
		return false
	}
	for _, key := range []string{bindAllHostIP, ip} {
		if _, ok := h[key][pp]; ok {
			return true
		}
	}
	return false
}
