package requests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// Container modes on the Decision.
const (
	ModeAuto = "Auto"
	ModeOff  = "Off"
)

// nextStatus is the workload's status.requests after this sync.
func (c *Controller) nextStatus(w *workload, t *tracked, old *v1alpha1.RequestsStatus, now time.Time) *v1alpha1.RequestsStatus {
	s := &v1alpha1.RequestsStatus{LastResize: t.lastResize}
	if old != nil {
		s.Conditions = append([]metav1.Condition(nil), old.Conditions...)
		if t.lastUsage.IsZero() {
			s.LastUsageTime = old.LastUsageTime
		}
	}
	if !t.lastUsage.IsZero() {
		s.LastUsageTime = &metav1.Time{Time: t.lastUsage}
	}
	for _, ctr := range w.template {
		cr := v1alpha1.ContainerRecommendation{Name: ctr.Name, Mode: ModeAuto}
		if w.inputs.Requests.IsPinned(ctr.Name) {
			cr.Mode = ModeOff
			cr.CPUReason = "pinned by " + config.AnnotationRequestsPinned
			cr.MemoryReason = cr.CPUReason
			s.Containers = append(s.Containers, cr)
			continue
		}
		if m := t.containers[ctr.Name]; m != nil {
			if m.have {
				cr.Target, cr.LowerBound, cr.UpperBound = resourceList(m.rec.Target), resourceList(m.rec.Lower), resourceList(m.rec.Upper)
				cr.CPUReason, cr.MemoryReason = clip(m.rec.CPUReason), clip(m.rec.MemoryReason)
				cr.Urgent = m.rec.Urgent
			}
			if !m.lastOOM.IsZero() {
				cr.LastOOM = &metav1.Time{Time: m.lastOOM}
			}
		}
		s.Containers = append(s.Containers, cr)
	}
	set := func(typ string, ok bool, reason, msg string) {
		st := metav1.ConditionFalse
		if ok {
			st = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: typ, Status: st, Reason: reason, Message: clip(msg), LastTransitionTime: metav1.NewTime(now)})
	}
	switch {
	case t.readErr != nil:
		set(v1alpha1.SignalsFresh, false, readReason(t.readErr), "holding every recommendation until the usage can be read: "+t.readErr.Error())
	case t.read && t.fedNow == 0:
		set(v1alpha1.SignalsFresh, false, "NoValue", "holding every recommendation: Prometheus has no usage for the containers of the workload's pods since "+t.fed.UTC().Format(time.RFC3339))
	case t.read:
		set(v1alpha1.SignalsFresh, true, "SignalsRead", "usage read up to "+t.lastUsage.UTC().Format(time.RFC3339))
	}
	switch {
	case !w.inputs.Enforce:
		msg := "shadow mode: recommendations are recorded, and neither new nor running pods are changed; set trimtab.dev/mode: enforce to let trimtab act"
		if l := s.LastResize; l != nil && l.Outcome == OutcomeShadow && w.inputs.Requests.Resize != config.ResizeOff {
			msg += fmt.Sprintf("; it would resize pod %s in place: %s", l.Pod, l.Change)
		}
		set(v1alpha1.Resizing, false, "ShadowMode", msg)
	case w.inputs.Requests.Resize == config.ResizeOff:
		set(v1alpha1.Resizing, false, "ResizeOff", "new pods get the recommendation at admission; running pods keep theirs ("+config.AnnotationResize+": off)")
	case s.LastResize != nil && (s.LastResize.Outcome == OutcomeInfeasible || s.LastResize.Outcome == OutcomeDeferred || s.LastResize.Outcome == OutcomeFailed):
		set(v1alpha1.Resizing, false, "Resize"+s.LastResize.Outcome, fmt.Sprintf("the last resize in place (pod %s: %s) was not done (%s); the next pod gets the recommendation at admission, and running pods are resized again when they leave the bounds", s.LastResize.Pod, s.LastResize.Change, s.LastResize.Outcome))
	default:
		set(v1alpha1.Resizing, true, "InPlace", "new pods get the recommendation at admission; a running container whose requests leave the recommendation's bounds is resized in place (pods/resize), one pod per workload at a time, when its node has room")
	}
	return s
}

