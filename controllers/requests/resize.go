package requests

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/decider/requests/stamp"
)

// Defaults of in-place resize.
const (
	// DefaultResizeEvery is how long a workload waits between two resizes
	// of its pods, unless the new one raises memory for an OOM kill or a
	// leak's projected OOM.
	DefaultResizeEvery = 5 * time.Minute
	// DefaultResizesPerMinute bounds the resizes of the whole cluster.
	DefaultResizesPerMinute = 10
	// DefaultResizeDeferredFor is how long the kubelet may defer a resize
	// before trimtab gives up on it (VPA's DeferredResizeUpdateTimeout).
	DefaultResizeDeferredFor = 5 * time.Minute
	// DefaultResizeInProgressFor is how long the kubelet may take to apply
	// one (VPA's InProgressResizeUpdateTimeout).
	DefaultResizeInProgressFor = time.Hour
)

// maxRoomChecks bounds the node reads of one workload's pass: each reads
// the node's pods from the apiserver.
const maxRoomChecks = 3

// inflight is a resize asked and not yet settled.
type inflight struct {
	at     time.Time
	record v1alpha1.ResizeRecord
}

// resize runs one workload's in-place resizes after its recommendations
// are updated. It first follows the resizes in flight (resizeState); one
// the kubelet cannot do, or defers too long, is left to the next pod (the
// webhook stamps it) or, with trimtab.dev/resize: in-place-or-recreate,
// the pod is evicted through the Eviction API, within its
// PodDisruptionBudgets. Then it resizes the first pod of planResize that
// passes the limits: one pod per workload every ResizeEvery (an urgent
// memory raise does not wait), ResizesPerMinute over the cluster, and only
// when the pod's node has room for what grows. In shadow mode the same
// pass runs and the Decision's lastResize says what it would do; nothing
// is written to a pod.
func (c *Controller) resize(ctx context.Context, w *workload, t *tracked, now time.Time, st *SyncStats) {
	if w.inputs.Requests.Resize == config.ResizeOff {
		return
	}
	log := logFor(ctx, w)
	c.follow(ctx, w, t, now)
	recs := map[string]requests.Recommendation{}
	for name, m := range t.containers {
		if m.have && !w.inputs.Requests.IsPinned(name) {
			recs[name] = m.rec
		}
	}
	if len(recs) == 0 {
		return
	}
	var lrs corev1.LimitRangeList
	if err := c.Client.List(ctx, &lrs, client.InNamespace(w.key.Namespace)); err != nil {
		log.Error(err, "listing LimitRanges; no resize this sync")
		return
	}
	policy := stamp.Policy{KeepLimits: w.inputs.Requests.KeepLimits, Min: w.inputs.Requests.Bounds.Min, Max: w.inputs.Requests.Bounds.Max, LimitRanges: lrs.Items}
	checks := 0
	for _, plan := range planResize(w.pods, recs, policy) {
		if _, busy := t.inflight[plan.pod.UID]; busy || t.refused[plan.pod.UID] == plan.change {
			continue
		}
		if !plan.urgent && !t.lastResizeAt.IsZero() && now.Sub(t.lastResizeAt) < c.ResizeEvery {
			return // one pod per workload every ResizeEvery
		}
		if w.inputs.Enforce && !c.clusterBudget(now) {
			st.ResizesLimited++
			return
		}
		if plan.grows {
			if checks++; checks > maxRoomChecks {
				return // the other pods are tried at the next sync
			}
			if why, err := c.room(ctx, plan); err != nil {
				log.Error(err, "reading the node's room; no resize this sync", "pod", plan.pod.Name)
				return
			} else if why != "" {
				c.noteOnce(t, plan.pod, why, func() {
					if w.inputs.Enforce {
						c.eventOn(plan.pod, w.decision, corev1.EventTypeWarning, "ResizeNoRoom", "not resized in place (%s): %s; the next pod gets the recommendation", plan.change, why)
					}
				})
				st.ResizesNoRoom++
				continue
			}
		}
		rec := v1alpha1.ResizeRecord{Pod: plan.pod.Name, Time: metav1.NewTime(now), Change: clip(plan.change)}
		if !w.inputs.Enforce {
			if l := t.lastResize; l == nil || l.Pod != rec.Pod || l.Change != rec.Change || l.Outcome != OutcomeShadow {
				rec.Outcome = OutcomeShadow
				t.lastResize = &rec
				t.lastResizeAt = now
			}
			return
		}
		pod := plan.pod.DeepCopy()
		for i := range pod.Spec.Containers {
			pod.Spec.Containers[i].Resources = plan.after[i]
		}
		c.resized = append(c.resized, now)
		t.lastResizeAt = now
		if err := c.Client.SubResource("resize").Update(ctx, pod); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				return // the pod moved on; the next sync sees it as it is
			}
			// The apiserver refused it (e.g. a change of QoS class, or a
			// memory limit the resize policy cannot lower): remembered, so
			// the pod is not asked again until its plan changes.
			rec.Outcome = OutcomeFailed
			t.lastResize = &rec
			t.refused[plan.pod.UID] = plan.change
			c.noteOnce(t, plan.pod, plan.change, func() {
				c.eventOn(plan.pod, w.decision, corev1.EventTypeWarning, "ResizeFailed", "resize in place refused (%s): %v; the next pod gets the recommendation", plan.change, err)
			})
			st.ResizesFailed++
			return
		}
		rec.Outcome = OutcomeInProgress
		t.lastResize = &rec
		t.inflight[plan.pod.UID] = inflight{at: now, record: rec}
		st.Resizes++
		resizesTotal.WithLabelValues(OutcomeInProgress).Inc()
		c.eventOn(plan.pod, w.decision, corev1.EventTypeNormal, "Resized", "resized in place: %s", plan.change)
		log.Info("resized in place", "pod", plan.pod.Name, "change", plan.change)
		return
	}
}

