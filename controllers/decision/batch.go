package decision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/controllers/internal/optin"
)

// Jobs and CronJobs get a Decision too, for its capacity alone: the split
// the webhook stamps on their new pods, following the placer's outlook for
// a batch workload with capacity auto exactly as a Deployment's does, and
// its reason. trimtab does not scale them (a Job's parallelism is its
// owner's; the validating webhook warns that replica annotations do
// nothing there), so their Decisions have no replica target, forecast,
// signals or checkpoint. A CronJob's Jobs share the CronJob's Decision, as
// the webhook resolves their pods to it. The Decision is owned by the Job
// or CronJob and collected with it.

// syncBatch makes and keeps the Decisions of the opted-in Jobs and
// CronJobs. Their status is written only when it changes: nothing in it
// ages.
func (c *Controller) syncBatch(ctx context.Context, decisions map[workloadKey]*v1alpha1.Decision, now time.Time, st *SyncStats) error {
	listed, err := optin.Batch(ctx, c.Client, c.Settings, c.Namespaces)
	if err != nil {
		return err
	}
	st.Workloads += len(listed)
	var errs []error
	for _, o := range listed {
		w := newWorkload(o.Object, o.Kind, o.Replicas, o.Ready, o.Selector, o.Template)
		if err := c.syncBatchWorkload(ctx, w, decisions[w.key], now, st); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.key, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) syncBatchWorkload(ctx context.Context, w *workload, d *v1alpha1.Decision, now time.Time, st *SyncStats) error {
	if d == nil {
		var err error
		if d, err = c.createDecision(ctx, w); err != nil {
			return err
		}
		st.Creates++
	}
	old := d.Status.DeepCopy()
	next := c.decideBatch(w, old, now)
	c.recordTransitions(d, w, old, &next)
	if material(old) == material(&next) {
		return nil
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Status = next
	if err := c.Client.Status().Patch(ctx, d, patch); err != nil {
		return fmt.Errorf("writing the Decision's status: %w", err)
	}
	st.StatusWrites++
	return nil
}

// decideBatch is a Job's or CronJob's next status: its mode, its capacity
// split and why, and ScalingActive=False saying trimtab does not scale it.
// The placer's and the requests controller's parts are carried over.
func (c *Controller) decideBatch(w *workload, old *v1alpha1.DecisionStatus, now time.Time) v1alpha1.DecisionStatus {
	next := v1alpha1.DecisionStatus{
		Mode:       v1alpha1.Mode(w.policy.Mode),
		Conditions: append([]metav1.Condition(nil), old.Conditions...),
		Requests:   old.Requests,
		Placement:  old.Placement,
	}
	set := func(reason, msg string) {
		meta.SetStatusCondition(&next.Conditions, metav1.Condition{Type: v1alpha1.ScalingActive, Status: metav1.ConditionFalse,
			Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(now)})
	}
	if w.policyErr != nil {
		next.Mode = ""
		next.Summary = "holding: invalid policy"
		set("InvalidPolicy", clip(w.policyErr.Error()))
		return next
	}
	split, err := c.capacitySplit(w)
	if err != nil {
		next.Summary = "holding: cannot decide the capacity"
		set("InvalidPolicy", clip(err.Error()))
		return next
	}
	next.Capacity = &v1alpha1.CapacityStatus{OnDemandBase: split.OnDemandBase, Rest: string(split.Rest), RestRequired: split.RestRequired, Reason: split.Reason}
	// The placer's outlook is not known yet after a start: hold (as decide does).
	if old.Capacity != nil && c.outlookPending(w) {
		held := *old.Capacity
		next.Capacity = &held
	}
	next.Summary = fmt.Sprintf("capacity only: new pods %s", next.Capacity.Rest)
	set("BatchWorkload", fmt.Sprintf("trimtab does not scale a %s (its parallelism is its owner's); this Decision carries the capacity its new pods get", w.key.Kind))
	return next
}
