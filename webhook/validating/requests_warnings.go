package validating

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// requestsKeys shape how learned requests reach pods; they act only with
// trimtab.dev/requests: auto.
var requestsKeys = []string{
	config.AnnotationRequestsPinned, config.AnnotationRequestsMin, config.AnnotationRequestsMax,
	config.AnnotationLimits, config.AnnotationResize,
}

// requestsKeysWithoutAuto warns that the requests keys do nothing while
// requests are off, and that trimtab learns requests only for the
// workloads it keeps a Decision for (Deployments and StatefulSets).
func requestsKeysWithoutAuto(w workload, p config.Policy, _ capacity.Split) []string {
	var out []string
	if p.Requests != config.RequestsAuto {
		for _, k := range requestsKeys {
			if _, ok := w.annotations[k]; ok {
				out = append(out, fmt.Sprintf("%s has no effect while %s is %q; set it to %q to let trimtab size requests",
					k, config.AnnotationRequests, p.Requests, config.RequestsAuto))
			}
		}
		return out
	}
	if !w.scalable {
		out = append(out, fmt.Sprintf("%s: %q has no effect on a %s: trimtab learns requests for Deployments and StatefulSets",
			config.AnnotationRequests, config.RequestsAuto, w.gk.Kind))
	}
	return out
}

// pinnedNotInTemplate warns about a pinned container name the pod
// template does not have: a typo would leave the intended container
// unpinned.
func pinnedNotInTemplate(w workload, p config.Policy, _ capacity.Split) []string {
	if w.template == nil || p.Requests != config.RequestsAuto {
		return nil
	}
	var out []string
	for _, name := range p.PinnedContainers() {
		if !slices.ContainsFunc(w.template.Spec.Containers, func(c corev1.Container) bool { return c.Name == name }) {
			out = append(out, fmt.Sprintf("%s names %q, which is not a container of the pod template; trimtab pins only containers that exist",
				config.AnnotationRequestsPinned, name))
		}
	}
	return out
}
