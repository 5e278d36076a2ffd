package requests

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/decider/requests"
)

// tracked is the controller's memory of one workload between syncs.
type tracked struct {
	// containers are the models of the template's containers that are not
	// pinned, by name.
	containers map[string]*model
	// warm is set once the history was read or the models restored; reads
	// then continue after fed, the newest step read.
	warm bool
	fed  time.Time
	// read says what the last usage read of this sync did: nil when it
	// succeeded, readErr when it failed; fedNow counts the samples fed.
	readErr        error
	read           bool
	fedNow         int
	lastUsage      time.Time
	lastWrite      time.Time
	lastCheckpoint time.Time
	// lastResize is the newest resize (or, in shadow mode, the one it
	// would ask), carried over from the status on first sight.
	lastResize *v1alpha1.ResizeRecord
	// lastResizeAt is when the workload last had a pod resized;
	// inflight are the resizes not settled yet; noted is the last
	// no-room or refusal said of a pod (one Event each); refused is the
	// change the apiserver refused for a pod, not asked again.
	lastResizeAt time.Time
	inflight     map[types.UID]inflight
	noted        map[types.UID]string
	refused      map[types.UID]string
	// announced is the target last announced in an Event, per container.
	announced map[string]requests.Resources
}

// model is one container's learned state.
type model struct {
	c *requests.Container
	// lastOOM is the newest OOM kill counted into c.
	lastOOM time.Time
	// rec is the last recommendation; have says there is one.
	rec  requests.Recommendation
	have bool
	// oomNow says an OOM kill was counted this sync; fedNow counts the
	// samples fed this sync.
	oomNow bool
	fedNow int
}

// track returns the workload's memory, creating it on first sight (from
// its DecisionCheckpoint when there is one), and keeps its models in step
// with the template: a container added gets a new model (and the workload
// a warm start, which feeds only it), one removed or pinned is forgotten.
func (c *Controller) track(ctx context.Context, w *workload, st *SyncStats) *tracked {
	t := c.tracked[w.key]
	if t == nil {
		t = &tracked{containers: map[string]*model{}, announced: map[string]requests.Resources{},
			inflight: map[types.UID]inflight{}, noted: map[types.UID]string{}, refused: map[types.UID]string{}}
		c.tracked[w.key] = t
		if c.restore(ctx, w, t) {
			st.Restored++
		}
		if w.decision.Status.Requests != nil {
			t.lastResize = w.decision.Status.Requests.LastResize
		}
	}
	want := map[string]bool{}
	for _, ctr := range w.template {
		if w.inputs.Requests.IsPinned(ctr.Name) {
			continue
		}
		want[ctr.Name] = true
		if t.containers[ctr.Name] == nil {
			m, err := requests.NewContainer(w.inputs.Requests.Config)
			if err != nil {
				logFor(ctx, w).Error(err, "creating a request model", "container", ctr.Name)
				continue
			}
			t.containers[ctr.Name] = &model{c: m}
			t.warm = false
		}
	}
	for name := range t.containers {
		if !want[name] {
			delete(t.containers, name)
		}
	}
	return t
}

// restore reads the workload's models from its checkpoint; it reports
// whether every container's came back (the workload is then warm).
func (c *Controller) restore(ctx context.Context, w *workload, t *tracked) bool {
	var cp v1alpha1.DecisionCheckpoint
	err := c.reader().Get(ctx, types.NamespacedName{Namespace: w.decision.Namespace, Name: w.decision.Name}, &cp)
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		logFor(ctx, w).Error(err, "reading the checkpoint; warm-starting instead")
		return false
	}
	if cp.Spec.Requests == nil {
		return false
	}
	all := true
	for _, ctr := range w.template {
		if w.inputs.Requests.IsPinned(ctr.Name) {
			continue
		}
		var saved *v1alpha1.ContainerCheckpoint
		for i := range cp.Spec.Requests.Containers {
			if cp.Spec.Requests.Containers[i].Name == ctr.Name {
				saved = &cp.Spec.Requests.Containers[i]
			}
		}
		if saved == nil {
			all = false
			continue
		}
		m, err := requests.RestoreContainer(w.inputs.Requests.Config, saved.Model)
		if err != nil {
			logFor(ctx, w).Error(err, "restoring a container's model; it warm-starts instead", "container", ctr.Name)
			all = false
			continue
		}
		restored := &model{c: m}
		if saved.LastOOM != nil {
			restored.lastOOM = saved.LastOOM.Time
		}
		t.containers[ctr.Name] = restored
		if _, last := m.Span(); last.After(t.fed) {
			t.fed = last
		}
	}
	if all && !t.fed.IsZero() {
		t.warm = true
	}
	logFor(ctx, w).Info("restored the request models", "savedAt", cp.Spec.Requests.SavedAt.Time, "containers", len(cp.Spec.Requests.Containers), "complete", all)
	return all
}

// forget drops the memory of workloads that are gone or no longer auto.
func (c *Controller) forget(ws []*workload) {
	live := make(map[workloadKey]bool, len(ws))
	for _, w := range ws {
		live[w.key] = true
	}
	for k := range c.tracked {
		if !live[k] {
			delete(c.tracked, k)
		}
	}
}
