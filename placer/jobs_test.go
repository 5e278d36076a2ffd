package placer

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/prices"
)

// ignoreDisruption is the upstream documentation's policy: fail the Job on
// the program's own exit code 42, ignore disruptions.
var ignoreDisruption = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
	{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
	{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
}}

// jobScene is the plan scene with the batch workload's three pods on the
// off market (spot-1) turned into the pods of Job "etl" (backoffLimit 6,
// no failure policy, none failed), the workload a Job; the workload budget
// is lifted so only the Job's rule limits the moves.
func jobScene() (*scene, *batchv1.Job) {
	s := newScene()
	s.in.Placer.WorkloadBudget.Evictions = 100
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "shop", UID: "uid-job-etl"},
		Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](6)}}
	w := s.w("batch")
	w.Key.Kind = "Job"
	w.Jobs = []*batchv1.Job{job}
	for _, p := range w.Pods {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: ptr.To(true)}}
		p.Finalizers = []string{batchv1.JobTrackingFinalizer}
	}
	return s, job
}

func jobSkips(res Result) []string {
	var out []string
	for _, sk := range res.Skips {
		if sk.Job != "" {
			out = append(out, sk.Pod+": "+sk.Reason)
		}
	}
	return out
}

// TestPlanJobs: a Job's pods move only when the eviction cannot fail the
// Job (its policy ignores DisruptionTarget, or its retries leave room with
// one to spare), and never while it is suspended or finished; the pods
// left say why.
func TestPlanJobs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(s *scene, job *batchv1.Job)
		// want is the plan; text must appear in a Job skip ("" for none).
		want, text string
	}{
		{"policy ignores DisruptionTarget: all move, even with backoffLimit 0", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimit = ptr.To[int32](0)
			job.Spec.PodFailurePolicy = ignoreDisruption
		}, "b1:MoveOut:evict b2:MoveOut:evict b3:MoveOut:evict", ""},
		{"no policy, backoffLimit 0: none moves", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimit = ptr.To[int32](0)
		}, "", "Job etl's backoffLimit 0 (0 failure(s) counted or in flight) and it has no podFailurePolicy"},
		{"no policy, backoffLimit 1: the one retry is the Job's", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimit = ptr.To[int32](1)
		}, "", "backoffLimit 1"},
		{"backoffLimit 6 with 3 failed: two move, one retry left to the Job", func(s *scene, job *batchv1.Job) {
			job.Status.Failed = 3
		}, "b1:MoveOut:evict b2:MoveOut:evict", "backoffLimit 6 (5 failure(s) counted or in flight)"},
		{"terminating and uncounted failures count", func(s *scene, job *batchv1.Job) {
			job.Status.Failed = 1
			job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Failed: []types.UID{"uid-gone"}}
			w := s.w("batch")
			dying := pod("batch", "b0", "spot-2", capacity.Spot, false)
			dying.OwnerReferences, dying.Finalizers = w.Pods[0].OwnerReferences, w.Pods[0].Finalizers
			dying.DeletionTimestamp = ptr.To(metav1.NewTime(now))
			w.Pods = append(w.Pods, dying)
		}, "b1:MoveOut:evict b2:MoveOut:evict", "backoffLimit 6 (5 failure(s)"},
		{"an accepted eviction not terminating yet counts", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimit = ptr.To[int32](3)
			w := s.w("batch")
			w.Evictions = []Eviction{{Time: now, Workload: w.Key, Pod: "b1", UID: "uid-b1", Kind: MoveOut}}
		}, "b2:MoveOut:evict", "backoffLimit 3 (2 failure(s)"},
		{"restartPolicy OnFailure: container restarts count", func(s *scene, job *batchv1.Job) {
			for _, p := range s.w("batch").Pods {
				p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			}
			s.w("batch").Pods[0].Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: 3}}
		}, "b1:MoveOut:evict b2:MoveOut:evict", "backoffLimit 6 (5 failure(s)"},
		{"suspended: none moves", func(s *scene, job *batchv1.Job) {
			job.Spec.PodFailurePolicy = ignoreDisruption
			job.Spec.Suspend = ptr.To(true)
		}, "", "Job etl is suspended"},
		{"finished: none moves", func(s *scene, job *batchv1.Job) {
			job.Spec.PodFailurePolicy = ignoreDisruption
			job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue}}
		}, "", "Job etl has finished (SuccessCriteriaMet)"},
		{"a Job the placer has not read: none moves", func(s *scene, job *batchv1.Job) {
			s.w("batch").Jobs = nil
		}, "", "its Job etl is not in the placer's view"},
		{"per-index backoff without the policy: none moves", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimitPerIndex = ptr.To[int32](10)
		}, "", "counts failures per index"},
		{"an earlier rule failing the Job on SIGTERM's exit code: none moves", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimit = ptr.To[int32](0)
			job.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1}}},
				ignoreDisruption.Rules[1],
			}}
		}, "", "rule 0 (FailJob on exit codes NotIn [1]) matches an evicted container's exit code"},
		{"an earlier rule counting a pod condition: none moves", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimit = ptr.To[int32](0)
			job.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{Action: batchv1.PodFailurePolicyActionCount, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}},
				ignoreDisruption.Rules[1],
			}}
		}, "", "rule 0 (Count on Ready) comes before any rule ignoring DisruptionTarget"},
		{"Ignore on DisruptionTarget=False does not ignore an eviction", func(s *scene, job *batchv1.Job) {
			job.Spec.BackoffLimit = ptr.To[int32](0)
			job.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse}}},
			}}
		}, "", "no rule with action Ignore on the DisruptionTarget condition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, job := jobScene()
			tc.setup(s, job)
			res := Plan(s.in)
			if got := summary(res.Plans[s.w("batch").Key]); got != tc.want {
				t.Errorf("plan %q, want %q", got, tc.want)
			}
			skips := jobSkips(res)
			switch {
			case tc.text == "" && len(skips) > 0:
				t.Errorf("Job skips %q, want none", skips)
			case tc.text != "" && !strings.Contains(strings.Join(skips, "\n"), tc.text):
				t.Errorf("Job skips %q, want one saying %q", skips, tc.text)
			}
		})
	}
}

