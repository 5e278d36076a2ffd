package decision

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/decider/replicas"
)

// track returns the workload's memory, creating it on first sight: from
// its DecisionCheckpoint when one exists and restores, otherwise fresh and
// waiting for a warm start.
func (c *Controller) track(ctx context.Context, w *workload, d *v1alpha1.Decision, st *SyncStats) *tracked {
	t := c.tracked[w.key]
	if t != nil && (w.policyErr != nil || t.loadQuery == w.inputs.Load.Query) {
		return t
	}
	t = &tracked{loadQuery: w.inputs.Load.Query}
	c.tracked[w.key] = t
	if w.policyErr != nil {
		return t
	}
	cfg := w.replicasConfig(c.Timing)
	if d != nil {
		if s, ok := c.restore(ctx, w, d, cfg); ok {
			t.state, t.warm = s, true
			st.Restored++
			return t
		}
	}
	s, err := replicas.NewState(cfg)
	if err != nil {
		logFor(ctx, w).Error(err, "creating the replica state")
		return t
	}
	t.state = s
	return t
}

// restore reads the workload's checkpoint; ok is false when there is none,
// it is for another load signal, or it does not restore (logged: the
// workload then warm-starts from Prometheus instead).
func (c *Controller) restore(ctx context.Context, w *workload, d *v1alpha1.Decision, cfg replicas.Config) (*replicas.State, bool) {
	var cp v1alpha1.DecisionCheckpoint
	// Read past the cache: checkpoints are large and read once per
	// workload, so the manager does not keep them all in memory.
	err := c.reader().Get(ctx, types.NamespacedName{Namespace: d.Namespace, Name: d.Name}, &cp)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		logFor(ctx, w).Error(err, "reading the checkpoint; warm-starting instead")
		return nil, false
	}
	if cp.Annotations[annotationLoadQuery] != w.inputs.Load.Query || len(cp.Spec.Replicas) == 0 {
		return nil, false
	}
	s, err := replicas.RestoreState(cfg, cp.Spec.Replicas)
	if err != nil {
		logFor(ctx, w).Error(err, "restoring the checkpoint; warm-starting instead", "savedAt", cp.Spec.SavedAt)
		return nil, false
	}
	logFor(ctx, w).Info("restored the decider's state", "savedAt", cp.Spec.SavedAt.Time, "bytes", len(cp.Spec.Replicas))
	return s, true
}

// annotationLoadQuery records on a checkpoint which load signal its
// forecaster learned, so a changed metric is never forecast from another's
// history.
const annotationLoadQuery = "trimtab.dev/load-query"

// checkpoint saves the workload's state when due: a DecisionCheckpoint
// named and owned like its Decision, written with one server-side apply
// (no read first, and it creates or overwrites alike).
func (c *Controller) checkpoint(ctx context.Context, w *workload, t *tracked, d *v1alpha1.Decision, now time.Time) (bool, error) {
	if t.state == nil || !t.warm || now.Sub(t.lastCheckpoint) < c.CheckpointEvery || !c.routineWrite() {
		return false, nil
	}
	data, err := t.state.MarshalBinary()
	if err != nil {
		return false, fmt.Errorf("encoding the checkpoint: %w", err)
	}
	cp := &v1alpha1.DecisionCheckpoint{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "DecisionCheckpoint"},
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name,
			Annotations:     map[string]string{annotationLoadQuery: t.loadQuery},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, v1alpha1.GroupVersion.WithKind("Decision"))}},
		Spec: v1alpha1.DecisionCheckpointSpec{SavedAt: metav1.NewTime(now), Replicas: data},
	}
	//lint:ignore SA1019 server-side apply of a typed object; Client.Apply needs generated apply configurations for our CRDs
	if err := c.Client.Patch(ctx, cp, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("saving the checkpoint %s/%s: %w", cp.Namespace, cp.Name, err)
	}
	t.lastCheckpoint = now
	checkpointBytes.Observe(float64(len(data)))
	return true, nil
}

// fieldOwner is trimtab's field manager for what the controller applies.
const fieldOwner = "trimtab-decision"
