package requests

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/decider/requests/stamp"
)

// This file holds the pure half of in-place resize: which running pods
// leave their recommendation's bounds and what they would get
// (planResize), whether their node has room (nodeRoom), and what the
// kubelet's answer to an earlier resize means (resizeState). The I/O half
// is resize.go.

// resizePlan is what one pod would get.
type resizePlan struct {
	pod *corev1.Pod
	// after holds the new resources of every container, in pod order.
	after []corev1.ResourceRequirements
	// change is "app: memory 100Mi→380Mi (below the lower bound 300Mi)".
	change string
	// urgent says a container's memory is raised for an OOM kill or a
	// leak's projected OOM: it goes first, and past the per-workload
	// interval.
	urgent bool
	// grows says some request rises: the node must have room.
	grows bool
	// off is the largest relative distance of a request from its target,
	// for ordering.
	off float64
}

// planResize returns the plans of the workload's running pods whose
// requests of some container leave [lower, upper] of its recommendation,
// or whose memory is below an urgent target, most urgent and farthest
// first. A container is stamped as the webhook
// stamps a new pod (stamp.Container under p); a container within its
// bounds, pinned, or without a recommendation keeps its resources.
func planResize(pods []*corev1.Pod, recs map[string]requests.Recommendation, p stamp.Policy) []resizePlan {
	var out []resizePlan
	for _, pod := range pods {
		if pod.Spec.NodeName == "" || pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
			continue
		}
		plan := resizePlan{pod: pod, after: make([]corev1.ResourceRequirements, len(pod.Spec.Containers))}
		var parts []string
		for i, ctr := range pod.Spec.Containers {
			plan.after[i] = ctr.Resources
			rec, ok := recs[ctr.Name]
			if !ok {
				continue
			}
			cur := resourcesOf(ctr.Resources.Requests)
			var why []string
			out := func(name string, v, lo, hi, target float64, urgent bool) {
				switch {
				case target <= 0:
				case urgent && v < target:
					// As decider/requests.Decide: an urgent raise (an OOM
					// kill's bump, a leak's projected OOM) acts at once,
					// even from within the bounds.
					why = append(why, fmt.Sprintf("%s below the target %s raised urgently", name, format(name, target)))
				case v < lo:
					why = append(why, fmt.Sprintf("%s below the lower bound %s", name, format(name, lo)))
				case hi > 0 && v > hi:
					why = append(why, fmt.Sprintf("%s above the upper bound %s", name, format(name, hi)))
				default:
					return
				}
				if target > 0 {
					plan.off = math.Max(plan.off, math.Abs(v-target)/target)
				}
			}
			out("cpu", cur.CPU, rec.Lower.CPU, rec.Upper.CPU, rec.Target.CPU, false)
			out("memory", cur.Memory, rec.Lower.Memory, rec.Upper.Memory, rec.Target.Memory, rec.Urgent)
			if len(why) == 0 {
				continue
			}
			after, changes := stamp.Container(ctr.Resources, rec.Target, p)
			var moved []string
			for _, ch := range changes {
				if !ch.Changed() {
					continue
				}
				moved = append(moved, ch.String())
				if ch.To.Cmp(ch.From) > 0 {
					plan.grows = true
					if ch.Resource == corev1.ResourceMemory && rec.Urgent {
						plan.urgent = true
					}
				}
			}
			if len(moved) == 0 {
				continue // the policy or a LimitRange keeps it where it is
			}
			plan.after[i] = after
			reason := strings.Join(why, ", ")
			if rec.Urgent {
				reason += "; " + rec.MemoryReason
			}
			parts = append(parts, fmt.Sprintf("%s: %s (%s)", ctr.Name, strings.Join(moved, ", "), reason))
		}
		if len(parts) > 0 {
			plan.change = strings.Join(parts, "; ")
			out = append(out, plan)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].urgent != out[j].urgent {
			return out[i].urgent
		}
		return out[i].off > out[j].off
	})
	return out
}

func format(name string, v float64) string {
	if name == "cpu" {
		return requests.FormatCPU(v)
	}
	return requests.FormatBytes(v)
}

// podRequests sums a pod's container requests: the larger of the spec
// (what was asked) and the status (what the kubelet allocated), as the
// scheduler counts a pod while it is being resized.
func podRequests(p *corev1.Pod) requests.Resources {
	var sum requests.Resources
	for _, ctr := range p.Spec.Containers {
		r := resourcesOf(ctr.Resources.Requests)
		for _, s := range p.Status.ContainerStatuses {
			if s.Name == ctr.Name && s.Resources != nil {
				a := resourcesOf(s.Resources.Requests)
				r.CPU, r.Memory = math.Max(r.CPU, a.CPU), math.Max(r.Memory, a.Memory)
			}
		}
		sum.CPU += r.CPU
		sum.Memory += r.Memory
	}
	return sum
}

