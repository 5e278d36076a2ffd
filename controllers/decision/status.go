package decision

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/replicas"
)

// targetStatus turns the decider's target into the Decision's components,
// forecast and one-line summary.
func targetStatus(t replicas.Target, cfg replicas.Config) (*v1alpha1.ReplicasStatus, *v1alpha1.ForecastStatus, string) {
	r := &v1alpha1.ReplicasStatus{Floor: t.Floor, Guard: t.Guard, Reason: t.Reason}
	if t.Proactive >= 0 {
		r.Proactive = ptr.To(t.Proactive)
	}
	if t.Reactive >= 0 {
		r.Reactive = ptr.To(t.Reactive)
	}
	var f *v1alpha1.ForecastStatus
	if !t.ForecastAt.IsZero() {
		f = &v1alpha1.ForecastStatus{Time: metav1.NewTime(t.ForecastAt), Expected: number(t.Forecast), Upper: number(t.ForecastHi),
			Quantile: "p" + strconv.FormatFloat(cfg.Quantile*100, 'g', -1, 64), Method: t.Method}
	}
	switch {
	case t.Guarded:
		r.Winner = "guard"
	case t.Proactive < 0 && t.Reactive < 0:
		r.Winner = "hold"
	case t.Proactive >= t.Reactive && t.Proactive >= t.Floor:
		r.Winner = "proactive"
	case t.Reactive >= t.Floor:
		r.Winner = "reactive"
	default:
		r.Winner = "floor"
	}
	summary := fmt.Sprintf("%s %d", r.Winner, t.Replicas)
	switch r.Winner {
	case "proactive":
		summary += fmt.Sprintf(": forecast %s at %s", number(t.ForecastHi), t.ForecastAt.UTC().Format("15:04"))
	case "guard":
		summary += ": " + t.Guard
	}
	if t.Limit != "" && t.Limit != "DesiredWithinRange" && !t.Guarded {
		summary += " (" + splitCamel(string(t.Limit)) + ")"
	}
	return r, f, clip(summary)
}

// number prints a load compactly: 9800 as "9.8k".
func number(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func loadName(w *workload) string {
	if w.inputs.Load.CPU() {
		return "the pods' CPU usage against their requests"
	}
	return "trimtab.dev/metric " + strconv.Quote(clip(w.inputs.Load.Query))
}

func limitMessage(t replicas.Target) string {
	switch t.Limit {
	case "TooManyReplicas":
		return "the desired replica count is more than the maximum replica count"
	case "TooFewReplicas":
		return "the desired replica count is less than the minimum replica count"
	case "ScaleUpLimit":
		return "the desired replica count is increasing faster than the maximum scale rate"
	case "ScaleDownLimit":
		return "the desired replica count is decreasing faster than the maximum scale rate"
	}
	return string(t.Limit)
}

// Outlooks gives a workload's spot outlook (controllers/placement.Outlooks).
type Outlooks interface {
	Outlook(namespace, kind, name string) capacity.Outlook
}

// outlooksKnown is an Outlooks that says whether the placer has assessed
// a workload's outlook since the manager started (controllers/placement.
// Outlooks does). Until it has, "no outlook" means "not known yet", not
// "spot".
type outlooksKnown interface {
	Known(namespace, kind, name string) bool
}

// outlookPending says whether the workload's capacity follows an outlook
// the placer has not assessed yet (its first rounds after a start or a
// leader change, or prices that have not come back since): the Decision
// then holds its last capacity, so a restart never sends a batch
// workload's new pods back to spot while its market is off.
func (c *Controller) outlookPending(w *workload) bool {
	k, ok := c.Outlooks.(outlooksKnown)
	return ok && w.policy.Class == config.ClassBatch && w.inputs.Capacity.Pin == "" && !k.Known(w.key.Namespace, w.key.Kind, w.key.Name)
}

// capacitySplit is the split the webhook stamps on the workload's new pods.
// Batch workloads with capacity auto follow the placer's spot outlook
// (on-demand while a market their pods use is predicted to spike); every
// other workload's split is its policy's alone.
func (c *Controller) capacitySplit(w *workload) (capacity.Split, error) {
	var o capacity.Outlook
	if c.Outlooks != nil && w.policy.Class == config.ClassBatch && w.inputs.Capacity.Pin == "" {
		o = c.Outlooks.Outlook(w.key.Namespace, w.key.Kind, w.key.Name)
	}
	return capacity.Decide(w.inputs.Capacity, o)
}

func appsGVK(kind string) schema.GroupVersionKind {
	if kind == "Job" || kind == "CronJob" {
		return schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: kind} // batch.go
	}
	return schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind}
}

// recordTransitions emits an Event for each condition that changed in a way
// a user should hear of: signals lost or back, an HPA in the way, the guard
// engaging, a policy gone invalid.
func (c *Controller) recordTransitions(d *v1alpha1.Decision, w *workload, old *v1alpha1.DecisionStatus, next *v1alpha1.DecisionStatus) {
	changed := func(typ string) (*metav1.Condition, bool) {
		n := meta.FindStatusCondition(next.Conditions, typ)
		o := meta.FindStatusCondition(old.Conditions, typ)
		if n == nil {
			return nil, false
		}
		return n, o == nil || o.Status != n.Status || o.Reason != n.Reason
	}
	if n, ok := changed(v1alpha1.SignalsFresh); ok {
		signalsFresh.WithLabelValues(w.key.Namespace, w.key.Kind, w.key.Name).Set(boolGauge(n.Status == metav1.ConditionTrue))
		if n.Status == metav1.ConditionFalse {
			c.event(d, corev1.EventTypeWarning, "SignalsMissing", "Decide", "holding %d replicas: %s", next.DesiredReplicas, n.Message)
		} else if old != nil && meta.FindStatusCondition(old.Conditions, v1alpha1.SignalsFresh) != nil {
			c.event(d, corev1.EventTypeNormal, "SignalsRestored", "Decide", "signals are back; deciding again")
		}
	}
	if n, ok := changed(v1alpha1.AbleToScale); ok && n.Reason == "HPAConflict" {
		c.event(d, corev1.EventTypeWarning, "HPAConflict", "Scale", "%s", n.Message)
	}
	if n, ok := changed(v1alpha1.ScalingLimited); ok && n.Reason == "GuardBlocked" {
		c.event(d, corev1.EventTypeWarning, "GuardBlocked", "Decide", "%s", n.Message)
	}
	if n, ok := changed(v1alpha1.ScalingActive); ok && n.Reason == "InvalidPolicy" {
		c.event(d, corev1.EventTypeWarning, "InvalidPolicy", "Decide", "%s", n.Message)
	}
}

// event records an Event on obj when the controller has a recorder.
func (c *Controller) event(obj runtime.Object, eventType, reason, action, note string, args ...any) {
	if c.Recorder != nil {
		c.Recorder.Eventf(obj, nil, eventType, reason, action, note, args...)
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
