package placement

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
)

// A CronJob has one Decision, shared by the pods of all its Jobs: the
// mutating webhook resolves a pod of a CronJob's Job to the CronJob (its
// policy is the CronJob's annotations) and reads that Decision's capacity;
// its placement ledger keeps the on-demand base per Job (the revision of
// its pods), and so does the plan (placer baseGroups). A Decision
// per Job would be created and collected at every schedule tick, and its
// outlook and settle time would start over with each.

// cronJobWorkload is the plan's view of a CronJob's Decision: the pods of
// the Jobs the CronJob controls, and those Jobs.
func (c *Controller) cronJobWorkload(ctx context.Context, d *v1alpha1.Decision, all []*corev1.Pod,
	infos map[string]*placer.NodeInfo, markets map[prices.Market]placer.MarketState) (*placer.Workload, error) {
	cj := &batchv1.CronJob{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: d.Namespace, Name: d.Spec.WorkloadRef.Name}, cj); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	var list batchv1.JobList
	if err := c.Client.List(ctx, &list, client.InNamespace(d.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the Jobs of CronJob %s/%s: %w", d.Namespace, cj.Name, err)
	}
	var jobs []*batchv1.Job
	owned := map[types.UID]bool{}
	for i := range list.Items {
		j := &list.Items[i]
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.UID == cj.UID {
			jobs = append(jobs, j)
			owned[j.UID] = true
		}
	}
	var pods []*corev1.Pod
	for _, p := range all {
		if ref := metav1.GetControllerOfNoCopy(p); p.Namespace == d.Namespace && ref != nil && ref.Kind == "Job" && owned[ref.UID] {
			pods = append(pods, p)
		}
	}
	return c.assemble(d, cj, &cj.Spec.JobTemplate.Spec.Template, pods, jobs, infos, markets), nil
}

// ReasonJobPodLeft is the reason of the Warning Event on a Decision whose
// Job's pod the placer would move and leaves, because moving it could
// fail the Job (or the Job is suspended or finished): the Event says which
// Job and what to change.
const ReasonJobPodLeft = "JobPodLeft"

// recordJobSkips records a JobPodLeft Event on the Decision of each pod
// the plan left for its Job's sake. Repeats of one message fold into the
// Event's series (client-go's events library), so a pod left round after
// round is one Event, not one a round.
func (c *Controller) recordJobSkips(decisions []v1alpha1.Decision, skips []placer.Skip) {
	if c.Recorder == nil {
		return
	}
	byKey := map[placer.Key]*v1alpha1.Decision{}
	for i := range decisions {
		byKey[keyOfDecision(&decisions[i])] = &decisions[i]
	}
	for _, s := range skips {
		if d := byKey[s.Workload]; d != nil && s.Job != "" {
			c.Recorder.Eventf(d, nil, corev1.EventTypeWarning, ReasonJobPodLeft, "Plan", "%s", s.String())
		}
	}
}
