package placement

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
)

// TestCronJobPodsMoveWithinTheirJobs: a batch CronJob's one Decision
// covers the pods of all its Jobs. On an interrupted spot node, the pod of
// the Job whose podFailurePolicy ignores DisruptionTarget is evicted; the
// pod of the Job with backoffLimit 0 and no such policy is left, with a
// JobPodLeft Warning on the Decision naming that Job.
func TestCronJobPodsMoveWithinTheirJobs(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	s := config.DefaultSettings()
	for _, n := range []struct {
		name, capType string
		taints        []corev1.Taint
	}{
		{"spot-a", s.SpotValue, []corev1.Taint{s.SpotTaint, {Key: config.NTHTaints[0], Effect: corev1.TaintEffectNoSchedule}}},
		{"od-1", s.OnDemandValue, nil},
	} {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{s.CapacityTypeLabel: n.capType,
			corev1.LabelHostname: n.name, corev1.LabelInstanceTypeStable: "c3.xlarge", corev1.LabelTopologyZone: "us-east-1a"}}}
		if err := c.Create(ctx, node); err != nil {
			t.Fatal(err)
		}
		res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}
		node.Status = corev1.NodeStatus{Capacity: res, Allocatable: res, Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}
		if err := c.Status().Update(ctx, node); err != nil {
			t.Fatal(err)
		}
		node.Spec.Taints = n.taints // lift the apiserver's not-ready taint
		if err := c.Update(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	ns := "shop"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{config.NamespaceLabel: "true"}}}); err != nil {
		t.Fatal(err)
	}
	podSpec := corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}},
		Tolerations: []corev1.Toleration{{Key: s.SpotTaint.Key, Operator: corev1.TolerationOpEqual, Value: s.SpotTaint.Value, Effect: s.SpotTaint.Effect}}}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly",
		Annotations: map[string]string{config.AnnotationClass: string(config.ClassBatch), config.AnnotationMode: string(config.ModeEnforce)}},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: podSpec}}}}}
	if err := c.Create(ctx, cj); err != nil {
		t.Fatal(err)
	}
	d := &v1alpha1.Decision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly"},
		Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{APIVersion: "batch/v1", Kind: "CronJob", Name: "nightly"}}}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	job := func(name string, pfp *batchv1.PodFailurePolicy) {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: ptr.To(true)}}},
			Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), PodFailurePolicy: pfp, Template: corev1.PodTemplateSpec{Spec: podSpec}}}
		if err := c.Create(ctx, j); err != nil {
			t.Fatal(err)
		}
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-pod", Labels: j.Spec.Template.Labels,
			Finalizers:      []string{batchv1.JobTrackingFinalizer},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: name, UID: j.UID, Controller: ptr.To(true)}}},
			Spec: *podSpec.DeepCopy()}
		p.Spec.NodeName = "spot-a"
		if err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		if err := c.Status().Update(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	job("nightly-1", &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}}}})
	job("nightly-2", nil)

	rec := events.NewFakeRecorder(10)
	cc := &counting{Client: c}
	ctrl := &Controller{Client: cc, Recorder: rec, Settings: s, Placer: config.DefaultPlacerSettings(),
		Clock: clocktesting.NewFakeClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))}
	if _, err := ctrl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := cc.requests(); len(got) != 1 || got[0] != "nightly-1-pod" {
		t.Errorf("evictions asked %v, want nightly-1-pod's only", got)
	}
	select {
	case ev := <-rec.Events:
		if !strings.Contains(ev, ReasonJobPodLeft) || !strings.Contains(ev, "nightly-2-pod") || !strings.Contains(ev, "Job nightly-2's backoffLimit 0") {
			t.Errorf("event %q, want a JobPodLeft Warning for nightly-2-pod naming its Job's backoffLimit", ev)
		}
		t.Logf("event: %s", ev)
	default:
		t.Errorf("no JobPodLeft event")
	}
}
