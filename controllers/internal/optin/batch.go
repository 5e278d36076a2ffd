package optin

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
)

// Batch lists the opted-in batch workloads whose pods follow a Decision's
// capacity: the CronJobs, and the Jobs no CronJob controls (a CronJob's
// Jobs share its Decision, as the mutating webhook resolves their pods to
// it), less the Jobs that have finished (Complete or Failed: no new pod
// will be admitted for them). Only the decision controller reads it; the
// requests controller does not learn requests for batch workloads. The
// Workloads' Replicas are spec.parallelism, Ready status.ready (a CronJob:
// its Job template's parallelism, and none ready).
func Batch(ctx context.Context, r client.Reader, s config.Settings, narrow labels.Selector) ([]Workload, error) {
	nss, err := namespaces(ctx, r, s, narrow)
	if err != nil {
		return nil, err
	}
	var out []Workload
	for _, ns := range nss {
		var cjs batchv1.CronJobList
		if err := r.List(ctx, &cjs, client.InNamespace(ns.Name)); err != nil {
			return nil, fmt.Errorf("listing CronJobs in %s: %w", ns.Name, err)
		}
		for i := range cjs.Items {
			cj := &cjs.Items[i]
			js := &cj.Spec.JobTemplate.Spec
			out = append(out, Workload{cj, "CronJob", js.Parallelism, 0, js.Selector, &js.Template})
		}
		var jobs batchv1.JobList
		if err := r.List(ctx, &jobs, client.InNamespace(ns.Name)); err != nil {
			return nil, fmt.Errorf("listing Jobs in %s: %w", ns.Name, err)
		}
		for i := range jobs.Items {
			j := &jobs.Items[i]
			if ref := metav1.GetControllerOfNoCopy(j); (ref != nil && ref.Kind == "CronJob") || finished(j) {
				continue
			}
			var ready int32
			if j.Status.Ready != nil {
				ready = *j.Status.Ready
			}
			out = append(out, Workload{j, "Job", j.Spec.Parallelism, ready, j.Spec.Selector, &j.Spec.Template})
		}
	}
	return out, nil
}

func finished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
