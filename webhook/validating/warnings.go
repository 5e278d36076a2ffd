package validating

import (
	"context"
	"fmt"
	"sort"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// policyWarnings are the pure checks of a valid policy: each returns the
// admission warnings for one risky-but-valid combination, or none. Each is
// given the capacity split decider/capacity makes of the policy, so a
// warning describes what trimtab will actually do.
var policyWarnings = []func(workload, config.Policy, capacity.Split) []string{
	criticalAllSpot,
	baseCoversMax,
	baseCoversReplicas,
	scalingKeysOnBatchKinds,
	requestsKeysWithoutAuto, // requests_warnings.go
	pinnedNotInTemplate,
}

// criticalAllSpot warns when no pod of a critical workload runs on
// on-demand: one spot reclaim wave can take every pod at once.
func criticalAllSpot(w workload, p config.Policy, s capacity.Split) []string {
	if p.Class != config.ClassCritical || s.OnDemandBase > 0 || s.Rest != capacity.Spot {
		return nil
	}
	if p.Capacity == config.CapacitySpot {
		return []string{fmt.Sprintf(
			"%s: %q with %s: %q: a spot reclaim can stop every pod of this critical %s at once; consider %s: %q (on-demand base %d) or %q",
			config.AnnotationClass, p.Class, config.AnnotationCapacity, p.Capacity, w.gk.Kind,
			config.AnnotationCapacity, config.CapacityAuto, config.DefaultOnDemandBase(config.ClassCritical), config.CapacityOnDemand)}
	}
	return []string{fmt.Sprintf(
		"%s: \"0\" puts every pod of this critical %s on spot; the critical default is %d",
		config.AnnotationOnDemandBase, w.gk.Kind, config.DefaultOnDemandBase(config.ClassCritical))}
}

// baseCoversMax warns when an explicit on-demand base is at least the
// replica maximum: every pod runs on on-demand, which capacity: on-demand
// says more plainly.
func baseCoversMax(w workload, p config.Policy, s capacity.Split) []string {
	if _, set := w.annotations[config.AnnotationOnDemandBase]; !set || p.Capacity != config.CapacityAuto || p.MaxReplicas == 0 {
		return nil
	}
	if _, spot := s.Of(p.MaxReplicas); spot > 0 {
		return nil
	}
	return []string{fmt.Sprintf(
		"%s: %q is at least the replica maximum %d, so no pod will run on spot; if that is the intent, %s: %q says it directly",
		config.AnnotationOnDemandBase, fmt.Sprint(p.OnDemandBase), p.MaxReplicas, config.AnnotationCapacity, config.CapacityOnDemand)}
}

// baseCoversReplicas warns when an explicit on-demand base is at least a
// Deployment's or StatefulSet's spec.replicas: at its current size no pod
// runs on spot. baseCoversMax says it when the replica maximum is covered
// too, so this one keeps quiet then; it speaks with or without a replicas
// annotation, since spec.replicas is what runs until trimtab scales it.
func baseCoversReplicas(w workload, p config.Policy, s capacity.Split) []string {
	if _, set := w.annotations[config.AnnotationOnDemandBase]; !set || p.Capacity != config.CapacityAuto || !w.scalable || w.replicas < 1 {
		return nil
	}
	if p.MaxReplicas != 0 {
		if _, spot := s.Of(p.MaxReplicas); spot == 0 {
			return nil // baseCoversMax's case
		}
	}
	if _, spot := s.Of(w.replicas); spot > 0 {
		return nil
	}
	return []string{fmt.Sprintf(
		"%s: %q is at least spec.replicas %d, so at its current size no pod of this %s runs on spot; lower the base, or if that is the intent, %s: %q says it directly",
		config.AnnotationOnDemandBase, fmt.Sprint(p.OnDemandBase), w.replicas, w.gk.Kind, config.AnnotationCapacity, config.CapacityOnDemand)}
}

// scalingKeys are the annotations that steer replica counts; Jobs and
// CronJobs have none for trimtab to drive.
var scalingKeys = []string{
	config.AnnotationReplicas, config.AnnotationMetric, config.AnnotationTargetPerPod,
	config.AnnotationDownstream, config.AnnotationDownstreamMax,
}

// scalingKeysOnBatchKinds warns that replica annotations do nothing on a Job
// or CronJob: trimtab places and sizes their pods but does not scale them.
func scalingKeysOnBatchKinds(w workload, _ config.Policy, _ capacity.Split) []string {
	if w.scalable {
		return nil
	}
	var out []string
	for _, k := range scalingKeys {
		if _, ok := w.annotations[k]; ok {
			out = append(out, fmt.Sprintf(
				"%s has no effect on a %s: trimtab places and sizes its pods but does not scale it", k, w.gk.Kind))
		}
	}
	return out
}

// templateKeyWarnings warns about policy keys put on the pod template, where
// trimtab does not read them (it reads the workload's own annotations). The
// keys trimtab itself writes on pods are not mentioned.
func templateKeyWarnings(w workload) []string {
	if w.template == nil {
		return nil
	}
	var keys []string
	for k := range w.template.Annotations {
		if config.IsTrimtabKey(k) && !config.IsOutputKey(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf(
			"%s[%s] is ignored: trimtab reads policy from the %s's own metadata.annotations; move it there",
			w.templateAt, k, w.gk.Kind))
	}
	return out
}

// hpaWarnings warns when an HPA in the namespace already scales the workload
// while trimtab enforces: two controllers would fight over its replicas.
// In shadow mode running beside an HPA is the intended way to compare, so
// nothing is said. A failed lookup is a warning, never a rejection.
func hpaWarnings(ctx context.Context, r HPAReader, w workload, p config.Policy) []string {
	if p.Mode != config.ModeEnforce || !w.scalable || w.name == "" {
		return nil
	}
	var list autoscalingv2.HorizontalPodAutoscalerList
	if err := r.List(ctx, &list, client.InNamespace(w.namespace)); err != nil {
		return []string{fmt.Sprintf(
			"could not check whether a HorizontalPodAutoscaler already scales %s %s/%s (%v); two autoscalers on one workload fight over replicas",
			w.gk.Kind, w.namespace, w.name, err)}
	}
	var out []string
	for _, h := range list.Items {
		if targets(h.Spec.ScaleTargetRef, w) {
			out = append(out, fmt.Sprintf(
				"HorizontalPodAutoscaler %s/%s already scales this %s; with %s: %q both will set its replicas. Delete the HPA, or use %q to compare decisions first",
				h.Namespace, h.Name, w.gk.Kind, config.AnnotationMode, config.ModeEnforce, config.ModeShadow))
		}
	}
	return out
}

// targets reports whether ref points at w. An unparsable apiVersion is
// matched on kind and name alone, erring towards a warning.
func targets(ref autoscalingv2.CrossVersionObjectReference, w workload) bool {
	if ref.Kind != w.gk.Kind || ref.Name != w.name {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err != nil || gv.Group == w.gk.Group || (gv.Group == "extensions" && w.gk.Group == "apps")
}
