package requests

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/decider/requests/stamp"
)

// recommend updates each container's recommendation from what this sync
// learned: new usage or a new OOM kill. Without either it holds the last
// one — nothing is lowered, or moved at all, on missing data.
func (c *Controller) recommend(w *workload, t *tracked, nodes nodeInfo, now time.Time) {
	bounds := w.inputs.Requests.Bounds
	bounds.NodeAllocatable = nodes.maxAllocatable
	for name, m := range t.containers {
		if m.have && m.fedNow == 0 && !m.oomNow {
			continue
		}
		if m.c.Samples() == 0 && !m.oomNow {
			continue // nothing learned yet
		}
		rec := m.c.Recommend(now, bounds, memoryLimit(w, name))
		m.rec, m.have = c.holdYoung(w, name, m.c, rec), true
	}
}

// holdYoung keeps a recommendation from less than MinHistory of usage from
// going below the pod template's requests: a few hours of a quiet start
// say little about the week's peaks. Raises (a spike, an OOM kill, a
// leak) pass. A resource the template does not request gets no target
// until then.
func (c *Controller) holdYoung(w *workload, name string, m *requests.Container, rec requests.Recommendation) requests.Recommendation {
	first, last := m.Span()
	seen := last.Sub(first)
	if !first.IsZero() && seen >= c.MinHistory {
		return rec
	}
	tmpl := templateRequests(w, name)
	note := fmt.Sprintf("holding the pod template's request until %s of usage (%s so far)", days(c.MinHistory), days(seen))
	hold := func(target, lower, upper *float64, reason *string, template float64) {
		switch {
		case template <= 0:
			*target, *lower, *upper = 0, 0, 0
			*reason = fmt.Sprintf("no request before %s of usage (%s so far), and the pod template sets none", days(c.MinHistory), days(seen))
		case *target < template:
			*target = template
			*upper = math.Max(*upper, template)
			*reason += "; " + note
		}
	}
	hold(&rec.Target.CPU, &rec.Lower.CPU, &rec.Upper.CPU, &rec.CPUReason, tmpl.CPU)
	hold(&rec.Target.Memory, &rec.Lower.Memory, &rec.Upper.Memory, &rec.MemoryReason, tmpl.Memory)
	return rec
}

func days(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

// templateRequests is a template container's cpu and memory requests.
func templateRequests(w *workload, name string) requests.Resources {
	for _, ctr := range w.template {
		if ctr.Name == name {
			return resourcesOf(ctr.Resources.Requests)
		}
	}
	return requests.Resources{}
}

// memoryLimit is the memory a container runs against, which the leak
// detector projects its OOM at: the largest among the running pods (their
// applied limit, else their limit, else their request), else the
// template's.
func memoryLimit(w *workload, name string) float64 {
	top := 0.0
	for _, p := range w.pods {
		for _, s := range p.Status.ContainerStatuses {
			if s.Name != name {
				continue
			}
			for _, ctr := range p.Spec.Containers {
				if ctr.Name == name {
					top = math.Max(top, memoryAt(s, ctr.Resources))
				}
			}
		}
	}
	if top > 0 {
		return top
	}
	for _, ctr := range w.template {
		if ctr.Name == name {
			return memoryAt(corev1.ContainerStatus{}, ctr.Resources)
		}
	}
	return 0
}

// resourceList writes a recommendation's values as a ResourceList, leaving
// out a resource without a value.
func resourceList(r requests.Resources) corev1.ResourceList {
	out := corev1.ResourceList{}
	if r.CPU > 0 {
		out[corev1.ResourceCPU] = stamp.Quantity(corev1.ResourceCPU, stamp.Round(corev1.ResourceCPU, r.CPU))
	}
	if r.Memory > 0 {
		out[corev1.ResourceMemory] = stamp.Quantity(corev1.ResourceMemory, stamp.Round(corev1.ResourceMemory, r.Memory))
	}
	return out
}
