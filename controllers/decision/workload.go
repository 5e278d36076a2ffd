package decision

import (
	"context"
	"fmt"
	"time"

	"github.com/trimtab-dev/trimtab/controllers/internal/optin"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/replicas"
)

// workloadKey names a workload.
type workloadKey struct {
	Namespace, Kind, Name string
}

func (k workloadKey) String() string { return k.Namespace + "/" + k.Kind + "/" + k.Name }

// workload is one Deployment or StatefulSet as a sync sees it.
type workload struct {
	key workloadKey
	obj client.Object
	// policy and inputs are its parsed policy; policyErr is set instead
	// when the annotations are invalid (the validating webhook rejects
	// those, but a workload created while it was down can carry them).
	policy    config.Policy
	inputs    config.Inputs
	policyErr error
	// replicas is spec.replicas, ready status.readyReplicas.
	replicas, ready int32
	selector        labels.Selector
	// cpuRequest is one pod's CPU request in cores (0: none set), which
	// the CPU load is measured against.
	cpuRequest float64
}

// listWorkloads lists the Deployments and StatefulSets of opted-in
// namespaces, with their policies.
func (c *Controller) listWorkloads(ctx context.Context) ([]*workload, error) {
	listed, err := optin.List(ctx, c.Client, c.Settings, c.Namespaces)
	if err != nil {
		return nil, err
	}
	out := make([]*workload, 0, len(listed))
	for _, o := range listed {
		out = append(out, newWorkload(o.Object, o.Kind, o.Replicas, o.Ready, o.Selector, o.Template))
	}
	return out, nil
}

func newWorkload(obj client.Object, kind string, specReplicas *int32, ready int32, sel *metav1.LabelSelector, tpl *corev1.PodTemplateSpec) *workload {
	w := &workload{key: workloadKey{Namespace: obj.GetNamespace(), Kind: kind, Name: obj.GetName()}, obj: obj, ready: ready, replicas: 1}
	if specReplicas != nil {
		w.replicas = *specReplicas
	}
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && sel != nil {
		w.selector = s
	}
	var cpu resource.Quantity
	for _, ctr := range tpl.Spec.Containers {
		if q, ok := ctr.Resources.Requests[corev1.ResourceCPU]; ok {
			cpu.Add(q)
		}
	}
	w.cpuRequest = cpu.AsApproximateFloat64()
	p, errs := config.ParsePolicy(obj.GetAnnotations())
	if len(errs) > 0 {
		w.policyErr = fmt.Errorf("invalid trimtab policy: %w", errs.ToAggregate())
		return w
	}
	in, err := p.Inputs()
	if err != nil {
		w.policyErr = err
		return w
	}
	w.policy, w.inputs = p, in
	return w
}

// replicasConfig is the workload's replica configuration with the
// controller's timing and, for the CPU load, the per-pod capacity from the
// pods' CPU request.
func (w *workload) replicasConfig(t replicas.Timing) replicas.Config {
	cfg := w.inputs.Replicas
	cfg.SetTiming(t)
	if w.inputs.Load.CPU() {
		cfg.CapacityPerPod = w.cpuRequest
		cfg.LoadUnit = "cores"
	}
	return cfg
}

// listDecisions indexes the opted-in workloads' Decisions by the workload
// they are for.
func (c *Controller) listDecisions(ctx context.Context) (map[workloadKey]*v1alpha1.Decision, error) {
	var list v1alpha1.DecisionList
	if err := c.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing Decisions: %w", err)
	}
	out := make(map[workloadKey]*v1alpha1.Decision, len(list.Items))
	for i := range list.Items {
		d := &list.Items[i]
		out[workloadKey{Namespace: d.Namespace, Kind: d.Spec.WorkloadRef.Kind, Name: d.Spec.WorkloadRef.Name}] = d
	}
	return out, nil
}

// listHPAs finds, for each workload, an autoscaling/v2 HPA whose scale
// target is it.
func (c *Controller) listHPAs(ctx context.Context, ws []*workload) (map[workloadKey]*autoscalingv2.HorizontalPodAutoscaler, error) {
	out := map[workloadKey]*autoscalingv2.HorizontalPodAutoscaler{}
	seen := map[string]bool{}
	for _, w := range ws {
		if seen[w.key.Namespace] {
			continue
		}
		seen[w.key.Namespace] = true
		var list autoscalingv2.HorizontalPodAutoscalerList
		if err := c.Client.List(ctx, &list, client.InNamespace(w.key.Namespace)); err != nil {
			return nil, fmt.Errorf("listing HPAs in %s: %w", w.key.Namespace, err)
		}
		for i := range list.Items {
			h := &list.Items[i]
			ref := h.Spec.ScaleTargetRef
			gv, err := schema.ParseGroupVersion(ref.APIVersion)
			if err != nil || (gv.Group != "apps" && gv.Group != "extensions") {
				continue
			}
			out[workloadKey{Namespace: h.Namespace, Kind: ref.Kind, Name: ref.Name}] = h
		}
	}
	return out, nil
}

// tracked is the controller's memory of one workload between syncs.
type tracked struct {
	state *replicas.State
	// loadQuery is the load signal the state learned; a change of metric
	// starts the forecaster again (its units changed).
	loadQuery string
	// warm is set once the forecaster has its history: warm-started,
	// restored from a checkpoint, or found to have none.
	warm bool
	// desired is the last decided target; held while signals are missing.
	desired        int32
	haveTarget     bool
	lastWrite      time.Time
	lastCheckpoint time.Time
	shadow         *comparison
}

// forget drops the memory of workloads that are gone.
func (c *Controller) forget(ws []*workload) {
	live := make(map[workloadKey]bool, len(ws))
	for _, w := range ws {
		live[w.key] = true
	}
	for k := range c.tracked {
		if !live[k] {
			delete(c.tracked, k)
			forgetMetrics(k)
		}
	}
}