// TestPlanJobRuleLeavesOtherPodsAlone: a Deployment's pods are not a
// Job's, whatever the workload's Jobs say.
func TestPlanJobRuleLeavesOtherPodsAlone(t *testing.T) {
	s := newScene()
	s.w("batch").Jobs = []*batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Name: "x", UID: "uid-x"}, Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0)}}}
	res := Plan(s.in)
	if got := summary(res.Plans[s.w("batch").Key]); got != "b1:MoveOut:evict b2:MoveOut:evict b3:MoveOut:wait" {
		t.Errorf("plan %q", got)
	}
	if skips := jobSkips(res); len(skips) > 0 {
		t.Errorf("Job skips %q for a Deployment's pods", skips)
	}
}

// TestPlanCronJobBasePerJob: the webhook keeps a CronJob's on-demand base
// per Job (its ledger counts a Job's pods, the revision), so two Jobs
// running at once each have a base pod on on-demand. The plan counts the
// base per Job too: with a base of 1 and each Job's base pod on on-demand,
// nothing moves back (a move would have the webhook put the replacement on
// on-demand again: churn, and a retry spent each time).
func TestPlanCronJobBasePerJob(t *testing.T) {
	s := newScene()
	s.in.Placer.WorkloadBudget.Evictions = 100
	s.in.Markets[c3a] = MarketState{Market: c3a, Fresh: true}
	w := s.w("batch")
	w.Key.Kind = "CronJob"
	w.Split = capacity.Split{OnDemandBase: 1, Rest: capacity.Spot, Reason: "spot preferred"}
	w.Outlook = OutlookOf([]prices.Market{c3a}, s.in.Markets)
	jobA := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl-1", Namespace: "shop", UID: "uid-etl-1"}, Spec: batchv1.JobSpec{PodFailurePolicy: ignoreDisruption}}
	jobB := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "etl-2", Namespace: "shop", UID: "uid-etl-2"}, Spec: batchv1.JobSpec{PodFailurePolicy: ignoreDisruption}}
	w.Jobs = []*batchv1.Job{jobA, jobB}
	own := func(p *corev1.Pod, j *batchv1.Job) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: j.Name, UID: j.UID, Controller: ptr.To(true)}}
	}
	w.Pods = []*corev1.Pod{pod("batch", "a1", "od-1", capacity.OnDemand, true), pod("batch", "a2", "spot-1", capacity.Spot, false),
		pod("batch", "b1", "od-2", capacity.OnDemand, true)}
	own(w.Pods[0], jobA)
	own(w.Pods[1], jobA)
	own(w.Pods[2], jobB)
	s.in.Cluster.Pods = w.Pods
	if got := summary(Plan(s.in).Plans[w.Key]); got != "" {
		t.Errorf("plan %q, want none: each Job has its one base pod on on-demand", got)
	}

	// A Job whose base pod is missing gets one moved, the other Job none.
	w.Pods[0].Spec.NodeName = "spot-2"
	delete(w.Pods[0].Labels, LabelPlacement)
	if got := summary(Plan(s.in).Plans[w.Key]); got != "a2:BaseShortfall:evict" && got != "a1:BaseShortfall:evict" {
		t.Errorf("plan %q, want one of etl-1's spot pods moved to on-demand and none of etl-2's", got)
	}
}
