package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/placement"
)

// jobTraceStart starts the replay two hours before TestPlacerSpikeMovesOutAndBack's
// (spikeTraceStart): the market goes off spot at about 18:30, about 30 s of
// wall time in, which leaves a loaded machine time to start the manager and
// run the Jobs' pods on spot first.
var jobTraceStart = spikeTraceStart.Add(-2 * time.Hour)

// ignoreDisruptionPolicy is the upstream documentation's pod failure policy
// for Jobs that may be disrupted: an evicted pod does not count against
// backoffLimit.
var ignoreDisruptionPolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore,
	OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}}}}

// createRunJob creates a batch Job (enforce mode) of n pause pods (100m
// each) on the run's nodes, with backoffLimit 0 and the failure policy
// given. kwok completes a running Job pod at once (its pod-complete stage)
// unless the pod asks for a delay: these ask for an hour.
func createRunJob(s *placerScene, name string, n int32, pfp *batchv1.PodFailurePolicy) {
	s.t.Helper()
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: policy(config.AnnotationClass, "batch", config.AnnotationMode, "enforce")},
		Spec: batchv1.JobSpec{Parallelism: ptr.To(n), Completions: ptr.To(n), BackoffLimit: ptr.To[int32](0), PodFailurePolicy: pfp,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"pod-complete.stage.kwok.x-k8s.io/delay": "1h"}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, TerminationGracePeriodSeconds: ptr.To[int64](0),
					NodeSelector: map[string]string{placerRunKey: s.run},
					Tolerations:  []corev1.Toleration{{Key: placerRunKey, Operator: corev1.TolerationOpEqual, Value: s.run, Effect: corev1.TaintEffectNoSchedule}},
					Containers: []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resourceMust("100m")}}}}}}}}
	if _, err := s.e.cs.BatchV1().Jobs(s.e.namespace).Create(context.Background(), j, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// jobPods lists the Job's pods: the live ones (Running, not terminating)
// by UID with their node, and all of them.
func jobPods(s *placerScene, job string) (live map[types.UID]corev1.Pod, all []corev1.Pod) {
	s.t.Helper()
	list, err := s.e.cs.CoreV1().Pods(s.e.namespace).List(context.Background(), metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		s.t.Fatal(err)
	}
	live = map[types.UID]corev1.Pod{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
			live[p.UID] = p
		}
	}
	return live, list.Items
}

// waitJobPods waits until the Job has n live pods, all on node, and none
// other; it returns them.
func waitJobPods(s *placerScene, job string, timeout time.Duration, n int, node string) map[types.UID]corev1.Pod {
	s.t.Helper()
	var live map[types.UID]corev1.Pod
	eventually(s.t, timeout, func() error {
		var all []corev1.Pod
		live, all = jobPods(s, job)
		var on []string
		for _, p := range all {
			on = append(on, fmt.Sprintf("%s@%s/%s", p.Name, p.Spec.NodeName, p.Status.Phase))
		}
		if len(live) != n || len(all) != n {
			return fmt.Errorf("job %s: %d live of %d pods (%v), want %d live on %s", job, len(live), len(all), on, n, node)
		}
		for _, p := range live {
			if p.Spec.NodeName != node {
				return fmt.Errorf("job %s: pods %v, want them on %s", job, on, node)
			}
		}
		return nil
	})
	return live
}

