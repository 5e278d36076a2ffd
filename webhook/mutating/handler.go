package mutating

import (
	"context"
	"fmt"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
)

// Path is where the webhook server serves the pod mutator.
const Path = "/mutate-v1-pod"

// LabelPlacement marks every pod trimtab placed with the chosen capacity type,
// so `kubectl get pods -l trimtab.dev/placement=spot` finds them and the
// manager caches only these pods.
const LabelPlacement = config.Prefix + "placement"

// Handler is the pod mutator. It never denies: every path through Handle
// returns an allowed response, with a patch when the pod changed.
type Handler struct {
	Settings config.Settings
	Resolver WorkloadResolver
	// Splits gives each workload's capacity split; nil derives it from the
	// policy alone (PolicySplits).
	Splits SplitSource
	Ledger *Ledger
	Events *EventQueue // optional: sums up the decisions in Events on the workload
	Clock  clock.PassiveClock

	// Requests feeds the learned-requests step (requests.go); nil skips it.
	Requests RequestsSource
	memo     stampMemo
}

// WorkloadResolver finds the workload that controls a pod; ok is false for
// a pod no supported workload controls. Resolver is the manager's.
type WorkloadResolver interface {
	Resolve(ctx context.Context, pod *corev1.Pod) (w Workload, ok bool, err error)
}

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := h.Clock.Now()
	resp, outcome, placement := h.handle(ctx, req)
	admissionsTotal.WithLabelValues(outcome, string(placement)).Inc()
	admissionDuration.WithLabelValues(outcome).Observe(h.Clock.Since(start).Seconds())
	return resp
}

func (h *Handler) handle(ctx context.Context, req admission.Request) (admission.Response, string, capacity.Type) {
	log := logf.FromContext(ctx).WithValues("namespace", req.Namespace, "admission", req.UID)
	if req.Operation != admissionv1.Create || req.Kind.Kind != "Pod" || h.Settings.Excluded(req.Namespace) {
		return admission.Allowed("not a pod create in an opted-in namespace"), outcomeExcluded, ""
	}
	pod, hasMetadata, hasSpec, containers, err := decodeAdmitted(req.Object.Raw)
	if err != nil {
		log.Error(err, "admitting the pod unchanged")
		return admission.Allowed("trimtab could not decode the pod"), outcomeError, ""
	}
	pod.Namespace = req.Namespace // empty in the object for generated names
	orig := snapshot(pod)
	w, ok, err := h.Resolver.Resolve(ctx, pod)
	if err != nil {
		log.Error(err, "resolving the pod's workload; admitting it unchanged")
		return admission.Allowed("trimtab could not resolve the pod's workload"), outcomeError, ""
	}
	if !ok {
		return admission.Allowed("no Deployment, StatefulSet, Job or CronJob controls this pod"), outcomeNoWorkload, ""
	}
	log = log.WithValues("workload", w.String())
	policy, errs := config.ParsePolicy(w.Annotations)
	if len(errs) > 0 {
		// The validating webhook rejects such workloads; one created while it
		// was down still gets its pods, unchanged.
		log.Info("workload policy is invalid; admitting the pod unchanged", "errors", errs.ToAggregate().Error())
		return admission.Allowed("the workload's trimtab policy is invalid"), outcomeInvalidPolicy, ""
	}

	d, outcome, err := h.decide(ctx, req, pod, w, policy)
	if err != nil {
		log.Error(err, "deciding placement; admitting the pod unchanged")
		return admission.Allowed("trimtab could not decide"), outcomeError, ""
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	// Learned requests (requests.go): stamped in enforce mode, described
	// in shadow mode, independent of the placement.
	var requestOps []jsonpatch.JsonPatchOperation
	if h.Requests != nil {
		requestOps = h.requestsStep(ctx, containers, pod, w, policy, &d)
	}
	written, err := d.annotate(pod.Annotations, annotationLimit)
	if err != nil {
		log.Error(err, "annotating; admitting the pod unchanged")
		return admission.Allowed("trimtab could not annotate"), outcomeError, ""
	}
	if len(written) < 2 {
		log.Info("the pod's annotations are near the apiserver's limit; wrote only these decision annotations", "written", written)
	}
	if d.Placement != "" {
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		pod.Labels[LabelPlacement] = string(d.Placement)
	}
	if h.Events != nil && !isDryRun(req) {
		h.Events.Expect(d)
	}
	if log := log.V(1); log.Enabled() { // d.String() is not free: build it only when logged
		log.Info("decided", "decision", d.String())
	}
	return admission.Patched("", append(patchOps(orig, pod, hasMetadata, hasSpec), requestOps...)...), outcome, d.Placement
}

// decide chooses the pod's placement and, in enforce mode, runs the mutation
// steps on pod.
func (h *Handler) decide(ctx context.Context, req admission.Request, pod *corev1.Pod, w Workload, p config.Policy) (PodDecision, string, error) {
	base := PodDecision{AdmissionID: string(req.UID), Workload: w.String(), Mode: p.Mode}
	if pinned := userPinned(pod, h.Settings.CapacityTypeLabel); pinned != "" {
		base.Reason = "placement left to the user"
		base.Kept = []string{pinned}
		return base, outcomeUserPinned, nil
	}
	in, err := p.Inputs()
	if err != nil {
		return PodDecision{}, "", err
	}
	splits := h.Splits
	if splits == nil {
		splits = PolicySplits{}
	}
	split, err := splits.Split(ctx, w, in)
	if err != nil {
		return PodDecision{}, "", fmt.Errorf("capacity split of %s: %w", w, err)
	}
	var pl capacity.Placement
	switch {
	case w.Ordinal != nil:
		// A StatefulSet's base is its lowest ordinals: no count needed.
		pl = split.PlaceOrdinal(*w.Ordinal)
	case isDryRun(req):
		// A dry run must not take a slot from a real pod.
		pl = split.Place(capacity.Counts{})
	default:
		rev := Revision{Namespace: w.Key.Namespace, UID: w.Revision}
		if pl, err = h.Ledger.Place(ctx, rev, string(req.UID), split); err != nil {
			return PodDecision{}, "", err
		}
	}
	d := base
	d.Placement, d.Required, d.Base, d.Reason = pl.Type, pl.Required, pl.Base, pl.Reason
	if p.Mode == config.ModeShadow {
		return d, outcomeShadow, nil
	}
	for _, s := range steps {
		s(pod, &d, h.Settings)
	}
	return d, outcomePlaced, nil
}

func isDryRun(req admission.Request) bool { return req.DryRun != nil && *req.DryRun }

var _ admission.Handler = (*Handler)(nil)
