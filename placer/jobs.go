package placer

import (
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// A Job's pods move differently from a Deployment's. Evicting one makes it
// fail (the Eviction API gives it the DisruptionTarget condition), and the
// Job controller counts the failure against spec.backoffLimit unless the
// Job's podFailurePolicy has a rule that Ignores DisruptionTarget
// (https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-failure-policy).
// A Job fails once its failures exceed backoffLimit, and a move must never
// be what fails it. So a Job's pod moves only when
//
//   - its Job runs: not suspended, not finished (Complete, Failed, or on
//     the way there: FailureTarget, SuccessCriteriaMet), and
//   - its Job's podFailurePolicy ignores DisruptionTarget (ignoresDisruption),
//     or the Job's retries leave room for the eviction with one to spare:
//     failures + evictions in flight + this one < backoffLimit.
//
// The spare retry is the Job's own. The plan reads the Job's status from a
// cache that trails the Job controller, and a pod of the Job can fail on
// its own between that read and the eviction; without it a move could
// spend the retry that pod's failure then exceeds. It also means a Job with
// backoffLimit 0 or 1 and no such policy is never moved: its owner has
// said a failure or two ends it.
//
// Failures counted are status.failed, the pods the Job controller has seen
// fail and not yet added to it (status.uncountedTerminatedPods.failed, and
// failed or terminating pods still carrying its tracking finalizer: a
// deleted pod counts as failed unless it succeeds), the pods whose eviction
// was accepted and which are not terminating yet, and, for
// restartPolicy OnFailure, the container restarts of its running pods
// (which the Job controller adds to its failures). Moves planned in the
// same round count as they are planned.

// jobBackoffMargin is the retries a move leaves the Job (see above).
const jobBackoffMargin = 1

// jobHold says why pod, a pod of a Job (or of a CronJob's Job), must stay
// where it is; "" when it may move (or is not a Job's pod). A move it
// allows is counted against the Job's retries for the rest of the plan.
func (p *planner) jobHold(w *Workload, pod *corev1.Pod, evicted map[types.UID]bool) string {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "Job" {
		return ""
	}
	var job *batchv1.Job
	for _, j := range w.Jobs {
		if j.UID == ref.UID {
			job = j
		}
	}
	if job == nil {
		return fmt.Sprintf("its Job %s is not in the placer's view (just created, or gone): a Job's pod moves only against its Job's retries", ref.Name)
	}
	if why := jobNotRunning(job); why != "" {
		return why
	}
	ok, why := ignoresDisruption(job.Spec.PodFailurePolicy)
	if ok {
		return ""
	}
	if job.Spec.BackoffLimitPerIndex != nil {
		return fmt.Sprintf("Job %s counts failures per index (backoffLimitPerIndex) and %s: the placer does not spend an index's retries", job.Name, why)
	}
	limit := int32(6) // the API's default
	if job.Spec.BackoffLimit != nil {
		limit = *job.Spec.BackoffLimit
	}
	used := jobFailures(job, w.Pods, evicted) + p.jobPlanned[job.UID]
	if used+1+jobBackoffMargin > int(limit) {
		return fmt.Sprintf("evicting it would count against Job %s's backoffLimit %d (%d failure(s) counted or in flight) and %s: "+
			"a move must leave the Job %d retry of its own; add a podFailurePolicy rule with action Ignore on the DisruptionTarget condition to let trimtab move it",
			job.Name, limit, used, why, jobBackoffMargin)
	}
	if p.jobPlanned == nil {
		p.jobPlanned = map[types.UID]int{}
	}
	p.jobPlanned[job.UID]++
	return ""
}

// skipJob records a pod of a Job left by jobHold, naming the Job, so the
// controller can say it where the Job's owner looks (an Event).
func (p *planner) skipJob(w *Workload, pod *corev1.Pod, why string) {
	job := ""
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		job = ref.Name
	}
	p.res.Skips = append(p.res.Skips, Skip{Workload: w.Key, Pod: pod.Name, Node: pod.Spec.NodeName, Reason: why, Job: job})
}

// jobNotRunning says why a Job's pods are not moved whatever its policy:
// it is suspended, or finished or finishing; "" when it runs.
func jobNotRunning(job *batchv1.Job) string {
	if job.Spec.Suspend != nil && *job.Spec.Suspend {
		return fmt.Sprintf("Job %s is suspended: its pods are going, not moving", job.Name)
	}
	for _, c := range job.Status.Conditions {
		switch c.Type {
		case batchv1.JobComplete, batchv1.JobFailed, batchv1.JobFailureTarget, batchv1.JobSuccessCriteriaMet:
			if c.Status == corev1.ConditionTrue {
				return fmt.Sprintf("Job %s has finished (%s): a replacement would not be created", job.Name, c.Type)
			}
		}
	}
	return ""
}

