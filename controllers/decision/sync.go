package decision

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
)

// syncWorkload decides one workload and applies what changed: its Decision
// (created on first sight), its scale in enforce mode, its checkpoint.
func (c *Controller) syncWorkload(ctx context.Context, w *workload, d *v1alpha1.Decision, h *autoscalingv2.HorizontalPodAutoscaler, s *signalsOf, now time.Time, st *SyncStats) error {
	t := c.tracked[w.key]
	if d == nil {
		var err error
		if d, err = c.createDecision(ctx, w); err != nil {
			return err
		}
		st.Creates++
	}
	old := d.Status.DeepCopy()
	next := c.decide(w, t, h, s, now, old)
	c.measureDrift(ctx, w, old, &next) // drift.go: the base kept, not only stamped
	if next.Replicas != nil && next.Summary != "" {
		st.Decided++
	} else {
		st.Held++
	}

	if err := c.enforce(ctx, w, d, h, t, &next, now, st); err != nil {
		return err
	}
	c.recordTransitions(d, w, old, &next)
	desiredReplicas.WithLabelValues(w.key.Namespace, w.key.Kind, w.key.Name).Set(float64(next.DesiredReplicas))

	// status.placement is the placer's (controllers/placement/executor): carried over so
	// the merge patch below never touches it.
	next.Placement = old.Placement
	if c.statusDue(old, &next, t, now) {
		patch := client.MergeFrom(d.DeepCopy())
		d.Status = next
		if err := c.Client.Status().Patch(ctx, d, patch); err != nil {
			return fmt.Errorf("writing the Decision's status: %w", err)
		}
		t.lastWrite = now
		st.StatusWrites++
	}
	if ok, err := c.checkpoint(ctx, w, t, d, now); err != nil {
		logFor(ctx, w).Error(err, "checkpoint not saved; retrying next sync")
	} else if ok {
		st.Checkpoints++
	}
	return nil
}

// decide computes the workload's next status: the decider's target on
// fresh signals, or the last target held when they are missing.
func (c *Controller) decide(w *workload, t *tracked, h *autoscalingv2.HorizontalPodAutoscaler, s *signalsOf, now time.Time, old *v1alpha1.DecisionStatus) v1alpha1.DecisionStatus {
	next := v1alpha1.DecisionStatus{
		Mode:            v1alpha1.Mode(w.policy.Mode),
		CurrentReplicas: w.replicas,
		DesiredReplicas: w.replicas,
		LastSignalTime:  old.LastSignalTime,
		LastScaleTime:   old.LastScaleTime,
		HPA:             old.HPA,
		Conditions:      append([]metav1.Condition(nil), old.Conditions...),
		// The requests controller's part (controllers/requests), carried
		// over so this controller's merge patch never touches it.
		Requests: old.Requests,
	}
	set := func(typ string, ok bool, reason, msg string) {
		st := metav1.ConditionFalse
		if ok {
			st = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&next.Conditions, metav1.Condition{Type: typ, Status: st, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(now)})
	}
	if w.policyErr != nil {
		next.Mode = ""
		next.Summary = "holding: invalid policy"
		set(v1alpha1.ScalingActive, false, "InvalidPolicy", clip(w.policyErr.Error()))
		return next
	}
	if split, err := c.capacitySplit(w); err == nil {
		next.Capacity = &v1alpha1.CapacityStatus{OnDemandBase: split.OnDemandBase, Rest: string(split.Rest), RestRequired: split.RestRequired, Reason: split.Reason}
	}
	// The placer's outlook is not known yet after a start: hold (issue 16).
	if old.Capacity != nil && c.outlookPending(w) {
		held := *old.Capacity
		next.Capacity = &held
	}
	if t.haveTarget {
		next.DesiredReplicas = t.desired
	}
	if s.loadErr != nil {
		reason := signalReason(s.loadErr)
		next.Summary = fmt.Sprintf("holding %d: %s", next.DesiredReplicas, strings.ToLower(splitCamel(reason)))
		set(v1alpha1.SignalsFresh, false, reason, clip(s.loadErr.Error()))
		set(v1alpha1.ScalingActive, false, "FailedGetMetric", "holding the last decision until the signals return: "+clip(s.loadErr.Error()))
		next.Replicas = old.Replicas
		next.Forecast = old.Forecast
		return next
	}
	next.LastSignalTime = ptr.To(metav1.NewTime(now))
	set(v1alpha1.SignalsFresh, true, "SignalsRead", "read at "+now.UTC().Format(time.RFC3339))

	cfg := w.replicasConfig(c.Timing)
	if t.warm {
		t.state.Observe(now, s.load)
	}
	in := decideInputs(w, s, now)
	if !w.inputs.Enforce && t.haveTarget && !w.inputs.Load.CPU() {
		// Shadow mode decides as if it had been in control: from its own
		// last target, so its rate limits and stabilization follow its own
		// trajectory and the comparison with an HPA is fair. (The CPU path
		// measures utilization on the pods that run, so it decides from
		// them.)
		in.CurrentReplicas = t.desired
	}
	target, err := replicas.Decide(cfg, t.state, in)
	if err != nil {
		next.Summary = "holding: cannot decide"
		set(v1alpha1.ScalingActive, false, "InvalidMetricSource", clip(err.Error()))
		return next
	}
	t.desired, t.haveTarget = target.Replicas, true
	next.DesiredReplicas = target.Replicas
	next.Replicas, next.Forecast, next.Summary = targetStatus(target, cfg)
	set(v1alpha1.ScalingActive, true, "ValidMetricFound", "the replica target is computed from "+loadName(w))
	switch {
	case target.Guarded:
		set(v1alpha1.ScalingLimited, true, "GuardBlocked", clip(target.Guard))
	case target.Limit != hpa.WithinRange:
		set(v1alpha1.ScalingLimited, true, string(target.Limit), limitMessage(target))
	default:
		set(v1alpha1.ScalingLimited, false, string(hpa.WithinRange), "the desired count is within the acceptable range")
	}
	if h != nil {
		next.HPA = c.compare(w, t, h, s.load, cfg, target.Replicas, now)
	} else {
		next.HPA, t.shadow = nil, nil
	}
	return next
}

