package decision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// The base is kept, not only stamped (issue 17): the webhook places each pod
// as it is created, but pods admitted while trimtab was down, or a race the
// webhook lost, leave a workload off its split, and the webhook, which only
// sees pods being created, cannot see it. Each sync measures it here
// (capacity.Split.Drift on a census of the pods) and reports it in
// status.capacity.drift, with a BaseDrift Warning Event on the workload when
// it appears. Mending it by moving pods is the placer's job.

// labelPlacement is the label the mutating webhook stamps on each pod it
// places, with the capacity type (webhook/mutating.LabelPlacement; not
// imported, so this package does not depend on the webhook's).
const labelPlacement = config.Prefix + "placement"

// ReasonBaseDrift is the reason of the Warning Event on a workload whose
// pods have drifted off its capacity split.
const ReasonBaseDrift = "BaseDrift"

// census counts the pods of w that count toward its base: those of its
// current revision (a Deployment's newest ReplicaSet; every pod of a
// StatefulSet, whose base is its lowest ordinals). Pods is what the
// workload's controller reports; Placed counts the live ones carrying the
// placement label (the manager's pod cache holds only those). settled is
// false while the workload rolls out or scales, when a drift would only
// measure the rollout.
func (c *Controller) census(ctx context.Context, w *workload) (cs capacity.Census, settled bool, err error) {
	var owner types.UID
	switch o := w.obj.(type) {
	case *appsv1.Deployment:
		st := o.Status
		settled = st.ObservedGeneration >= o.Generation && st.UpdatedReplicas == st.Replicas && st.Replicas == w.replicas
		cs.Pods = int(st.UpdatedReplicas)
		rs, err := c.newestReplicaSet(ctx, o, w)
		if err != nil || rs == nil {
			return cs, settled, err
		}
		owner = rs.UID
	case *appsv1.StatefulSet:
		st := o.Status
		settled = st.ObservedGeneration >= o.Generation && st.Replicas == w.replicas
		cs.Pods = int(st.Replicas)
		owner = o.UID
	default:
		return cs, false, nil
	}
	if w.selector == nil {
		return cs, settled, nil
	}
	var pods corev1.PodList
	if err := c.Client.List(ctx, &pods, client.InNamespace(w.key.Namespace), client.MatchingLabelsSelector{Selector: w.selector}); err != nil {
		return cs, false, fmt.Errorf("listing the pods of %s: %w", w.key, err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.UID != owner || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		cs.Placed.Add(capacity.Type(p.Labels[labelPlacement]))
	}
	return cs, settled, nil
}

// newestReplicaSet is the Deployment's ReplicaSet of the highest revision,
// the one its new pods come from; nil if it has none yet.
func (c *Controller) newestReplicaSet(ctx context.Context, d *appsv1.Deployment, w *workload) (*appsv1.ReplicaSet, error) {
	if w.selector == nil {
		return nil, nil
	}
	// A Deployment's ReplicaSets carry its pod template's labels, which
	// its selector matches: the selector keeps the list to its own.
	var list appsv1.ReplicaSetList
	if err := c.Client.List(ctx, &list, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: w.selector}); err != nil {
		return nil, fmt.Errorf("listing the ReplicaSets of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	var newest *appsv1.ReplicaSet
	newestRev := int64(-1)
	for i := range list.Items {
		rs := &list.Items[i]
		if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID {
			continue
		}
		rev, err := strconv.ParseInt(rs.Annotations["deployment.kubernetes.io/revision"], 10, 64)
		if err != nil {
			rev = 0
		}
		if rev > newestRev {
			newest, newestRev = rs, rev
		}
	}
	return newest, nil
}

// driftStatus is d as status.capacity.drift shows it.
func driftStatus(d capacity.Drift) *v1alpha1.CapacityDrift {
	return &v1alpha1.CapacityDrift{
		Pods: int32(d.Pods), OnDemand: int32(d.OnDemand), Spot: int32(d.Spot), Unplaced: int32(d.Unplaced),
		WantOnDemand: int32(d.WantOnDemand), Short: int32(d.Short), Over: int32(d.Over), Message: d.String(),
	}
}

// measureDrift sets next.Capacity.Drift for an enforce-mode workload that
// has settled, and records a BaseDrift Warning on the workload when a drift
// appears. An error listing the pods leaves the last drift in
// place: it is reported, not acted on, so a stale one is no harm.
func (c *Controller) measureDrift(ctx context.Context, w *workload, old, next *v1alpha1.DecisionStatus) {
	if next.Capacity == nil || w.policy.Mode != config.ModeEnforce {
		return
	}
	split, err := c.capacitySplit(w)
	if err != nil {
		return
	}
	cs, settled, err := c.census(ctx, w)
	if err != nil {
		logFor(ctx, w).Error(err, "measuring the capacity drift; keeping the last")
		if old.Capacity != nil {
			next.Capacity.Drift = old.Capacity.Drift
		}
		return
	}
	if !settled {
		return
	}
	d := split.Drift(cs)
	next.Capacity.Drift = driftStatus(d)
	baseDrift.WithLabelValues(w.key.Namespace, w.key.Kind, w.key.Name).Set(float64(d.Short + d.Over + d.Unplaced))
	// Only when it appears: a later Event with the same regarding object,
	// reason and action would be folded by the events library into the
	// first one's series, message and all, and the status has the
	// current one.
	wasNone := old.Capacity == nil || old.Capacity.Drift == nil || old.Capacity.Drift.Message == "none"
	if !d.None() && wasNone {
		c.event(w.obj, corev1.EventTypeWarning, ReasonBaseDrift, "Measure", "%s %s: %d pods, %d on-demand and %d spot placed by trimtab, want %d on-demand: %s",
			w.key.Kind, w.key.Name, d.Pods, d.OnDemand, d.Spot, d.WantOnDemand, d.String())
	}
}

// baseDrift is the drift as a metric: the pods off the split (short,
// over, unplaced) per workload.
var baseDrift = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "trimtab_base_drift_pods",
	Help: "Pods of a workload's current revision off its capacity split: on-demand placements short of or over the base, plus pods trimtab did not place (admitted while it was down).",
}, workloadLabels)

func init() { metrics.Registry.MustRegister(baseDrift) }
