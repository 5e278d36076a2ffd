package hpa

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Upstream controller defaults (kube-controller-manager flags).
const (
	// DefaultTolerance is --horizontal-pod-autoscaler-tolerance.
	DefaultTolerance = 0.1
	// DefaultCPUInitializationPeriod is --horizontal-pod-autoscaler-cpu-initialization-period.
	DefaultCPUInitializationPeriod = 5 * time.Minute
	// DefaultInitialReadinessDelay is --horizontal-pod-autoscaler-initial-readiness-delay.
	DefaultInitialReadinessDelay = 30 * time.Second
	// DefaultDownscaleStabilization is --horizontal-pod-autoscaler-downscale-stabilization.
	DefaultDownscaleStabilization = 5 * time.Minute
)

// Phase is a pod's lifecycle phase, as far as the calculator cares.
type Phase uint8

// Pod phases the calculator distinguishes (upstream v1.PodPhase).
const (
	Running Phase = iota
	Pending
	Failed
)

// Pod is what the calculator needs to know about one pod selected by the
// scale target: its state, its readiness condition, its request and its
// metric sample (if the metrics API returned one).
type Pod struct {
	Phase    Phase
	Deleting bool // DeletionTimestamp is set
	// HasReady says whether the pod has a Ready condition at all; Ready is its
	// status and ReadySince its lastTransitionTime.
	HasReady   bool
	Ready      bool
	ReadySince time.Time
	// Started is false when status.startTime is unset.
	Started   bool
	StartTime time.Time
	// Request is the pod's (or container's) request in the metric's unit
	// (milli-units); only resource-utilization targets use it.
	Request int64
	// HasMetric says whether the metrics API returned a sample for this pod.
	HasMetric bool
	Value     int64 // milli-units
	Timestamp time.Time
	Window    time.Duration
}

// Tolerances is the dead band around a usage ratio of 1 inside which the
// current replica count is kept (upstream Tolerances; per-direction since 1.33).
type Tolerances struct {
	Down float64
	Up   float64
}

// DefaultTolerances is ±10%.
var DefaultTolerances = Tolerances{Down: DefaultTolerance, Up: DefaultTolerance}

func (t Tolerances) isWithin(ratio float64) bool {
	return 1-t.Down <= ratio && ratio <= 1+t.Up
}

// Options are the controller settings the calculator depends on.
type Options struct {
	CPUInitializationPeriod time.Duration
	InitialReadinessDelay   time.Duration
	// CPU says the metric is the cpu resource: only then are unready and
	// initialising pods told apart from ready ones by their condition.
	CPU bool
}

// DefaultOptions are kube-controller-manager's defaults for a CPU target.
var DefaultOptions = Options{CPUInitializationPeriod: DefaultCPUInitializationPeriod, InitialReadinessDelay: DefaultInitialReadinessDelay, CPU: true}

// ErrNoPods is returned when the selector matched no pods.
var ErrNoPods = errors.New("no pods returned by selector while calculating replica count")

// ErrNoMetrics is returned when no ready pod has a metric sample.
var ErrNoMetrics = errors.New("did not receive metrics for targeted pods (pods might be unready)")

type podClass uint8

const (
	classReady podClass = iota
	classUnready
	classMissing
	classIgnored
)

// classify is upstream groupPods for one pod.
func classify(p *Pod, o Options, now time.Time) podClass {
	if p.Deleting || p.Phase == Failed {
		return classIgnored
	}
	if p.Phase == Pending {
		return classUnready
	}
	if !p.HasMetric {
		return classMissing
	}
	if o.CPU {
		var unready bool
		switch {
		case !p.HasReady || !p.Started:
			unready = true
		case p.StartTime.Add(o.CPUInitializationPeriod).After(now):
			// Still initialising: ignore the sample if the pod is unready or
			// no full metric window was collected since it became ready.
			unready = !p.Ready || p.Timestamp.Before(p.ReadySince.Add(p.Window))
		default:
			// Ignore the pod if it is unready and has never been ready.
			unready = !p.Ready && p.StartTime.Add(o.InitialReadinessDelay).After(p.ReadySince)
		}
		if unready {
			return classUnready
		}
	}
	return classReady
}

// Result is a calculator answer: the proposed replicas and the observed
// average (utilization percent for resource targets, milli-value per pod
// otherwise), computed before any missing or unready pod was filled in.
type Result struct {
	Replicas int32
	Average  int64
}

type sample struct {
	value, request int64
}

// ratioFunc turns the samples of the pods counted into a usage ratio and the
// average it reports.
type ratioFunc func([]sample) (ratio float64, avg int64, err error)

// ResourceReplicas is upstream GetResourceReplicas: the replicas that bring
// the average utilization of the pods' requests to targetUtilization percent.
// Utilization is an integer percent, truncated, as upstream computes it.
func ResourceReplicas(pods []Pod, currentReplicas, targetUtilization int32, tol Tolerances, o Options, now time.Time) (Result, error) {
	if targetUtilization <= 0 {
		return Result{}, fmt.Errorf("target utilization %d%%: must be > 0", targetUtilization)
	}
	ratio := func(s []sample) (float64, int64, error) {
		var used, req int64
		for _, x := range s {
			used += x.value
			req += x.request
		}
		if req == 0 {
			return 0, 0, errors.New("no metrics returned matched known pods")
		}
		util := used * 100 / req
		return float64(util) / float64(targetUtilization), util, nil
	}
	// On a scale-down a pod without a metric counts as using 100% of its
	// request, or the target when the target is above 100%.
	missing := func(p *Pod) int64 { return p.Request * int64(max(100, targetUtilization)) / 100 }
	return calc(pods, currentReplicas, tol, o, now, ratio, missing)
}

