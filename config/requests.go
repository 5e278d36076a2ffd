package config

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/trimtab-dev/trimtab/decider/requests"
)

// The keys that shape how learned requests reach pods, beside
// AnnotationRequests. docs/policy.md is the reference for each.
const (
	// AnnotationRequestsPinned names the containers whose requests the user
	// pinned, comma-separated ("sidecar,istio-proxy"): trimtab learns
	// nothing for them and never changes their requests or limits, like a
	// VPA containerPolicy with mode Off.
	AnnotationRequestsPinned = Prefix + "requests-pinned"
	// AnnotationLimits is what happens to limits when trimtab sets
	// requests: proportional (they keep their ratio to the requests, as
	// VPA's RequestsAndLimits) or keep (they stay as written, as VPA's
	// RequestsOnly).
	AnnotationLimits = Prefix + "limits"
	// AnnotationResize is how running pods get new requests: in-place
	// (the pods/resize subresource), in-place-or-recreate (evict within
	// PodDisruptionBudgets when an in-place resize cannot happen, as VPA's
	// InPlaceOrRecreate), or off (only new pods get them).
	AnnotationResize = Prefix + "resize"
	// AnnotationRequestsMin and AnnotationRequestsMax bound every learned
	// container request, e.g. "cpu=100m,memory=256Mi" (either resource may
	// be left out), like VPA's minAllowed and maxAllowed.
	AnnotationRequestsMin = Prefix + "requests-min"
	AnnotationRequestsMax = Prefix + "requests-max"
)

// AnnotationResources is written on pods by the mutating webhook: per
// container, the requests it set (or in shadow mode would have set) and
// why, and the containers it left alone. It is output, like
// AnnotationDecision.
const AnnotationResources = Prefix + "resources"

// Limits says what happens to a container's limits when trimtab sets its
// requests.
type Limits string

// Limits settings.
const (
	// LimitsProportional scales each limit with its request, keeping the
	// ratio the user wrote. Default, as VPA's controlledValues
	// RequestsAndLimits.
	LimitsProportional Limits = "proportional"
	// LimitsKeep leaves limits as written; a request is never set above its
	// limit.
	LimitsKeep Limits = "keep"
)

// LimitsValues lists the accepted values of AnnotationLimits.
var LimitsValues = []Limits{LimitsProportional, LimitsKeep}

// Resize says how running pods get new requests.
type Resize string

// Resize settings.
const (
	// ResizeInPlace resizes running containers through the pods/resize
	// subresource when their requests leave the recommendation's bounds;
	// when the kubelet cannot, the next pod gets the recommendation.
	// Default.
	ResizeInPlace Resize = "in-place"
	// ResizeInPlaceOrRecreate also evicts a pod whose in-place resize is
	// infeasible or deferred too long, within its PodDisruptionBudgets.
	ResizeInPlaceOrRecreate Resize = "in-place-or-recreate"
	// ResizeOff never touches running pods: only new pods get the
	// recommendation (VPA's updateMode Initial).
	ResizeOff Resize = "off"
)

// ResizeValues lists the accepted values of AnnotationResize.
var ResizeValues = []Resize{ResizeInPlace, ResizeInPlaceOrRecreate, ResizeOff}

// Defaults of the requests keys.
const (
	DefaultLimits = LimitsProportional
	DefaultResize = ResizeInPlace
)

// boundsForm is the accepted form of AnnotationRequestsMin and
// AnnotationRequestsMax.
const boundsForm = `must be resource=quantity pairs separated by commas, for cpu and memory, e.g. "cpu=100m,memory=256Mi"`

// pinnedForm is the accepted form of AnnotationRequestsPinned.
const pinnedForm = `must be container names separated by commas, without spaces, e.g. "sidecar,istio-proxy"`

// PinnedContainers splits p.RequestsPinned into container names.
func (p Policy) PinnedContainers() []string {
	if p.RequestsPinned == "" {
		return nil
	}
	return strings.Split(p.RequestsPinned, ",")
}

