package stamp

import (
	"fmt"
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/trimtab-dev/trimtab/decider/requests"
)

// Policy is how a recommendation meets a container's own resources.
type Policy struct {
	// KeepLimits leaves limits as written; otherwise each keeps its ratio
	// to the request.
	KeepLimits bool
	// Min and Max bound every request (0: no bound).
	Min, Max requests.Resources
	// LimitRanges are the LimitRanges of the pod's namespace.
	LimitRanges []corev1.LimitRange
}

// Change is what stamping did to one resource of one container.
type Change struct {
	// Resource is cpu or memory.
	Resource corev1.ResourceName
	// From and To are the request before and after.
	From, To resource.Quantity
	// FromLimit and ToLimit are the limit before and after; nil when the
	// container has none.
	FromLimit, ToLimit *resource.Quantity
	// Notes say what moved To away from the target, e.g. "raised to
	// LimitRange limits's min 100m".
	Notes []string
}

// Changed reports whether the request or the limit changed.
func (c Change) Changed() bool {
	if c.From.Cmp(c.To) != 0 {
		return true
	}
	if (c.FromLimit == nil) != (c.ToLimit == nil) {
		return true
	}
	return c.FromLimit != nil && c.FromLimit.Cmp(*c.ToLimit) != 0
}

// String is "memory 512Mi→380Mi (limit 1Gi→760Mi; capped at ...)".
func (c Change) String() string {
	s := fmt.Sprintf("%s %s→%s", c.Resource, c.From.String(), c.To.String())
	var extra []string
	if c.FromLimit != nil && c.ToLimit != nil && c.FromLimit.Cmp(*c.ToLimit) != 0 {
		extra = append(extra, fmt.Sprintf("limit %s→%s", c.FromLimit.String(), c.ToLimit.String()))
	}
	extra = append(extra, c.Notes...)
	for i, e := range extra {
		if i == 0 {
			s += " (" + e
		} else {
			s += "; " + e
		}
	}
	if len(extra) > 0 {
		s += ")"
	}
	return s
}

// Resources are the two resources trimtab sizes, in the order it writes
// them.
var Resources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// memoryGrain is the grain of the memory trimtab writes: a whole number
// of MiB reads as "333Mi" in kubectl describe instead of "348127232", and
// rounding up to it costs less than 1 MiB per container.
const memoryGrain = 1 << 20

// Round rounds a model value up to the grain trimtab writes: cpu to whole
// millicores, memory to whole MiB. Targets and proportional limits are
// rounded; bounds the user wrote (policy, limits kept as written,
// LimitRanges) are applied after it, exactly, so a rounded value never
// crosses one.
func Round(r corev1.ResourceName, v float64) float64 {
	if r == corev1.ResourceCPU {
		return math.Ceil(v*1000-1e-9) / 1000
	}
	return math.Ceil(v/memoryGrain-1e-9) * memoryGrain
}

// Quantity writes a model value as a request: cpu in whole millicores
// (rounded up), memory in whole bytes (rounded up). Round it first for the
// grain trimtab writes.
func Quantity(r corev1.ResourceName, v float64) resource.Quantity {
	if r == corev1.ResourceCPU {
		return *resource.NewMilliQuantity(int64(math.Ceil(v*1000-1e-9)), resource.DecimalSI)
	}
	return *resource.NewQuantity(int64(math.Ceil(v-1e-9)), resource.BinarySI)
}

// format writes a model value as Quantity would.
func format(r corev1.ResourceName, v float64) string {
	q := Quantity(r, v)
	return q.String()
}

// Value reads a quantity in the model's units: cores for cpu, bytes for
// memory.
func Value(q resource.Quantity) float64 { return q.AsApproximateFloat64() }

func pick(r requests.Resources, name corev1.ResourceName) float64 {
	if name == corev1.ResourceCPU {
		return r.CPU
	}
	return r.Memory
}

