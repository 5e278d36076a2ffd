package placement

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/placer"
)

// splitSeen is a workload's split as the controller last saw it on the
// Decision, and since when.
type splitSeen struct {
	split capacity.Split
	since time.Time
}

// splitSince is when the workload's Decision began showing split: the
// first round that saw it. After a restart that is the first round, so the
// settle time is waited for again — a delay, never an early eviction.
func (c *Controller) splitSince(k placer.Key, split capacity.Split, now time.Time) time.Time {
	if c.splits == nil {
		c.splits = map[placer.Key]splitSeen{}
	}
	seen, ok := c.splits[k]
	if ok && seen.split.OnDemandBase == split.OnDemandBase && seen.split.Rest == split.Rest && seen.split.RestRequired == split.RestRequired {
		return seen.since
	}
	c.splits[k] = splitSeen{split: split, since: now}
	return now
}

// publish hands each workload's outlook to the decision controller. Only
// workloads whose capacity may follow it (batch, capacity auto) get one.
// Failing prices hold: a workload whose markets have no fresh state this
// round (a refresh or the forecaster failed, a market not priced yet), or
// that could not be read this round (failed), keeps the outlook it had, so
// an off market stays off and its new pods keep going to on-demand; if it
// had none since the manager started, it is not known, and the decision
// controller holds its Decision's last capacity.
func (c *Controller) publish(ws []placer.Workload, failed map[placer.Key]bool) {
	if c.Outlooks == nil {
		return
	}
	m := map[placer.Key]capacity.Outlook{}
	known := map[placer.Key]bool{}
	carry := func(k placer.Key) {
		if o, off, ok := c.Outlooks.get(k); ok {
			known[k] = true
			if off {
				m[k] = o
			}
		}
	}
	for _, w := range ws {
		if w.PolicyErr != nil || !follows(w.Class, w.Inputs.Capacity) {
			continue
		}
		switch {
		case w.Outlook.OffSpot:
			m[w.Key], known[w.Key] = w.Outlook.Outlook, true
		case w.Outlook.Fresh():
			known[w.Key] = true
		default:
			carry(w.Key)
		}
	}
	for k := range failed {
		carry(k)
	}
	c.Outlooks.Set(m, known)
}

// recordOutlook writes the workload's outlook and the PricesFresh
// condition in the Decision's placement record when they change, so
// `kubectl get decision -o yaml` says which market holds it off spot, since
// when and until when at the earliest, and whether its prices are fresh.
// The executor carries both over on its own writes.
//
// Pods on spot nodes without a market (no instance-type or zone label)
// are named in the outlook's reason and the condition's message: no price
// is read for them, so "no market is predicted to spike" would mislead.
func (c *Controller) recordOutlook(ctx context.Context, d *v1alpha1.Decision, w *placer.Workload, infos map[string]*placer.NodeInfo, now time.Time) error {
	if c.Prices == nil || w.PolicyErr != nil || !follows(w.Class, w.Inputs.Capacity) {
		return nil
	}
	next := d.DeepCopy()
	if next.Status.Placement == nil {
		next.Status.Placement = &v1alpha1.PlacementStatus{}
	}
	p := next.Status.Placement
	o := w.Outlook
	out := &v1alpha1.OutlookStatus{OffSpot: o.OffSpot, Reason: o.Reason}
	for _, m := range o.Markets {
		out.Markets = append(out.Markets, m.InstanceType+"/"+m.Zone)
	}
	if !o.Since.IsZero() {
		out.Since = &metav1.Time{Time: o.Since}
	}
	if !o.EarliestBack.IsZero() {
		out.EarliestBack = &metav1.Time{Time: o.EarliestBack}
	}
	if !o.OffSpot {
		out.Reason = "spot preferred: no market its pods use is predicted to spike"
	}
	unpriced := strings.Join(placer.Unpriced(w.Pods, infos), "; ")
	if unpriced != "" {
		out.Reason = clip(out.Reason + "; " + unpriced)
	}
	p.Outlook = out
	cond := metav1.Condition{Type: v1alpha1.PricesFresh, Status: metav1.ConditionTrue, Reason: "PricesFresh",
		Message: "the spot prices of every market its pods may use are fresh", LastTransitionTime: metav1.NewTime(now)}
	if unpriced != "" {
		cond.Message = clip(cond.Message + ", but " + unpriced)
	}
	if !o.Fresh() {
		cond.Status, cond.Reason = metav1.ConditionFalse, "PricesStale"
		cond.Message = clip(fmt.Sprintf("holding, no price-driven move: %v", o.Unfresh))
	}
	meta.SetStatusCondition(&p.Conditions, cond)
	if c.Prices.Scores != nil {
		meta.SetStatusCondition(&p.Conditions, c.scoreCondition(w.Key, now))
	}
	if equality.Semantic.DeepEqual(d.Status.Placement, next.Status.Placement) {
		return nil
	}
	if err := c.Client.Status().Patch(ctx, next, client.MergeFrom(d)); err != nil {
		return fmt.Errorf("recording the outlook of %s: %w", w.Key, err)
	}
	*d = *next
	return nil
}

func clip(s string) string {
	if len(s) > 1000 {
		return s[:1000] + "…"
	}
	return s
}