func jobStatus(s *placerScene, name string) *batchv1.Job {
	s.t.Helper()
	j, err := s.e.cs.BatchV1().Jobs(s.e.namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return j
}

// TestPlacerJobMovesOutAndBack replays the recorded spike (as
// TestPlacerSpikeMovesOutAndBack does) with two batch Jobs on a spot node,
// both with backoffLimit 0: "etl" (1 pod) has the pod failure policy
// ignoring DisruptionTarget, "strict" (1 pod) has none. Each gets a
// Decision. When the market goes off spot, etl's Decision turns on-demand,
// its pods are evicted once each, and the Job controller's replacements
// are admitted through the webhook onto the on-demand node with the
// Decision's reason in their annotation; etl does not fail (no failure
// counted). strict's pod is left where it is, never asked for, with a
// JobPodLeft Warning on its Decision saying why, and strict does not fail.
// After the spike etl's pods move back to spot, once each, still without a
// failure counted.
func TestPlacerJobMovesOutAndBack(t *testing.T) {
	t.Parallel()
	s := newPlacerScene(t, []string{"spot-a"}, []string{"od"})
	spotA, od := s.node("spot-a"), s.node("od")
	r := newSpikeReplay(t, jobTraceStart)
	trace := r.trace
	start := time.Now()
	wall := func() string { return fmt.Sprintf("%5.1fs", time.Since(start).Seconds()) }
	s.startPlacer(r.options)
	// One pod: the Job controller delays a replacement by its back-off
	// (10 s, doubling with each failed pod since the last success, evicted
	// ones included even when the policy ignores them), so each pod more
	// would add a doubling to the move back.
	createRunJob(s, "etl", 1, ignoreDisruptionPolicy)
	createRunJob(s, "strict", 1, nil)
	before := waitJobPods(s, "etl", 60*time.Second, 1, spotA)
	strictBefore := waitJobPods(s, "strict", 60*time.Second, 1, spotA)
	for _, name := range []string{"etl", "strict"} {
		if d := s.decision(name); d != nil && d.Status.Capacity != nil && d.Status.Capacity.Rest != "spot" {
			t.Fatalf("trace %s: %s's capacity is %s already: its pods were admitted after the market went off spot, there is nothing to move", trace(), name, d.Status.Capacity.Rest)
		}
	}
	t.Logf("%s trace %s: etl's pod and strict's pod running on spot", wall(), trace())

	eventually(t, 90*time.Second, func() error {
		d := s.decision("etl")
		if d == nil || d.Spec.WorkloadRef.Kind != "Job" || d.Status.Capacity == nil || d.Status.Capacity.Rest != "on-demand" {
			var capa any
			if d != nil {
				capa = d.Status.Capacity
			}
			return fmt.Errorf("trace %s: etl's Decision %v, capacity %+v; waiting for the market to go off spot", trace(), d != nil, capa)
		}
		t.Logf("%s trace %s: etl's capacity: %s", wall(), trace(), d.Status.Capacity.Reason)
		return nil
	})

	after := waitJobPods(s, "etl", 90*time.Second, 1, od)
	t.Logf("%s trace %s: etl's pods replaced on on-demand", wall(), trace())
	for _, p := range after {
		if p.Labels[config.Prefix+"placement"] != "on-demand" || !strings.Contains(p.Annotations[config.AnnotationDecision], "off spot: c3.xlarge/us-east-1a") {
			t.Errorf("pod %s: placement %q, decision %q; want on-demand through the webhook, with the Decision's reason (off spot)", p.Name, p.Labels[config.Prefix+"placement"], p.Annotations[config.AnnotationDecision])
		}
	}
	accepted, _, other := s.evicts.counts()
	for uid, p := range before {
		if accepted[p.Name] != 1 {
			t.Errorf("etl's pod %s (%s): %d eviction(s) accepted, want exactly one", p.Name, uid, accepted[p.Name])
		}
	}
	for pod := range accepted {
		if !strings.HasPrefix(pod, "etl-") {
			t.Errorf("pod %s evicted; only etl's pods may be", pod)
		}
	}
	if len(other) > 0 {
		t.Errorf("other eviction answers: %v", other)
	}
	if j := jobStatus(s, "etl"); j.Status.Failed != 0 || jobFailed(j) {
		t.Errorf("etl: failed %d, conditions %+v; want the evictions ignored (podFailurePolicy)", j.Status.Failed, j.Status.Conditions)
	}

	// strict: left with the reason on its Decision, never asked for.
	eventually(t, 30*time.Second, func() error {
		evs, err := s.e.cs.EventsV1().Events(s.e.namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, ev := range evs.Items {
			if ev.Reason == placement.ReasonJobPodLeft && ev.Regarding.Kind == "Decision" && ev.Regarding.Name == "strict" {
				t.Logf("%s Event on Decision strict: %s: %s", wall(), ev.Reason, ev.Note)
				if !strings.Contains(ev.Note, "backoffLimit 0") {
					return fmt.Errorf("JobPodLeft says %q, want it to name the backoffLimit", ev.Note)
				}
				return nil
			}
		}
		return fmt.Errorf("no JobPodLeft Event on Decision strict yet")
	})
	if d := s.decision("strict"); d == nil || d.Spec.WorkloadRef.Kind != "Job" || d.Status.Capacity == nil || d.Status.Capacity.Rest != "on-demand" {
		t.Errorf("strict's Decision %+v, want one for the Job with capacity on-demand", d)
	}
	strictNow, _ := jobPods(s, "strict")
	if fmt.Sprint(keys(strictNow)) != fmt.Sprint(keys(strictBefore)) {
		t.Errorf("strict's pods changed: %v then %v", keys(strictBefore), keys(strictNow))
	}
	if j := jobStatus(s, "strict"); j.Status.Failed != 0 || jobFailed(j) {
		t.Errorf("strict: failed %d, conditions %+v; want it untouched", j.Status.Failed, j.Status.Conditions)
	}

	// After the spike: the market comes back, etl's capacity returns to
	// spot and its pods move back, each once more, the Job still counting
	// no failure; strict's pod has not moved at all.
	eventually(t, 120*time.Second, func() error {
		d := s.decision("etl")
		if d == nil || d.Status.Capacity == nil || d.Status.Capacity.Rest != "spot" {
			return fmt.Errorf("trace %s: etl's capacity is not back on spot yet", trace())
		}
		return nil
	})
	t.Logf("%s trace %s: etl's capacity back on spot", wall(), trace())
	back := waitJobPods(s, "etl", 120*time.Second, 1, spotA)
	t.Logf("%s trace %s: etl's pods back on spot", wall(), trace())
	accepted, _, _ = s.evicts.counts()
	for _, p := range after {
		if accepted[p.Name] != 1 {
			t.Errorf("etl's on-demand pod %s: %d eviction(s) accepted, want exactly one (the move back)", p.Name, accepted[p.Name])
		}
	}
	for _, p := range back {
		if accepted[p.Name] != 0 {
			t.Errorf("etl's pod %s back on spot was evicted %d time(s): churn", p.Name, accepted[p.Name])
		}
		if !strings.HasPrefix(p.Annotations[config.AnnotationDecision], "spot") {
			t.Errorf("pod %s back on spot: decision %q, want spot through the webhook", p.Name, p.Annotations[config.AnnotationDecision])
		}
	}
	if j := jobStatus(s, "etl"); j.Status.Failed != 0 || jobFailed(j) {
		t.Errorf("etl after the move back: failed %d, conditions %+v; want no failure counted", j.Status.Failed, j.Status.Conditions)
	}
	strictNow, _ = jobPods(s, "strict")
	if fmt.Sprint(keys(strictNow)) != fmt.Sprint(keys(strictBefore)) {
		t.Errorf("strict's pods changed by the end: %v then %v", keys(strictBefore), keys(strictNow))
	}
	s.evicts.mu.Lock()
	for _, r := range s.evicts.reqs {
		t.Logf("eviction of %s answered %d at %.1fs", r.pod, r.code, r.at.Sub(start).Seconds())
	}
	s.evicts.mu.Unlock()
}

func jobFailed(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobFailed || c.Type == batchv1.JobFailureTarget) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func keys(m map[types.UID]corev1.Pod) []string {
	var out []string
	for uid := range m {
		out = append(out, string(uid))
	}
	sort.Strings(out)
	return out
}