// Container returns cur with target's requests stamped on it under p, and
// one Change per resource stamped (changed or not). A resource whose
// target is 0 is left as written.
func Container(cur corev1.ResourceRequirements, target requests.Resources, p Policy) (corev1.ResourceRequirements, []Change) {
	out := *cur.DeepCopy()
	var changes []Change
	for _, name := range Resources {
		t := pick(target, name)
		if !(t > 0) || math.IsInf(t, 0) {
			continue
		}
		ch := Change{Resource: name}
		if q, ok := cur.Requests[name]; ok {
			ch.From = q
		}
		var fromLimit *resource.Quantity
		if q, ok := cur.Limits[name]; ok {
			fromLimit = &q
			ch.FromLimit = fromLimit
		}
		req := Round(name, t)
		if lo := pick(p.Min, name); lo > 0 && req < lo {
			req = lo
			ch.Notes = append(ch.Notes, "raised to trimtab.dev/requests-min "+format(name, lo))
		}
		if hi := pick(p.Max, name); hi > 0 && req > hi {
			req = hi
			ch.Notes = append(ch.Notes, "capped at trimtab.dev/requests-max "+format(name, hi))
		}
		lim := -1.0 // none
		if fromLimit != nil {
			lim = Value(*fromLimit)
			from := Value(ch.From)
			switch {
			case p.KeepLimits:
				if req > lim {
					req = lim
					ch.Notes = append(ch.Notes, "capped at its limit (trimtab.dev/limits: keep)")
				}
			case from > 0:
				lim = Round(name, req*lim/from)
			default:
				lim = req // a limit without a request: the request defaults to it
			}
		}
		req, lim, ch.Notes = limitRanges(name, req, lim, p.LimitRanges, ch.Notes)
		if lim >= 0 && req > lim {
			req = lim
		}
		ch.To = Quantity(name, req)
		if lim >= 0 {
			l := Quantity(name, lim)
			ch.ToLimit = &l
		}
		if out.Requests == nil {
			out.Requests = corev1.ResourceList{}
		}
		out.Requests[name] = ch.To
		if ch.ToLimit != nil {
			out.Limits[name] = *ch.ToLimit
		}
		changes = append(changes, ch)
	}
	return out, changes
}

// limitRanges applies every Container LimitRange item to one resource's
// request and limit (lim < 0: none).
func limitRanges(name corev1.ResourceName, req, lim float64, lrs []corev1.LimitRange, notes []string) (float64, float64, []string) {
	for _, lr := range lrs {
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			if q, ok := item.Min[name]; ok {
				if m := Value(q); req < m {
					req = m
					notes = append(notes, fmt.Sprintf("raised to LimitRange %s's min %s", lr.Name, q.String()))
				}
				if m := Value(q); lim >= 0 && lim < m {
					lim = m
				}
			}
			if q, ok := item.Max[name]; ok {
				if m := Value(q); req > m {
					req = m
					notes = append(notes, fmt.Sprintf("capped at LimitRange %s's max %s", lr.Name, q.String()))
				}
				if m := Value(q); lim > m {
					lim = m
					notes = append(notes, fmt.Sprintf("limit capped at LimitRange %s's max %s", lr.Name, q.String()))
				}
			}
			if q, ok := item.MaxLimitRequestRatio[name]; ok && lim >= 0 && req > 0 {
				if ratio := Value(q); ratio > 0 && lim/req > ratio {
					req = lim / ratio
					notes = append(notes, fmt.Sprintf("raised to keep LimitRange %s's limit/request ratio ≤ %s", lr.Name, q.String()))
				}
			}
		}
	}
	return req, lim, notes
}

// PodFits reports, for each resource, whether a pod whose containers have
// these resources meets every Pod LimitRange: the sums of the requests and
// of the limits within min and max, and the limit sum within
// maxLimitRequestRatio of the request sum. The reason names the first
// breach.
func PodFits(containers []corev1.ResourceRequirements, lrs []corev1.LimitRange, name corev1.ResourceName) (bool, string) {
	var req, lim float64
	limited := true
	for _, c := range containers {
		if q, ok := c.Requests[name]; ok {
			req += Value(q)
		}
		if q, ok := c.Limits[name]; ok {
			lim += Value(q)
		} else {
			limited = false
		}
	}
	for _, lr := range lrs {
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypePod {
				continue
			}
			if q, ok := item.Min[name]; ok && req < Value(q) {
				return false, fmt.Sprintf("the pod's %s requests (%s) would be under LimitRange %s's pod min %s", name, format(name, req), lr.Name, q.String())
			}
			if q, ok := item.Max[name]; ok && (req > Value(q) || limited && lim > Value(q)) {
				return false, fmt.Sprintf("the pod's %s would exceed LimitRange %s's pod max %s", name, lr.Name, q.String())
			}
			if q, ok := item.MaxLimitRequestRatio[name]; ok && limited && req > 0 && lim/req > Value(q) {
				return false, fmt.Sprintf("the pod's %s limit/request ratio would exceed LimitRange %s's %s", name, lr.Name, q.String())
			}
		}
	}
	return true, ""
}
