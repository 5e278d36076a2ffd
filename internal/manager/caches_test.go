package manager

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func TestTrimObject(t *testing.T) {
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:            "web",
			Annotations:     map[string]string{lastApplied: `{"huge":true}`, "trimtab.dev/class": "batch"},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}},
			Labels:          map[string]string{"pod-template-hash": "abc"},
		}
	}
	tpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x"}}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: meta(), Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3), Template: tpl}}
	jobTpl := *tpl.DeepCopy()
	jobTpl.Spec.NodeSelector = map[string]string{"pool": "batch"}
	job := &batchv1.Job{ObjectMeta: meta(), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](2), Template: jobTpl}}
	dep := &appsv1.Deployment{ObjectMeta: meta(), Spec: appsv1.DeploymentSpec{Template: tpl}}
	for _, obj := range []metav1.Object{rs, job, dep} {
		if _, err := trimObject(obj); err != nil {
			t.Fatal(err)
		}
		if obj.GetManagedFields() != nil || obj.GetAnnotations()[lastApplied] != "" {
			t.Errorf("%T kept managed fields or %s", obj, lastApplied)
		}
		if obj.GetAnnotations()["trimtab.dev/class"] != "batch" || obj.GetLabels()["pod-template-hash"] != "abc" || len(obj.GetOwnerReferences()) != 1 {
			t.Errorf("%T lost what trimtab reads: %+v", obj, obj)
		}
	}
	if len(rs.Spec.Template.Spec.Containers) != 0 || *rs.Spec.Replicas != 3 {
		t.Errorf("ReplicaSet spec after trimming: %+v; want no template, replicas kept", rs.Spec)
	}
	if len(job.Spec.Template.Spec.Containers) != 0 || *job.Spec.Parallelism != 2 || job.Spec.Template.Spec.NodeSelector["pool"] != "batch" {
		t.Errorf("Job spec after trimming: %+v; want only the template's scheduling constraints, parallelism kept", job.Spec)
	}
	if len(dep.Spec.Template.Spec.Containers) != 1 {
		t.Error("a Deployment's template was dropped; the decision controller reads its CPU requests")
	}
	tomb := toolscache.DeletedFinalStateUnknown{Key: "ns/web", Obj: rs}
	if out, err := trimObject(tomb); err != nil || out != any(tomb) {
		t.Errorf("a tombstone came back as %v, %v", out, err)
	}
}