// parseRequestsKeys parses AnnotationRequestsPinned, AnnotationLimits and
// AnnotationResize into p.
func parseRequestsKeys(annotations map[string]string, p *Policy, fail func(*field.Error)) {
	if v, ok := annotations[AnnotationRequestsPinned]; ok {
		if detail := checkPinned(v); detail != "" {
			fail(field.Invalid(KeyPath(AnnotationRequestsPinned), v, detail))
		} else {
			p.RequestsPinned = v
		}
	}
	for _, b := range []struct {
		key string
		to  *string
	}{{AnnotationRequestsMin, &p.RequestsMin}, {AnnotationRequestsMax, &p.RequestsMax}} {
		if v, ok := annotations[b.key]; ok {
			if _, detail := ParseRequestBounds(v); detail != "" {
				fail(field.Invalid(KeyPath(b.key), v, detail))
			} else {
				*b.to = v
			}
		}
	}
	if v, ok := annotations[AnnotationLimits]; ok {
		if l, ok := oneOf(v, LimitsValues); ok {
			p.Limits = l
		} else {
			fail(field.NotSupported(KeyPath(AnnotationLimits), v, LimitsValues))
		}
	}
	if v, ok := annotations[AnnotationResize]; ok {
		if r, ok := oneOf(v, ResizeValues); ok {
			p.Resize = r
		} else {
			fail(field.NotSupported(KeyPath(AnnotationResize), v, ResizeValues))
		}
	}
}

// validateRequestsKeys is Validate's part for the requests keys.
func validateRequestsKeys(p Policy) field.ErrorList {
	var errs field.ErrorList
	if p.RequestsPinned != "" {
		if detail := checkPinned(p.RequestsPinned); detail != "" {
			errs = append(errs, field.Invalid(KeyPath(AnnotationRequestsPinned), p.RequestsPinned, detail))
		}
	}
	lo, detail := ParseRequestBounds(p.RequestsMin)
	if detail != "" {
		errs = append(errs, field.Invalid(KeyPath(AnnotationRequestsMin), p.RequestsMin, detail))
	}
	hi, detail := ParseRequestBounds(p.RequestsMax)
	if detail != "" {
		errs = append(errs, field.Invalid(KeyPath(AnnotationRequestsMax), p.RequestsMax, detail))
	}
	for _, r := range []struct {
		name   string
		lo, hi float64
	}{{"cpu", lo.CPU, hi.CPU}, {"memory", lo.Memory, hi.Memory}} {
		if r.lo > 0 && r.hi > 0 && r.lo > r.hi {
			errs = append(errs, field.Invalid(KeyPath(AnnotationRequestsMax), p.RequestsMax, fmt.Sprintf(
				"%s max is below %s's %s; the max must be at least the min", r.name, AnnotationRequestsMin, r.name)))
		}
	}
	if _, ok := oneOf(string(p.Limits), LimitsValues); !ok {
		errs = append(errs, field.NotSupported(KeyPath(AnnotationLimits), string(p.Limits), LimitsValues))
	}
	if _, ok := oneOf(string(p.Resize), ResizeValues); !ok {
		errs = append(errs, field.NotSupported(KeyPath(AnnotationResize), string(p.Resize), ResizeValues))
	}
	return errs
}

// ParseRequestBounds parses "cpu=100m,memory=256Mi" (either pair may be
// left out; "" is no bound) into cores and bytes. A non-empty detail says
// what is wrong, for a field error.
func ParseRequestBounds(v string) (requests.Resources, string) {
	var r requests.Resources
	if v == "" {
		return r, ""
	}
	seen := map[string]bool{}
	for _, pair := range strings.Split(v, ",") {
		name, q, ok := strings.Cut(pair, "=")
		if !ok || name == "" || q == "" {
			return requests.Resources{}, fmt.Sprintf("%s; %q is not resource=quantity", boundsForm, pair)
		}
		if name != "cpu" && name != "memory" {
			return requests.Resources{}, fmt.Sprintf("%s; %q is not a resource trimtab sizes (cpu, memory)", boundsForm, name)
		}
		if seen[name] {
			return requests.Resources{}, fmt.Sprintf("%s; %s is given twice", boundsForm, name)
		}
		seen[name] = true
		qty, err := resource.ParseQuantity(q)
		if err != nil || qty.Sign() <= 0 {
			return requests.Resources{}, fmt.Sprintf("%s; %s=%s is not a positive quantity", boundsForm, name, q)
		}
		if name == "cpu" {
			r.CPU = qty.AsApproximateFloat64()
		} else {
			r.Memory = qty.AsApproximateFloat64()
		}
	}
	return r, ""
}

// checkPinned checks a list of container names: each a DNS-1123 label (what
// the API accepts as a container name), none repeated.
func checkPinned(v string) string {
	if v == "" {
		return pinnedForm
	}
	seen := map[string]bool{}
	for _, name := range strings.Split(v, ",") {
		if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
			return fmt.Sprintf("%s; %q is not a container name: %s", pinnedForm, name, msgs[0])
		}
		if seen[name] {
			return fmt.Sprintf("%s; %q is named twice", pinnedForm, name)
		}
		seen[name] = true
	}
	return ""
}