// MetricReplicas is upstream GetMetricReplicas (a Pods metric, or a raw
// resource value): the replicas that bring the per-pod average of the metric
// to targetAverage (milli-units).
func MetricReplicas(pods []Pod, currentReplicas int32, targetAverage int64, tol Tolerances, o Options, now time.Time) (Result, error) {
	if targetAverage <= 0 {
		return Result{}, fmt.Errorf("target average %dm: must be > 0", targetAverage)
	}
	ratio := func(s []sample) (float64, int64, error) {
		var total int64
		for _, x := range s {
			total += x.value
		}
		avg := total / int64(len(s))
		return float64(avg) / float64(targetAverage), avg, nil
	}
	// On a scale-down a pod without a metric counts as using exactly the target.
	missing := func(*Pod) int64 { return targetAverage }
	return calc(pods, currentReplicas, tol, o, now, ratio, missing)
}

// calc is the shared body of upstream's GetResourceReplicas and
// calcPlainMetricReplicas.
func calc(pods []Pod, current int32, tol Tolerances, o Options, now time.Time, ratioOf ratioFunc, missingDown func(*Pod) int64) (Result, error) {
	if len(pods) == 0 {
		return Result{}, ErrNoPods
	}
	classes := make([]podClass, len(pods))
	counted := make([]sample, 0, len(pods))
	var unready, missing int
	for i := range pods {
		c := classify(&pods[i], o, now)
		classes[i] = c
		switch c {
		case classReady:
			counted = append(counted, sample{pods[i].Value, pods[i].Request})
		case classUnready:
			unready++
		case classMissing:
			missing++
		}
	}
	readyCount := len(counted)
	if readyCount == 0 {
		return Result{}, ErrNoMetrics
	}
	ratio, avg, err := ratioOf(counted)
	if err != nil {
		return Result{}, err
	}
	scaleUpWithUnready := unready > 0 && ratio > 1
	if !scaleUpWithUnready && missing == 0 {
		if tol.isWithin(ratio) {
			return Result{current, avg}, nil
		}
		return Result{ceilReplicas(ratio * float64(readyCount)), avg}, nil
	}
	for i := range pods {
		p := &pods[i]
		switch {
		case classes[i] == classMissing && ratio < 1:
			counted = append(counted, sample{missingDown(p), p.Request})
		case classes[i] == classMissing && ratio > 1:
			counted = append(counted, sample{0, p.Request})
		case classes[i] == classUnready && scaleUpWithUnready:
			counted = append(counted, sample{0, p.Request})
		}
	}
	newRatio, _, err := ratioOf(counted)
	if err != nil {
		return Result{}, err
	}
	// Keep the current count when the change is within tolerance or when
	// filling in missing and unready pods flips the direction.
	if tol.isWithin(newRatio) || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1) {
		return Result{current, avg}, nil
	}
	n := ceilReplicas(newRatio * float64(len(counted)))
	if (newRatio < 1 && n > current) || (newRatio > 1 && n < current) {
		return Result{current, avg}, nil
	}
	return Result{n, avg}, nil
}

// UsageRatioReplicas is upstream getUsageRatioReplicaCount (Object and
// External Value targets): ceil(ratio × ready pods) outside tolerance, and
// ceil(ratio) from zero replicas.
func UsageRatioReplicas(currentReplicas, readyPods int32, usage, target int64, tol Tolerances) (int32, error) {
	if target <= 0 {
		return 0, fmt.Errorf("target value %dm: must be > 0", target)
	}
	ratio := float64(usage) / float64(target)
	if currentReplicas == 0 {
		return ceilReplicas(ratio), nil
	}
	if tol.isWithin(ratio) {
		return currentReplicas, nil
	}
	if readyPods == 0 {
		return 0, ErrNoPods
	}
	return ceilReplicas(ratio * float64(readyPods)), nil
}

// PerPodReplicas is upstream GetObjectPerPodMetricReplicas and
// GetExternalPerPodMetricReplicas (AverageValue targets): total usage over the
// target per pod, against the status replica count.
func PerPodReplicas(statusReplicas int32, usage, targetAverage int64, tol Tolerances) (int32, error) {
	if targetAverage <= 0 {
		return 0, fmt.Errorf("target average value %dm: must be > 0", targetAverage)
	}
	if statusReplicas <= 0 {
		return 0, fmt.Errorf("status replicas %d: must be > 0 for an AverageValue target", statusReplicas)
	}
	ratio := float64(usage) / (float64(targetAverage) * float64(statusReplicas))
	if tol.isWithin(ratio) {
		return statusReplicas, nil
	}
	return ceilReplicas(float64(usage) / float64(targetAverage)), nil
}

func ceilReplicas(x float64) int32 {
	if x > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(math.Ceil(x))
}