// jobFailures counts the failures the Job controller has counted or will
// count against job's backoffLimit (see the comment at the top).
func jobFailures(job *batchv1.Job, pods []*corev1.Pod, evicted map[types.UID]bool) int {
	pending := map[types.UID]bool{}
	if u := job.Status.UncountedTerminatedPods; u != nil {
		for _, uid := range u.Failed {
			pending[uid] = true
		}
	}
	restarts := 0
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil || ref.UID != job.UID {
			continue
		}
		ending := pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodFailed
		switch {
		case pod.Status.Phase == corev1.PodSucceeded:
		case ending && slices.Contains(pod.Finalizers, batchv1.JobTrackingFinalizer):
			pending[pod.UID] = true
		case evicted[pod.UID] && live(pod):
			pending[pod.UID] = true // accepted, not terminating in the cache yet
		}
		// The pod's restart policy is its template's (the manager's cache
		// keeps only part of a Job's template).
		if pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && live(pod) {
			for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
				restarts += int(cs.RestartCount)
			}
		}
	}
	return int(job.Status.Failed) + len(pending) + restarts
}

// Exit codes of a container the kubelet stops on an eviction: SIGTERM's,
// then SIGKILL's once the grace period is over.
const (
	exitSIGTERM = 128 + 15
	exitSIGKILL = 128 + 9
)

// ignoresDisruption says whether a pod failure policy ignores an evicted
// pod's failure; why says, when it does not, in words. The Job controller
// takes the first rule that matches a failed pod, so the policy ignores an
// eviction when a rule with action Ignore matches the DisruptionTarget
// condition (status True) and no rule before it could match the evicted
// pod with another action:
//
//   - a rule on pod conditions with another action could (which other
//     conditions the pod has is not known ahead), and
//   - a rule on exit codes with another action could when it matches 143 or
//     137, the codes of a container stopped by SIGTERM or SIGKILL; trimtab
//     takes an evicted container to exit with one of them, as a process
//     without its own SIGTERM handler does. A workload that exits with a
//     code of its own on SIGTERM and fails the Job on that code must put
//     its Ignore rule first.
//
// Rules with an action this code does not know are skipped, as the Job
// controller skips them.
func ignoresDisruption(pfp *batchv1.PodFailurePolicy) (bool, string) {
	if pfp == nil {
		return false, "it has no podFailurePolicy"
	}
	for i, r := range pfp.Rules {
		switch r.Action {
		case batchv1.PodFailurePolicyActionIgnore:
			for _, c := range r.OnPodConditions {
				if c.Type == corev1.DisruptionTarget && (c.Status == corev1.ConditionTrue || c.Status == "") {
					return true, ""
				}
			}
			continue // ignoring something else: harmless to an evicted pod
		case batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionFailIndex, batchv1.PodFailurePolicyActionCount:
		default:
			continue
		}
		switch {
		case len(r.OnPodConditions) > 0:
			var conds []string
			for _, c := range r.OnPodConditions {
				conds = append(conds, string(c.Type))
			}
			return false, fmt.Sprintf("its podFailurePolicy rule %d (%s on %s) comes before any rule ignoring DisruptionTarget", i, r.Action, strings.Join(conds, ", "))
		case r.OnExitCodes != nil && exitCodesMatch(r.OnExitCodes, exitSIGTERM, exitSIGKILL):
			return false, fmt.Sprintf("its podFailurePolicy rule %d (%s on exit codes %s %v) matches an evicted container's exit code (143 or 137) before any rule ignoring DisruptionTarget",
				i, r.Action, r.OnExitCodes.Operator, r.OnExitCodes.Values)
		}
	}
	return false, "its podFailurePolicy has no rule with action Ignore on the DisruptionTarget condition"
}

// exitCodesMatch says whether req matches any of codes, as the Job
// controller matches a terminated container's exit code.
func exitCodesMatch(req *batchv1.PodFailurePolicyOnExitCodesRequirement, codes ...int32) bool {
	for _, code := range codes {
		in := slices.Contains(req.Values, code)
		switch req.Operator {
		case batchv1.PodFailurePolicyOnExitCodesOpIn:
			if in {
				return true
			}
		case batchv1.PodFailurePolicyOnExitCodesOpNotIn:
			if !in {
				return true
			}
		default:
			return true // an operator not known here: assume the worst
		}
	}
	return false
}
