package decision

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// TestJobAndCronJobDecisions: an opted-in batch Job and CronJob each get a
// Decision, owned by them (collected with them), with a capacity that
// follows the placer's outlook as a Deployment's does, and no replicas:
// ScalingActive=False says trimtab does not scale them, and the Job's
// parallelism is left alone. A CronJob's Job has no Decision of its own:
// its pods share the CronJob's, as the webhook resolves them.
func TestJobAndCronJobDecisions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	batch := map[string]string{config.AnnotationClass: string(config.ClassBatch), config.AnnotationMode: string(config.ModeEnforce)}
	spec := batchv1.JobSpec{Parallelism: ptr.To[int32](3), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "etl", Annotations: batch}, Spec: *spec.DeepCopy()}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "nightly", Annotations: batch},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: *spec.DeepCopy()}}}
	for _, o := range []client.Object{job, cj} {
		if err := h.c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	child := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "nightly-1", Annotations: batch,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: ptr.To(true)}}},
		Spec: *spec.DeepCopy()}
	if err := h.c.Create(ctx, child); err != nil {
		t.Fatal(err)
	}
	why := "c3.xlarge/us-east-1a off spot since 09:20 UTC: price above threshold"
	outlooks := offSpot{{Namespace: h.ns, Kind: "Job", Name: "etl"}: {OffSpot: true, Reason: why}}
	h.ctrl.Outlooks = outlooks

	st := h.sync()
	if st.Creates != 2 {
		t.Errorf("created %d Decisions, want 2 (the Job and the CronJob)", st.Creates)
	}
	check := func(name, kind string, owner client.Object, rest capacity.Type) {
		t.Helper()
		d := h.decision(name)
		if d.Spec.WorkloadRef.Kind != kind || d.Spec.WorkloadRef.APIVersion != "batch/v1" {
			t.Errorf("%s: workloadRef %+v", name, d.Spec.WorkloadRef)
		}
		if refs := d.OwnerReferences; len(refs) != 1 || refs[0].Kind != kind || refs[0].APIVersion != "batch/v1" || refs[0].UID != owner.GetUID() {
			t.Errorf("%s: owner references %+v, want the %s (so the Decision is collected with it)", name, refs, kind)
		}
		if d.Status.Capacity == nil || d.Status.Capacity.Rest != string(rest) {
			t.Fatalf("%s: capacity %+v, want the rest on %s", name, d.Status.Capacity, rest)
		}
		if c := condition(d, v1alpha1.ScalingActive); c.Status != metav1.ConditionFalse || c.Reason != "BatchWorkload" {
			t.Errorf("%s: ScalingActive %+v, want False/BatchWorkload", name, c)
		}
		if d.Status.Replicas != nil || d.Status.DesiredReplicas != 0 || !strings.HasPrefix(d.Status.Summary, "capacity only") {
			t.Errorf("%s: replicas %+v desired %d summary %q; want no replica decision", name, d.Status.Replicas, d.Status.DesiredReplicas, d.Status.Summary)
		}
	}
	check("etl", "Job", job, capacity.OnDemand)
	if r := h.decision("etl").Status.Capacity.Reason; !strings.Contains(r, why) {
		t.Errorf("etl's capacity reason %q does not carry the placer's %q", r, why)
	}
	check("nightly", "CronJob", cj, capacity.Spot)
	var none v1alpha1.Decision
	if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.ns, Name: "nightly-1"}, &none); !apierrors.IsNotFound(err) {
		t.Errorf("the CronJob's Job has a Decision of its own (%v): its pods are the CronJob's", err)
	}

	// The outlook passes: the capacity follows; a sync with nothing
	// changed writes nothing.
	delete(outlooks, workloadKey{Namespace: h.ns, Kind: "Job", Name: "etl"})
	if st := h.sync(); st.StatusWrites != 1 {
		t.Errorf("%d status writes, want 1 (etl's capacity back to spot)", st.StatusWrites)
	}
	check("etl", "Job", job, capacity.Spot)
	if st := h.sync(); st.StatusWrites != 0 || st.Creates != 0 {
		t.Errorf("an idle sync wrote %d statuses and created %d Decisions", st.StatusWrites, st.Creates)
	}
	var got batchv1.Job
	if err := h.c.Get(ctx, client.ObjectKeyFromObject(job), &got); err != nil || *got.Spec.Parallelism != 3 {
		t.Errorf("the Job's parallelism %v (%v), want 3 untouched", got.Spec.Parallelism, err)
	}
}
