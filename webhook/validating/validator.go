package validating

import (
	"context"
	"fmt"
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// Workload is the set of kinds the validator handles.
type Workload interface {
	*appsv1.Deployment | *appsv1.StatefulSet | *batchv1.Job | *batchv1.CronJob
	client.Object
}

// HPAReader lists HorizontalPodAutoscalers (autoscaling/v2) in a namespace.
// A manager's cache-backed client.Client satisfies it; the validator only
// ever calls List with an *autoscalingv2.HorizontalPodAutoscalerList and
// client.InNamespace.
type HPAReader interface {
	List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error
}

// DefaultHPATimeout bounds the HPA lookup, so a slow or unsynced cache turns
// into a warning well inside the webhook's timeout instead of a timeout.
const DefaultHPATimeout = 2 * time.Second

// Validator is an admission.Validator for one workload kind T.
type Validator[T Workload] struct {
	// HPAs finds HPAs that already scale the workload; nil skips that check.
	HPAs HPAReader
	// Settings supplies the excluded namespaces.
	Settings config.Settings
	// HPATimeout bounds the HPA lookup; 0 means DefaultHPATimeout.
	HPATimeout time.Duration
}

var _ admission.Validator[*appsv1.Deployment] = &Validator[*appsv1.Deployment]{}

// NewValidator returns a Validator for kind T.
func NewValidator[T Workload](hpas HPAReader, s config.Settings) *Validator[T] {
	return &Validator[T]{HPAs: hpas, Settings: s}
}

// ValidateCreate rejects obj when its trimtab annotations are invalid and
// warns about risky valid ones.
func (v *Validator[T]) ValidateCreate(ctx context.Context, obj T) (admission.Warnings, error) {
	return v.validate(ctx, obj, nil)
}

// ValidateUpdate is ValidateCreate for newObj, except that invalid
// annotations identical to oldObj's are admitted with a warning: an object
// stored before the webhook existed can still be scaled, restarted or
// deleted.
func (v *Validator[T]) ValidateUpdate(ctx context.Context, oldObj, newObj T) (admission.Warnings, error) {
	old := trimtabAnnotations(oldObj.GetAnnotations())
	return v.validate(ctx, newObj, old)
}

// ValidateDelete admits every deletion.
func (v *Validator[T]) ValidateDelete(context.Context, T) (admission.Warnings, error) {
	return nil, nil
}

// validate checks obj; old is the previous object's trimtab annotations on
// UPDATE and nil on CREATE.
func (v *Validator[T]) validate(ctx context.Context, obj T, old map[string]string) (admission.Warnings, error) {
	if v.Settings.Excluded(obj.GetNamespace()) {
		return nil, nil
	}
	w := workloadOf(obj)
	warnings := templateKeyWarnings(w)
	policy, errs := config.ParsePolicy(obj.GetAnnotations())
	errs = append(errs, expressionErrors(obj.GetAnnotations(), errs)...)
	if len(errs) > 0 {
		if old != nil && maps.Equal(old, trimtabAnnotations(obj.GetAnnotations())) {
			return append(warnings, fmt.Sprintf(
				"trimtab ignores this %s until its trimtab.dev annotations are fixed (they were already invalid, so the update is allowed): %v",
				w.gk.Kind, errs.ToAggregate())), nil
		}
		return warnings, apierrors.NewInvalid(w.gk, w.name, errs)
	}
	if split, err := policySplit(policy); err != nil {
		// A policy that parsed always converts; never block a workload on
		// a bug here.
		warnings = append(warnings, fmt.Sprintf("trimtab could not evaluate this policy's capacity split: %v", err))
	} else {
		for _, check := range policyWarnings {
			warnings = append(warnings, check(w, policy, split)...)
		}
	}
	if v.HPAs != nil {
		timeout := v.HPATimeout
		if timeout == 0 {
			timeout = DefaultHPATimeout
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		warnings = append(warnings, hpaWarnings(ctx, v.HPAs, w, policy)...)
	}
	return warnings, nil
}

// workload is what the checks need to know about any of the four kinds.
type workload struct {
	gk          schema.GroupKind
	namespace   string
	name        string // metadata.name, or generateName on a CREATE without a name
	annotations map[string]string
	template    *corev1.PodTemplateSpec // nil if the kind has none
	templateAt  string                  // field path of template's annotations, for messages
	scalable    bool                    // has a scale subresource trimtab drives
	replicas    int32                   // spec.replicas of a scalable kind (unset: 1, the API default)
}

// workloadOf extracts the checks' view of obj.
func workloadOf(obj client.Object) workload {
	w := workload{namespace: obj.GetNamespace(), name: obj.GetName(), annotations: obj.GetAnnotations()}
	if w.name == "" {
		w.name = obj.GetGenerateName()
	}
	w.templateAt = "spec.template.metadata.annotations"
	switch o := obj.(type) {
	case *appsv1.Deployment:
		w.gk, w.template, w.scalable = schema.GroupKind{Group: "apps", Kind: "Deployment"}, &o.Spec.Template, true
		w.replicas = ptr.Deref(o.Spec.Replicas, 1)
	case *appsv1.StatefulSet:
		w.gk, w.template, w.scalable = schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, &o.Spec.Template, true
		w.replicas = ptr.Deref(o.Spec.Replicas, 1)
	case *batchv1.Job:
		w.gk, w.template = schema.GroupKind{Group: "batch", Kind: "Job"}, &o.Spec.Template
	case *batchv1.CronJob:
		w.gk, w.template = schema.GroupKind{Group: "batch", Kind: "CronJob"}, &o.Spec.JobTemplate.Spec.Template
		w.templateAt = "spec.jobTemplate.spec.template.metadata.annotations"
	}
	return w
}

// trimtabAnnotations returns the trimtab-looking keys of a, the part of an
// object that validation ratcheting compares.
func trimtabAnnotations(a map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if config.IsTrimtabKey(k) {
			out[k] = v
		}
	}
	return out
}

// policySplit is the capacity split decider/capacity makes of a valid
// policy with no price outlook: what the webhook will stamp on its pods.
func policySplit(p config.Policy) (capacity.Split, error) {
	in, err := p.Inputs()
	if err != nil {
		return capacity.Split{}, err
	}
	return capacity.Decide(in.Capacity, capacity.Outlook{})
}
