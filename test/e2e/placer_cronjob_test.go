package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
)

// createRunCronJob creates a batch CronJob (enforce mode) running every
// minute, concurrencyPolicy Forbid, suspended; its Jobs are createRunJob's:
// n pause pods (100m each) on the run's nodes, backoffLimit 0, the failure
// policy given, each pod asking kwok to complete it after an hour (so its
// one Job runs through the test and Forbid holds the next ones).
func createRunCronJob(s *placerScene, name string, n int32, pfp *batchv1.PodFailurePolicy) *batchv1.CronJob {
	s.t.Helper()
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: policy(config.AnnotationClass, "batch", config.AnnotationMode, "enforce")},
		Spec: batchv1.CronJobSpec{Schedule: "* * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent, Suspend: ptr.To(true),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Parallelism: ptr.To(n), Completions: ptr.To(n), BackoffLimit: ptr.To[int32](0), PodFailurePolicy: pfp,
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"pod-complete.stage.kwok.x-k8s.io/delay": "1h"}},
					Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, TerminationGracePeriodSeconds: ptr.To[int64](0),
						NodeSelector: map[string]string{placerRunKey: s.run},
						Tolerations:  []corev1.Toleration{{Key: placerRunKey, Operator: corev1.TolerationOpEqual, Value: s.run, Effect: corev1.TaintEffectNoSchedule}},
						Containers: []corev1.Container{{Name: "main", Image: "registry.k8s.io/pause:3.10",
							Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resourceMust("100m")}}}}}}}}}}
	cj, err := s.e.cs.BatchV1().CronJobs(s.e.namespace).Create(context.Background(), cj, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return cj
}