// decideInputs is one cycle's inputs to the decider: the replica counts,
// the reactive metric the HPA would read, and the guarded signal.
func decideInputs(w *workload, s *signalsOf, now time.Time) replicas.Inputs {
	in := replicas.Inputs{Now: now, CurrentReplicas: w.replicas, ReadyReplicas: w.ready, Downstream: s.downstream, Options: hpa.DefaultOptions}
	if w.inputs.Load.CPU() {
		in.Metrics = []replicas.Metric{{Name: "cpu", Kind: replicas.Utilization, Pods: s.pods,
			TargetUtilization: int32(math.Round(w.inputs.Replicas.TargetUtilization * 100))}}
		return in
	}
	in.Options.CPU = false
	in.Metrics = []replicas.Metric{{Name: "metric", Kind: replicas.TotalAverage,
		Total: int64(math.Round(s.load * 1000)), TargetAverage: int64(math.Round(w.policy.TargetPerPod * 1000))}}
	return in
}

// enforce scales the workload to the decided count in enforce mode,
// unless an HPA scales it; it records why not on the conditions.
func (c *Controller) enforce(ctx context.Context, w *workload, d *v1alpha1.Decision, h *autoscalingv2.HorizontalPodAutoscaler, t *tracked, next *v1alpha1.DecisionStatus, now time.Time, st *SyncStats) error {
	set := func(ok bool, reason, msg string) {
		s := metav1.ConditionFalse
		if ok {
			s = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&next.Conditions, metav1.Condition{Type: v1alpha1.AbleToScale, Status: s, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(now)})
	}
	switch {
	case w.policyErr != nil:
		return nil
	case !w.inputs.Enforce:
		set(true, "ShadowMode", "shadow mode: trimtab records its decisions and does not scale; set trimtab.dev/mode: enforce to let it")
		return nil
	case h != nil:
		set(false, "HPAConflict", fmt.Sprintf("HorizontalPodAutoscaler %s scales this %s; trimtab will not fight it: delete the HPA, or use trimtab.dev/mode: shadow to compare", h.Name, w.key.Kind))
		return nil
	case !t.haveTarget || next.DesiredReplicas == w.replicas:
		set(true, "ReadyForNewScale", "recommended size matches current size")
		return nil
	}
	from, to := w.replicas, next.DesiredReplicas
	scale := &autoscalingv1.Scale{}
	err := c.Client.SubResource("scale").Get(ctx, w.obj, scale)
	if err == nil {
		scale.Spec.Replicas = to
		err = c.Client.SubResource("scale").Update(ctx, w.obj, client.WithSubResourceBody(scale))
	}
	if err != nil {
		set(false, "FailedUpdateScale", clip(err.Error()))
		c.event(d, corev1.EventTypeWarning, "FailedRescale", "Scale", "scaling %s from %d to %d: %v", w.key.Kind, from, to, err)
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil // the workload changed or went away: next sync sees it
		}
		return fmt.Errorf("scaling from %d to %d: %w", from, to, err)
	}
	set(true, "SucceededRescale", fmt.Sprintf("scaled from %d to %d", from, to))
	next.CurrentReplicas = to
	next.LastScaleTime = ptr.To(metav1.NewTime(now))
	direction := "up"
	if to < from {
		direction = "down"
	}
	scaleActions.WithLabelValues(direction).Inc()
	st.Scales++
	msg := fmt.Sprintf("scaled from %d to %d: %s", from, to, next.Summary)
	c.event(d, corev1.EventTypeNormal, "Scaled", "Scale", "%s", msg)
	c.event(w.obj, corev1.EventTypeNormal, "TrimtabScaled", "Scale", "%s", msg)
	return nil
}

