package validating

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/config"
)

// Path is where the webhook server serves the validator for all four kinds.
// The ValidatingWebhookConfiguration sends Deployments, StatefulSets (group
// apps), Jobs and CronJobs (group batch), CREATE and UPDATE, here; it should
// select namespaces labelled config.NamespaceLabel=config.NamespaceLabelValue
// and may use failurePolicy Fail, since the webhook only denies bad policy.
const Path = "/validate-trimtab-dev-v1-workloads"

// Kinds are the group/kinds served at Path.
var Kinds = []schema.GroupKind{
	{Group: "apps", Kind: "Deployment"},
	{Group: "apps", Kind: "StatefulSet"},
	{Group: "batch", Kind: "Job"},
	{Group: "batch", Kind: "CronJob"},
}

// NewWebhook returns the admission webhook that validates all four kinds,
// each through controller-runtime's admission.WithValidator (its decoder,
// its CREATE/UPDATE/DELETE handling), dispatched on the request's kind.
// scheme must know apps/v1 and batch/v1; hpas may be nil.
func NewWebhook(scheme *runtime.Scheme, hpas HPAReader, s config.Settings) *admission.Webhook {
	byKind := map[schema.GroupKind]admission.Handler{
		Kinds[0]: admission.WithValidator(scheme, NewValidator[*appsv1.Deployment](hpas, s)).Handler,
		Kinds[1]: admission.WithValidator(scheme, NewValidator[*appsv1.StatefulSet](hpas, s)).Handler,
		Kinds[2]: admission.WithValidator(scheme, NewValidator[*batchv1.Job](hpas, s)).Handler,
		Kinds[3]: admission.WithValidator(scheme, NewValidator[*batchv1.CronJob](hpas, s)).Handler,
	}
	return &admission.Webhook{Handler: dispatcher(byKind)}
}

// dispatcher routes a request to the handler of its kind and turns every
// failure that is not a policy rejection into an admitted request.
type dispatcher map[schema.GroupKind]admission.Handler

// Handle implements admission.Handler.
func (d dispatcher) Handle(ctx context.Context, req admission.Request) admission.Response {
	gk := schema.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind}
	h, ok := d[gk]
	if !ok {
		return admission.Allowed(fmt.Sprintf("trimtab does not validate %s", gk))
	}
	resp := h.Handle(ctx, req)
	if !resp.Allowed && (resp.Result == nil || resp.Result.Reason != metav1.StatusReasonInvalid) {
		// Only a bad policy is a reason to refuse; here decoding failed.
		msg := ""
		if resp.Result != nil {
			msg = resp.Result.Message
		}
		return admission.Allowed("").WithWarnings(fmt.Sprintf(
			"trimtab could not read this %s, so its trimtab.dev annotations were not validated: %s", gk.Kind, msg))
	}
	return resp
}

// Register serves the validating webhook at Path on mgr's webhook server.
// HPAs are read through mgr's cache-backed client, so the manager needs RBAC
// to list and watch horizontalpodautoscalers.autoscaling; mgr's scheme must
// know apps/v1, batch/v1 and autoscaling/v2 (client-go's scheme does).
func Register(mgr ctrl.Manager, s config.Settings) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("registering the validating webhook: %w", err)
	}
	for _, obj := range []runtime.Object{
		&appsv1.Deployment{}, &appsv1.StatefulSet{}, &batchv1.Job{}, &batchv1.CronJob{},
		&autoscalingv2.HorizontalPodAutoscalerList{},
	} {
		if _, err := apiutil.GVKForObject(obj, mgr.GetScheme()); err != nil {
			return fmt.Errorf("registering the validating webhook: manager scheme: %w", err)
		}
	}
	mgr.GetWebhookServer().Register(Path, NewWebhook(mgr.GetScheme(), mgr.GetClient(), s))
	return nil
}