// cronJobJobs lists the names of the Jobs cj controls.
func cronJobJobs(s *placerScene, cj *batchv1.CronJob) []string {
	s.t.Helper()
	list, err := s.e.cs.BatchV1().Jobs(s.e.namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, j := range list.Items {
		if ref := metav1.GetControllerOf(&j); ref != nil && ref.UID == cj.UID {
			out = append(out, j.Name)
		}
	}
	return out
}

// decisionsOf lists the namespace's Decisions as "Kind/name owned by
// Kind/name/uid".
func decisionsOf(s *placerScene) ([]v1alpha1.Decision, []string) {
	s.t.Helper()
	var list v1alpha1.DecisionList
	if err := s.c.List(context.Background(), &list, client.InNamespace(s.e.namespace)); err != nil {
		s.t.Fatal(err)
	}
	var ds []v1alpha1.Decision
	var desc []string
	for _, d := range list.Items {
		ds = append(ds, d)
		var owners []string
		for _, o := range d.OwnerReferences {
			owners = append(owners, fmt.Sprintf("%s/%s/%s", o.Kind, o.Name, o.UID))
		}
		desc = append(desc, fmt.Sprintf("%s (%s/%s, owned by %v)", d.Name, d.Spec.WorkloadRef.Kind, d.Spec.WorkloadRef.Name, owners))
	}
	return ds, desc
}

// checkOneCronJobDecision fails the test unless the namespace holds one
// Decision, for cj (kind CronJob, owned by it), and none per Job.
func checkOneCronJobDecision(s *placerScene, cj *batchv1.CronJob) *v1alpha1.Decision {
	s.t.Helper()
	ds, desc := decisionsOf(s)
	if len(ds) != 1 {
		s.t.Fatalf("Decisions %v, want exactly one, for CronJob %s (none per Job)", desc, cj.Name)
	}
	d := ds[0]
	owned := false
	for _, o := range d.OwnerReferences {
		owned = owned || (o.Kind == "CronJob" && o.Name == cj.Name && o.UID == cj.UID)
	}
	if d.Name != cj.Name || d.Spec.WorkloadRef.Kind != "CronJob" || d.Spec.WorkloadRef.Name != cj.Name || !owned {
		s.t.Fatalf("Decisions %v, want one named %s for the CronJob, owned by it (uid %s)", desc, cj.Name, cj.UID)
	}
	return &d
}

// checkStampedByCronJob fails the test unless each pod was admitted
// through the webhook for the CronJob's Decision d: workload
// CronJob/<name>, placement and reason the Decision's capacity.
func checkStampedByCronJob(s *placerScene, pods map[types.UID]corev1.Pod, cj *batchv1.CronJob, d *v1alpha1.Decision) {
	s.t.Helper()
	for _, p := range pods {
		var pd struct {
			Workload, Placement, Reason string
		}
		raw := p.Annotations[config.AnnotationDecisionJSON]
		if err := json.Unmarshal([]byte(raw), &pd); err != nil {
			s.t.Errorf("pod %s: %s %q: %v; want the webhook's decision", p.Name, config.AnnotationDecisionJSON, raw, err)
			continue
		}
		if pd.Workload != "CronJob/"+cj.Name || pd.Placement != d.Status.Capacity.Rest || p.Labels[config.Prefix+"placement"] != d.Status.Capacity.Rest ||
			!strings.Contains(pd.Reason, d.Status.Capacity.Reason) {
			s.t.Errorf("pod %s: workload %q, placement %q (label %q), reason %q; want CronJob/%s's Decision's capacity %q, %q",
				p.Name, pd.Workload, pd.Placement, p.Labels[config.Prefix+"placement"], pd.Reason, cj.Name, d.Status.Capacity.Rest, d.Status.Capacity.Reason)
		}
	}
}

// TestPlacerCronJobMovesOutOfAnInterruptedNode: a batch CronJob (every
// minute, concurrencyPolicy Forbid) whose Jobs have backoffLimit 0 and the
// pod failure policy ignoring DisruptionTarget, on the test's spot and
// on-demand nodes, no prices. The CronJob gets one Decision (kind
// CronJob, owned by it) and its Job none; the Job's 2 pods are admitted
// through the webhook with that Decision's capacity and run on spot. NTH's
// interruption taint on the spot node (as TestPlacerInterruptionMovesOnce
// does): the placer evicts each of the Job's pods exactly once, the Job
// controller's replacements land on the on-demand node, stamped for the
// CronJob again, and the Job counts no failure. Nothing moves after, and
// there is still one Job and one Decision.
func TestPlacerCronJobMovesOutOfAnInterruptedNode(t *testing.T) {
	t.Parallel()
	s := newPlacerScene(t, []string{"spot-a"}, []string{"od"})
	spotA, od := s.node("spot-a"), s.node("od")
	s.startPlacer()
	start := time.Now()
	wall := func() string { return fmt.Sprintf("%5.1fs", time.Since(start).Seconds()) }

	// Suspended until its Decision has a capacity: the Job's pods are
	// then admitted with the Decision's capacity, not the policy's own.
	cj := createRunCronJob(s, "nightly", 2, ignoreDisruptionPolicy)
	var d *v1alpha1.Decision
	eventually(t, 30*time.Second, func() error {
		if d = s.decision(cj.Name); d == nil || d.Status.Capacity == nil {
			return fmt.Errorf("no Decision with a capacity for CronJob %s yet", cj.Name)
		}
		return nil
	})
	t.Logf("%s Decision %s: capacity %s: %s", wall(), d.Name, d.Status.Capacity.Rest, d.Status.Capacity.Reason)
	if _, err := s.e.cs.BatchV1().CronJobs(s.e.namespace).Patch(context.Background(), cj.Name, types.MergePatchType,
		[]byte(`{"spec":{"suspend":false}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	// The CronJob controller runs on the apiserver's wall clock, not one
	// the test can speed up: with schedule "* * * * *" it creates the Job
	// at the next minute boundary (or at once, for one missed while
	// suspended), so within 60 s; 30 s more for a loaded machine.
	var job string
	eventually(t, 90*time.Second, func() error {
		jobs := cronJobJobs(s, cj)
		if len(jobs) == 0 {
			return fmt.Errorf("CronJob %s has no Job yet", cj.Name)
		}
		job = jobs[0]
		return nil
	})
	t.Logf("%s Job %s created", wall(), job)
	before := waitJobPods(s, job, 60*time.Second, 2, spotA)
	t.Logf("%s Job %s's 2 pods running on spot", wall(), job)
	// Several decision periods (2 s) have passed since the Job appeared.
	d = checkOneCronJobDecision(s, cj)
	if d.Status.Capacity == nil || d.Status.Capacity.Rest != "spot" {
		t.Fatalf("Decision %s's capacity %+v, want spot (a batch workload, no prices)", d.Name, d.Status.Capacity)
	}
	checkStampedByCronJob(s, before, cj, d)

	taintedAt := time.Now()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := s.e.cs.CoreV1().Nodes().Get(context.Background(), spotA, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: config.NTHTaints[0], Value: "true", Effect: corev1.TaintEffectNoSchedule})
		_, err = s.e.cs.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	after := waitJobPods(s, job, 90*time.Second, 2, od)
	t.Logf("%s Job %s's pods replaced on on-demand %.1fs after the taint", wall(), job, time.Since(taintedAt).Seconds())
	for uid := range before {
		if _, ok := after[uid]; ok {
			t.Errorf("pod %s still live after the move", uid)
		}
	}
	checkStampedByCronJob(s, after, cj, checkOneCronJobDecision(s, cj))

	// No churn: a few more placer rounds (2 s) move nothing, and Forbid
	// holds the next schedule while the Job runs.
	movedAcc, _, _ := s.evicts.counts()
	time.Sleep(6 * time.Second)
	again, _ := jobPods(s, job)
	if fmt.Sprint(keys(again)) != fmt.Sprint(keys(after)) {
		t.Errorf("Job %s's pods changed after the move: %v then %v", job, keys(after), keys(again))
	}
	accepted, tooMany, other := s.evicts.counts()
	t.Logf("evictions accepted %v (%d before the churn check), 429s %d, other answers %v", accepted, len(movedAcc), tooMany, other)
	for _, p := range before {
		if accepted[p.Name] != 1 {
			t.Errorf("pod %s: %d eviction(s) accepted, want exactly one", p.Name, accepted[p.Name])
		}
	}
	if len(accepted) != len(before) {
		t.Errorf("%d pods evicted, want only the Job's %d pods on the interrupted node", len(accepted), len(before))
	}
	if len(other) > 0 {
		t.Errorf("other eviction answers: %v", other)
	}
	if j := jobStatus(s, job); j.Status.Failed != 0 || jobFailed(j) {
		t.Errorf("Job %s: failed %d, conditions %+v; want the evictions ignored (podFailurePolicy)", job, j.Status.Failed, j.Status.Conditions)
	}
	if jobs := cronJobJobs(s, cj); len(jobs) != 1 {
		t.Errorf("CronJob %s's Jobs %v, want the one (Forbid, its Job still running)", cj.Name, jobs)
	}
	checkOneCronJobDecision(s, cj)
	s.evicts.mu.Lock()
	for _, r := range s.evicts.reqs {
		t.Logf("eviction of %s answered %d %.1fs after the taint", r.pod, r.code, r.at.Sub(taintedAt).Seconds())
	}
	s.evicts.mu.Unlock()
	t.Logf("%s done", wall())
}