// follow settles the workload's resizes in flight from the pods' resize
// conditions.
func (c *Controller) follow(ctx context.Context, w *workload, t *tracked, now time.Time) {
	live := map[types.UID]*corev1.Pod{}
	for _, p := range w.pods {
		live[p.UID] = p
	}
	if l := t.lastResize; l != nil && l.Outcome == OutcomeInProgress && len(t.inflight) == 0 {
		// A restarted controller follows the resize its status says is in
		// flight.
		for _, p := range w.pods {
			if p.Name == l.Pod {
				t.inflight[p.UID] = inflight{at: l.Time.Time, record: *l}
			}
		}
	}
	for _, m := range []map[types.UID]string{t.noted, t.refused} {
		for uid := range m {
			if live[uid] == nil {
				delete(m, uid)
			}
		}
	}
	for uid, f := range t.inflight {
		p := live[uid]
		if p == nil || p.DeletionTimestamp != nil {
			delete(t.inflight, uid)
			continue
		}
		outcome, why := resizeState(p, f.at, now, c.ResizeDeferredFor, c.ResizeInProgressFor)
		if outcome == OutcomeInProgress {
			continue
		}
		rec := f.record
		rec.Outcome = outcome
		switch outcome {
		case OutcomeDone:
			c.eventOn(p, w.decision, corev1.EventTypeNormal, "ResizeDone", "resize in place applied: %s", rec.Change)
		default:
			if w.inputs.Requests.Resize == config.ResizeInPlaceOrRecreate {
				if c.evict(ctx, w, p, rec.Change, why) {
					rec.Outcome = OutcomeRecreated
				} else {
					continue // a PodDisruptionBudget said no: asked again next sync
				}
			} else {
				c.eventOn(p, w.decision, corev1.EventTypeWarning, "Resize"+outcome, "resize in place not done (%s): %s; the next pod gets the recommendation (%s: %s never evicts)", rec.Change, why, config.AnnotationResize, w.inputs.Requests.Resize)
			}
		}
		resizesTotal.WithLabelValues(rec.Outcome).Inc()
		delete(t.inflight, uid)
		t.lastResize = &rec
	}
}

// evict asks the Eviction API to evict p, whose resize could not happen,
// so its replacement is admitted with the recommendation. It reports
// whether the pod is gone or going.
func (c *Controller) evict(ctx context.Context, w *workload, p *corev1.Pod, change, why string) bool {
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name}}
	err := c.Client.SubResource("eviction").Create(ctx, p, ev)
	switch {
	case err == nil, apierrors.IsNotFound(err):
		// 404: already gone, which is what eviction wanted.
		c.eventOn(p, w.decision, corev1.EventTypeNormal, "ResizeRecreated", "evicted so its replacement gets %s: the resize in place was not done (%s)", change, why)
		return true
	case apierrors.IsTooManyRequests(err):
		// 429: a PodDisruptionBudget allows no disruption now.
		c.eventOn(p, w.decision, corev1.EventTypeWarning, "ResizeEvictionBlocked", "resize in place not done (%s) and eviction refused by a PodDisruptionBudget; retrying next sync", why)
		return false
	default:
		logFor(ctx, w).Error(err, "evicting a pod whose resize failed; retrying next sync", "pod", p.Name)
		return false
	}
}

// clusterBudget reports whether another resize fits in ResizesPerMinute
// over the last minute, forgetting older ones.
func (c *Controller) clusterBudget(now time.Time) bool {
	keep := c.resized[:0]
	for _, at := range c.resized {
		if now.Sub(at) < time.Minute {
			keep = append(keep, at)
		}
	}
	c.resized = keep
	return len(c.resized) < c.ResizesPerMinute
}

// room reads the plan's node and the pods bound to it (uncached: the
// manager caches only the pods the webhook placed) and says what is short,
// if anything.
func (c *Controller) room(ctx context.Context, plan resizePlan) (string, error) {
	var node corev1.Node
	if err := c.Client.Get(ctx, client.ObjectKey{Name: plan.pod.Spec.NodeName}, &node); err != nil {
		return "", fmt.Errorf("reading node %s: %w", plan.pod.Spec.NodeName, err)
	}
	var pods corev1.PodList
	if err := c.reader().List(ctx, &pods, client.MatchingFields{"spec.nodeName": node.Name}); err != nil {
		return "", fmt.Errorf("listing the pods of node %s: %w", node.Name, err)
	}
	return nodeRoom(&node, pods.Items, plan), nil
}

// noteOnce runs emit the first time msg is said about pod, so a pod that
// stays without room, or refused, gets one Event and not one a sync.
func (c *Controller) noteOnce(t *tracked, pod *corev1.Pod, msg string, emit func()) {
	if t.noted[pod.UID] == msg {
		return
	}
	t.noted[pod.UID] = msg
	emit()
}

// eventOn records the same Event on the pod (regarding it, related to the
// Decision) and on the Decision.
func (c *Controller) eventOn(pod *corev1.Pod, d *v1alpha1.Decision, eventType, reason, note string, args ...any) {
	if c.Recorder == nil {
		return
	}
	c.Recorder.Eventf(pod, d, eventType, reason, "Resize", note, args...)
	c.Recorder.Eventf(d, pod, eventType, reason, "Resize", "pod %s: "+note, append([]any{pod.Name}, args...)...)
}