// readReason is the SignalsFresh reason for a usage read error, as the
// replica controller names its own.
func readReason(err error) string {
	switch {
	case errors.Is(err, errNoPrometheus):
		return "NoPrometheus"
	case errors.Is(err, prometheus.ErrBadExpression):
		return "BadExpression"
	case errors.Is(err, prometheus.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "PrometheusUnavailable"
	}
	return "SignalsUnreadable"
}

// material is the part of a status whose change is written at once.
func material(s *v1alpha1.RequestsStatus) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	for _, cr := range s.Containers {
		j, _ := json.Marshal(cr)
		b.Write(j)
	}
	for _, cond := range s.Conditions {
		fmt.Fprintf(&b, "|%s=%s/%s", cond.Type, cond.Status, cond.Reason)
	}
	if s.LastResize != nil {
		fmt.Fprintf(&b, "|%s %s %s", s.LastResize.Pod, s.LastResize.Outcome, s.LastResize.Time.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// writeStatus patches status.requests when it changed materially or its
// freshness is older than StatusRefresh. The merge patch touches only
// status.requests: its base is the Decision as read, with the rest of the
// status as the replica controller wrote it.
func (c *Controller) writeStatus(ctx context.Context, w *workload, t *tracked, next *v1alpha1.RequestsStatus, now time.Time, st *SyncStats) error {
	d := w.decision
	if material(d.Status.Requests) == material(next) && now.Sub(t.lastWrite) < c.StatusRefresh {
		return nil
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Status.Requests = next
	if err := c.Client.Status().Patch(ctx, d, patch); err != nil {
		return fmt.Errorf("writing the Decision's status.requests: %w", err)
	}
	t.lastWrite = now
	st.StatusWrites++
	return nil
}

// recordTransitions emits the Decision's Events: usage lost or back (one
// per outage, as the replica controller's SignalsMissing), and a target
// that moved by more than 10% since the last one announced.
func (c *Controller) recordTransitions(w *workload, t *tracked, old, next *v1alpha1.RequestsStatus) {
	n := meta.FindStatusCondition(next.Conditions, v1alpha1.SignalsFresh)
	var o *metav1.Condition
	if old != nil {
		o = meta.FindStatusCondition(old.Conditions, v1alpha1.SignalsFresh)
	}
	if n != nil && (o == nil || o.Status != n.Status || o.Reason != n.Reason) {
		if n.Status == metav1.ConditionFalse {
			c.event(w.decision, corev1.EventTypeWarning, "SignalsMissing", "Recommend", "holding the learned requests: %s", n.Message)
		} else if o != nil {
			c.event(w.decision, corev1.EventTypeNormal, "SignalsRestored", "Recommend", "container usage is back; learning again")
		}
	}
	var moved []string
	for name, m := range t.containers {
		if !m.have {
			continue
		}
		prev, ok := t.announced[name]
		if ok && within(prev.CPU, m.rec.Target.CPU, 0.1) && within(prev.Memory, m.rec.Target.Memory, 0.1) {
			continue
		}
		t.announced[name] = m.rec.Target
		moved = append(moved, fmt.Sprintf("%s: cpu %s (%s), memory %s (%s)", name,
			requests.FormatCPU(m.rec.Target.CPU), m.rec.CPUReason, requests.FormatBytes(m.rec.Target.Memory), m.rec.MemoryReason))
	}
	if len(moved) > 0 {
		c.event(w.decision, corev1.EventTypeNormal, "RequestsRecommended", "Recommend", "%s", clip(strings.Join(moved, "; ")))
	}
}

func within(a, b, f float64) bool {
	if a == 0 || b == 0 {
		return a == b
	}
	return math.Abs(a-b) <= f*math.Max(a, b)
}

// event records an Event on obj when the controller has a recorder.
func (c *Controller) event(obj runtime.Object, eventType, reason, action, note string, args ...any) {
	if c.Recorder != nil {
		c.Recorder.Eventf(obj, nil, eventType, reason, action, note, args...)
	}
}

// maxMessage bounds what a condition, reason or Event quotes.
const maxMessage = 1024

func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage] + "…"
}