// nodeRoom says whether the node fits plan's pod after the resize: its
// allocatable minus the requests of the node's other pods that still hold
// resources. The empty string means it fits; otherwise it says what is
// short.
func nodeRoom(node *corev1.Node, others []corev1.Pod, plan resizePlan) string {
	alloc := resourcesOf(node.Status.Allocatable)
	used := requests.Resources{}
	for i := range others {
		o := &others[i]
		if o.UID == plan.pod.UID || o.Status.Phase == corev1.PodSucceeded || o.Status.Phase == corev1.PodFailed {
			continue
		}
		r := podRequests(o)
		used.CPU += r.CPU
		used.Memory += r.Memory
	}
	var want requests.Resources
	for _, a := range plan.after {
		r := resourcesOf(a.Requests)
		want.CPU += r.CPU
		want.Memory += r.Memory
	}
	var short []string
	if free := alloc.CPU - used.CPU; want.CPU > free {
		short = append(short, fmt.Sprintf("cpu %s wanted, %s free", requests.FormatCPU(want.CPU), requests.FormatCPU(math.Max(free, 0))))
	}
	if free := alloc.Memory - used.Memory; want.Memory > free {
		short = append(short, fmt.Sprintf("memory %s wanted, %s free", requests.FormatBytes(want.Memory), requests.FormatBytes(math.Max(free, 0))))
	}
	if len(short) == 0 {
		return ""
	}
	return fmt.Sprintf("node %s has no room: %s", node.Name, strings.Join(short, ", "))
}

// Outcomes of a resize, as ResizeRecord.Outcome says them.
const (
	OutcomeInProgress = "InProgress"
	OutcomeDone       = "Done"
	OutcomeInfeasible = "Infeasible"
	OutcomeDeferred   = "Deferred"
	OutcomeRecreated  = "Recreated"
	OutcomeFailed     = "Failed"
	// OutcomeShadow is what shadow mode records: the resize it would ask.
	OutcomeShadow = "Shadow"
)

// resizeState reads the kubelet's answer to a resize asked at since, from
// the pod's PodResizePending and PodResizeInProgress conditions:
// InProgress while it is pending or applying and within its time,
// Infeasible when the node cannot hold it, Deferred when deferred longer
// than deferFor or applying longer than progressFor, Failed when the
// kubelet reports an error, Done when neither condition is left and every
// container status that reports resources matches the spec. The string
// says why, in words.
func resizeState(p *corev1.Pod, since, now time.Time, deferFor, progressFor time.Duration) (string, string) {
	var pending, progress *corev1.PodCondition
	for i := range p.Status.Conditions {
		switch c := &p.Status.Conditions[i]; c.Type {
		case corev1.PodResizePending:
			pending = c
		case corev1.PodResizeInProgress:
			progress = c
		}
	}
	waited := now.Sub(since)
	switch {
	case pending != nil && pending.Reason == corev1.PodReasonInfeasible:
		return OutcomeInfeasible, "the kubelet cannot fit it on the node: " + pending.Message
	case pending != nil && waited > deferFor:
		return OutcomeDeferred, fmt.Sprintf("the kubelet deferred it for %s (more than %s): %s", waited.Round(time.Second), deferFor, pending.Message)
	case pending != nil:
		return OutcomeInProgress, "deferred by the kubelet: " + pending.Message
	case progress != nil && progress.Reason == corev1.PodReasonError:
		return OutcomeFailed, "the kubelet failed to apply it: " + progress.Message
	case progress != nil && waited > progressFor:
		return OutcomeDeferred, fmt.Sprintf("still being applied after %s (more than %s)", waited.Round(time.Second), progressFor)
	case progress != nil:
		return OutcomeInProgress, "being applied by the kubelet"
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.Resources == nil {
			continue
		}
		for _, ctr := range p.Spec.Containers {
			if ctr.Name != s.Name {
				continue
			}
			for _, r := range stamp.Resources {
				want, ok := ctr.Resources.Requests[r]
				if got, has := s.Resources.Requests[r]; ok && has && want.Cmp(got) != 0 {
					if waited > deferFor {
						return OutcomeDeferred, fmt.Sprintf("the kubelet has not applied it after %s (more than %s)", waited.Round(time.Second), deferFor)
					}
					return OutcomeInProgress, "waiting for the kubelet to apply it"
				}
			}
		}
	}
	return OutcomeDone, "applied"
}