// createDecision creates the workload's Decision, owned by the workload so
// it is deleted with it. It is named after the workload; when a workload of
// the other kind has that name already, after the workload and its kind.
func (c *Controller) createDecision(ctx context.Context, w *workload) (*v1alpha1.Decision, error) {
	gvk := w.obj.GetObjectKind().GroupVersionKind()
	if gvk.Empty() {
		gvk = appsGVK(w.key.Kind)
	}
	for _, name := range []string{w.key.Name, w.key.Name + "-" + strings.ToLower(w.key.Kind)} {
		d := &v1alpha1.Decision{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.key.Namespace, Name: name,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: w.obj.GetName(), UID: w.obj.GetUID()}}},
			Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{APIVersion: gvk.GroupVersion().String(), Kind: w.key.Kind, Name: w.key.Name}},
		}
		err := c.Client.Create(ctx, d)
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating its Decision: %w", err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("creating its Decision: %s and %s-%s are taken", w.key.Name, w.key.Name, strings.ToLower(w.key.Kind))
}

// statusDue says whether the status must be written: something a user or
// the webhook acts on changed, or the freshness fields are older than
// StatusRefresh.
func (c *Controller) statusDue(old, next *v1alpha1.DecisionStatus, t *tracked, now time.Time) bool {
	if material(old) != material(next) {
		return true
	}
	return now.Sub(t.lastWrite) >= c.StatusRefresh && c.routineWrite()
}

// material is the part of a status whose change is written at once.
func material(s *v1alpha1.DecisionStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|%d|%v|%v|%v", s.Mode, s.CurrentReplicas, s.DesiredReplicas, s.LastScaleTime, s.Capacity != nil, s.HPA != nil)
	if s.Replicas != nil {
		fmt.Fprintf(&b, "|%s|%v|%v|%d", s.Replicas.Winner, ptrValue(s.Replicas.Proactive), ptrValue(s.Replicas.Reactive), s.Replicas.Floor)
	}
	if s.Capacity != nil {
		capa := *s.Capacity
		capa.Drift = nil // a pointer: its message below, not its address
		fmt.Fprintf(&b, "|%+v", capa)
		if s.Capacity.Drift != nil {
			fmt.Fprintf(&b, "|drift %s", s.Capacity.Drift.Message)
		}
	}
	if s.HPA != nil {
		fmt.Fprintf(&b, "|%s|%d", s.HPA.Name, s.HPA.DesiredReplicas)
	}
	for _, cond := range s.Conditions {
		fmt.Fprintf(&b, "|%s=%s/%s", cond.Type, cond.Status, cond.Reason)
	}
	return b.String()
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

// signalReason is the SignalsFresh reason for a load error.
func signalReason(err error) string {
	switch errorKind(err) {
	case "unavailable":
		return "PrometheusUnavailable"
	case "empty":
		return "NoValue"
	case "stale":
		return "StaleSamples"
	case "bad-expression":
		return "BadExpression"
	case "many-series":
		return "ManySeries"
	case "not-finite":
		return "NotFinite"
	case "no-prometheus":
		return "NoPrometheus"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "PrometheusUnavailable"
	}
	return "SignalsUnreadable"
}

// splitCamel turns "StaleSamples" into "Stale Samples".
func splitCamel(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// maxMessage bounds what a condition or Event quotes of an error or an
// expression: enough to recognise it, never a 200 KiB paste.
const maxMessage = 512

func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "…"
}
