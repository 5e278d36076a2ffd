package config

import (
	"strconv"
)

// Class says how much a workload's owner cares about interruptions. It sets
// the default on-demand base and how the placer treats the workload's pods.
type Class string

// Classes.
const (
	// ClassCritical is user-facing and latency-sensitive: keep an on-demand
	// base that can carry it through a spot interruption.
	ClassCritical Class = "critical"
	// ClassStandard is the default: mostly spot, one pod on on-demand.
	ClassStandard Class = "standard"
	// ClassBatch tolerates restarts: all spot by default, and the placer may
	// move its pods ahead of a predicted spot price spike.
	ClassBatch Class = "batch"
)

// Classes lists the accepted values of AnnotationClass.
var Classes = []Class{ClassCritical, ClassStandard, ClassBatch}

// Capacity is the kind of node a workload's pods may run on.
type Capacity string

// Capacities.
const (
	// CapacityAuto runs OnDemandBase pods on on-demand nodes and the rest on spot.
	CapacityAuto Capacity = "auto"
	// CapacitySpot runs every pod on spot nodes.
	CapacitySpot Capacity = "spot"
	// CapacityOnDemand runs every pod on on-demand nodes.
	CapacityOnDemand Capacity = "on-demand"
)

// Capacities lists the accepted values of AnnotationCapacity.
var Capacities = []Capacity{CapacityAuto, CapacitySpot, CapacityOnDemand}

// Mode says whether trimtab acts on its decisions.
type Mode string

// Modes.
const (
	// ModeEnforce applies decisions: replicas, placement, requests.
	ModeEnforce Mode = "enforce"
	// ModeShadow computes and records decisions without acting, so they can be
	// compared with an existing HPA first. It is the default.
	ModeShadow Mode = "shadow"
)

// Modes lists the accepted values of AnnotationMode.
var Modes = []Mode{ModeEnforce, ModeShadow}

// Requests says whether trimtab sizes container resource requests.
type Requests string

// Requests settings.
const (
	// RequestsAuto lets trimtab set container requests from observed usage.
	RequestsAuto Requests = "auto"
	// RequestsOff leaves container requests as the user wrote them. Default.
	RequestsOff Requests = "off"
)

// RequestsValues lists the accepted values of AnnotationRequests.
var RequestsValues = []Requests{RequestsAuto, RequestsOff}

// Defaults of a workload that sets no annotation. docs/policy.md says why.
const (
	DefaultClass    = ClassStandard
	DefaultCapacity = CapacityAuto
	DefaultMode     = ModeShadow
	DefaultRequests = RequestsOff
)

// Policy is a workload's parsed trimtab policy. The zero value is not a valid
// policy; start from DefaultPolicy or ParsePolicy.
type Policy struct {
	// Class is the workload's class.
	Class Class
	// Capacity is where its pods run.
	Capacity Capacity
	// OnDemandBase is how many pods run on on-demand nodes with capacity
	// auto; the rest run on spot. It is 0 with capacity spot or on-demand.
	OnDemandBase int
	// MinReplicas and MaxReplicas bound the replica count; 0 means unset
	// (no trimtab bound on that side).
	MinReplicas, MaxReplicas int32
	// Mode says whether decisions are applied or only recorded.
	Mode Mode
	// Requests says whether trimtab sizes container requests.
	Requests Requests
	// Metric is a PromQL expression for the business load; "" uses CPU.
	Metric string
	// TargetPerPod is the Metric load one pod should carry; set iff Metric is.
	TargetPerPod float64
	// Downstream is a PromQL expression for a dependency's health; "" is none.
	Downstream string
	// DownstreamMax is the Downstream value above which scale-out stops; set
	// iff Downstream is.
	DownstreamMax float64

	// RequestsPinned lists the containers whose requests the user pinned,
	// as AnnotationRequestsPinned carries them ("a,b"; "" for none); see
	// PinnedContainers. A string keeps Policy comparable.
	RequestsPinned string
	// RequestsMin and RequestsMax bound every learned request, as
	// AnnotationRequestsMin and AnnotationRequestsMax carry them
	// ("cpu=100m,memory=256Mi"; "" for none); see ParseRequestBounds.
	RequestsMin, RequestsMax string
	// Limits says what happens to limits when trimtab sets requests.
	Limits Limits
	// Resize says how running pods get new requests.
	Resize Resize
}

// DefaultOnDemandBase is the on-demand base a class gets with capacity auto
// when trimtab.dev/on-demand-base is not set: 2 for critical (one pod
// survives a spot interruption even while another restarts), 1 for standard
// (a spot reclaim never takes every pod), 0 for batch (all spot).
func DefaultOnDemandBase(c Class) int {
	switch c {
	case ClassCritical:
		return 2
	case ClassBatch:
		return 0
	default:
		return 1
	}
}

// DefaultPolicy is the policy of an opted-in workload without annotations.
func DefaultPolicy() Policy {
	return Policy{
		Class:        DefaultClass,
		Capacity:     DefaultCapacity,
		OnDemandBase: DefaultOnDemandBase(DefaultClass),
		Mode:         DefaultMode,
		Requests:     DefaultRequests,
		Limits:       DefaultLimits,
		Resize:       DefaultResize,
	}
}

// Annotations returns p in canonical annotation form: every set field, the
// defaults included, so the form says everything trimtab will do.
// ParsePolicy(p.Annotations()) returns p for any valid p.
func (p Policy) Annotations() map[string]string {
	a := map[string]string{
		AnnotationClass:    string(p.Class),
		AnnotationCapacity: string(p.Capacity),
		AnnotationMode:     string(p.Mode),
		AnnotationRequests: string(p.Requests),
	}
	if p.Capacity == CapacityAuto || p.OnDemandBase != 0 {
		a[AnnotationOnDemandBase] = strconv.Itoa(p.OnDemandBase)
	}
	if p.MinReplicas != 0 || p.MaxReplicas != 0 {
		a[AnnotationReplicas] = p.ReplicasString()
	}
	if p.Metric != "" || p.TargetPerPod != 0 {
		a[AnnotationMetric] = p.Metric
		a[AnnotationTargetPerPod] = formatFloat(p.TargetPerPod)
	}
	if p.Downstream != "" || p.DownstreamMax != 0 {
		a[AnnotationDownstream] = p.Downstream
		a[AnnotationDownstreamMax] = formatFloat(p.DownstreamMax)
	}
	if p.RequestsPinned != "" {
		a[AnnotationRequestsPinned] = p.RequestsPinned
	}
	if p.RequestsMin != "" {
		a[AnnotationRequestsMin] = p.RequestsMin
	}
	if p.RequestsMax != "" {
		a[AnnotationRequestsMax] = p.RequestsMax
	}
	if p.Limits != "" {
		a[AnnotationLimits] = string(p.Limits)
	}
	if p.Resize != "" {
		a[AnnotationResize] = string(p.Resize)
	}
	return a
}

// ReplicasString renders the replica bounds as AnnotationReplicas accepts
// them: "2..10", "2.." or "..10"; "" when neither is set.
func (p Policy) ReplicasString() string {
	if p.MinReplicas == 0 && p.MaxReplicas == 0 {
		return ""
	}
	s := ".."
	if p.MinReplicas != 0 {
		s = strconv.FormatInt(int64(p.MinReplicas), 10) + s
	}
	if p.MaxReplicas != 0 {
		s += strconv.FormatInt(int64(p.MaxReplicas), 10)
	}
	return s
}

// formatFloat renders f in the shortest form that parses back to f exactly.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}
