package requests

import (
	"context"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
)

// FieldOwner is the requests controller's field manager: its server-side
// applies own spec.requests of a DecisionCheckpoint (and share savedAt and
// the owner reference with the replica controller's), so neither
// controller's save removes the other's part.
const FieldOwner = "trimtab-requests"

// MaxModelBytes is what a container's checkpoint may weigh.
const MaxModelBytes = 8 << 10

// checkpoint saves the workload's models when due, with one server-side
// apply of spec.requests of the Decision's DecisionCheckpoint (named and
// owned like the Decision; created if missing).
func (c *Controller) checkpoint(ctx context.Context, w *workload, t *tracked, now time.Time) (bool, error) {
	if !t.warm || len(t.containers) == 0 || now.Sub(t.lastCheckpoint) < c.CheckpointEvery {
		return false, nil
	}
	d := w.decision
	rc := &v1alpha1.RequestsCheckpoint{SavedAt: metav1.NewTime(now)}
	names := make([]string, 0, len(t.containers))
	for name := range t.containers {
		names = append(names, name)
	}
	sort.Strings(names)
	total := 0
	for _, name := range names {
		m := t.containers[name]
		data, err := m.c.MarshalBinary()
		if err != nil {
			return false, fmt.Errorf("encoding the model of container %s: %w", name, err)
		}
		if len(data) > MaxModelBytes {
			return false, fmt.Errorf("the model of container %s encodes to %d bytes, over the %d a checkpoint allows", name, len(data), MaxModelBytes)
		}
		cc := v1alpha1.ContainerCheckpoint{Name: name, Model: data}
		if !m.lastOOM.IsZero() {
			cc.LastOOM = &metav1.Time{Time: m.lastOOM}
		}
		rc.Containers = append(rc.Containers, cc)
		total += len(data)
	}
	cp := &v1alpha1.DecisionCheckpoint{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "DecisionCheckpoint"},
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, v1alpha1.GroupVersion.WithKind("Decision"))}},
		Spec: v1alpha1.DecisionCheckpointSpec{SavedAt: metav1.NewTime(now), Requests: rc},
	}
	//lint:ignore SA1019 server-side apply of a typed object; Client.Apply needs generated apply configurations for our CRDs
	if err := c.Client.Patch(ctx, cp, client.Apply, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("saving the checkpoint %s/%s: %w", cp.Namespace, cp.Name, err)
	}
	t.lastCheckpoint = now
	checkpointBytes.Observe(float64(total))
	return true, nil
}
