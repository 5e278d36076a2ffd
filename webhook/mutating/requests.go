package mutating

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/decider/requests/stamp"
)

// RequestsSource is what the requests step reads: a workload's learned
// recommendations (status.requests of its Decision, written by
// controllers/requests; nil when there are none yet) and the LimitRanges
// of a namespace, each with a version that changes whenever they do (the
// objects' resourceVersions), so the step can reuse what it stamped on the
// workload's previous pod.
type RequestsSource interface {
	Recommendations(ctx context.Context, w WorkloadKey) (recs *v1alpha1.RequestsStatus, version string, err error)
	LimitRanges(ctx context.Context, namespace string) (lrs []corev1.LimitRange, version string, err error)
}

// CachedRequests reads Decisions and LimitRanges from the manager's
// informer cache.
type CachedRequests struct{ Reader client.Reader }

// Recommendations finds the workload's Decision by the names the decision
// controller gives it (the workload's name, else NAME-kind) and returns its
// status.requests.
func (c CachedRequests) Recommendations(ctx context.Context, w WorkloadKey) (*v1alpha1.RequestsStatus, string, error) {
	for _, name := range []string{w.Name, w.Name + "-" + strings.ToLower(w.Kind)} {
		var d v1alpha1.Decision
		err := c.Reader.Get(ctx, types.NamespacedName{Namespace: w.Namespace, Name: name}, &d)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("reading the Decision of %s: %w", w, err)
		}
		if d.Spec.WorkloadRef.Kind == w.Kind && d.Spec.WorkloadRef.Name == w.Name {
			return d.Status.Requests, string(d.UID) + "/" + d.ResourceVersion, nil
		}
	}
	return nil, "none", nil
}

// LimitRanges lists the namespace's LimitRanges.
func (c CachedRequests) LimitRanges(ctx context.Context, namespace string) ([]corev1.LimitRange, string, error) {
	var list corev1.LimitRangeList
	if err := c.Reader.List(ctx, &list, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, "", fmt.Errorf("listing LimitRanges in %s: %w", namespace, err)
	}
	var v strings.Builder
	for i := range list.Items {
		v.WriteString(string(list.Items[i].UID))
		v.WriteString("/")
		v.WriteString(list.Items[i].ResourceVersion)
		v.WriteString(",")
	}
	return list.Items, v.String(), nil
}

type decodedContainer struct {
	Name      string                      `json:"name"`
	Resources corev1.ResourceRequirements `json:"resources"`
}

// stampMemo keeps, per workload, the last pod's containers and what was
// stamped on them: a workload's pods share their template, so most
// admissions reuse it instead of decoding quantities and stamping again.
type stampMemo struct {
	mu sync.Mutex
	m  map[WorkloadKey]memoEntry
}

type memoEntry struct {
	containers []byte
	version    memoVersion
	result     stampResult
}

// memoVersion is everything the stamp depends on besides the containers.
type memoVersion struct {
	recs, limitRanges string
	pinned, min, max  string
	limits            config.Limits
}

// maxMemo bounds the memo; past it, it starts over.
const maxMemo = 4096

func (m *stampMemo) get(w WorkloadKey, containers []byte, version memoVersion) (stampResult, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[w]
	if !ok || e.version != version || !bytes.Equal(e.containers, containers) {
		return stampResult{}, false
	}
	return e.result, true
}

func (m *stampMemo) put(w WorkloadKey, containers []byte, version memoVersion, r stampResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= maxMemo {
		m.m = map[WorkloadKey]memoEntry{}
	}
	m.m[w] = memoEntry{containers: containers, version: version, result: r}
}

// requestsStep stamps the workload's learned requests on the pod's
// containers (enforce mode) or says what it would stamp (shadow mode). It
// writes config.AnnotationResources on the pod, sets d.Requests for the
// Event, and returns the JSON patch operations of the changed containers'
// resources. Failures to read leave the pod as written and say so: the
// pod is never denied.
//
// containers is the pod's spec.containers, raw (decodeAdmitted): they are
// decoded (names and resources) only when the workload's previous pod had
// other containers or anything the stamp depends on changed.
func (h *Handler) requestsStep(ctx context.Context, containers json.RawMessage, pod *corev1.Pod, w Workload, p config.Policy, d *PodDecision) []jsonpatch.JsonPatchOperation {
	in, err := p.Inputs()
	if err != nil || !in.Requests.Auto {
		return nil
	}
	recs, recsVersion, err := h.Requests.Recommendations(ctx, w.Key)
	var lrs []corev1.LimitRange
	var lrsVersion string
	if err == nil {
		lrs, lrsVersion, err = h.Requests.LimitRanges(ctx, w.Key.Namespace)
	}
	var r stampResult
	if err != nil {
		r = stampResult{Summary: "requests left as written: " + err.Error()}
	} else {
		version := memoVersion{recs: recsVersion, limitRanges: lrsVersion, pinned: p.RequestsPinned, min: p.RequestsMin, max: p.RequestsMax, limits: p.Limits}
		var hit bool
		if r, hit = h.memo.get(w.Key, containers, version); !hit {
			var dcs []decodedContainer
			if len(containers) > 0 {
				if err := json.Unmarshal(containers, &dcs); err != nil {
					return nil // part of the document decodePod accepted; unreachable
				}
			}
			ctrs := make([]containerResources, len(dcs))
			for i, c := range dcs {
				ctrs[i] = containerResources(c)
			}
			r = stampPod(ctrs, recs, in.Requests, lrs)
			h.memo.put(w.Key, containers, version, r)
		}
	}
	enforce := p.Mode == config.ModeEnforce
	summary := r.Summary
	if !enforce && r.changed() {
		summary = "shadow, not applied: would set " + summary
	}
	pod.Annotations[config.AnnotationResources] = summary
	d.Requests = summary
	if !enforce {
		return nil
	}
	var ops []jsonpatch.JsonPatchOperation
	for i, res := range r.Resources {
		if res != nil {
			ops = append(ops, jsonpatch.NewOperation("add", fmt.Sprintf("/spec/containers/%d/resources", i), *res))
		}
	}
	return ops
}

// containerResources is one container as the requests step sees it.
type containerResources struct {
	Name      string
	Resources corev1.ResourceRequirements
}

// stampResult is what stampPod decided for one pod.
type stampResult struct {
	// Resources holds each container's new resources, nil for one left
	// as written, in the pod's container order.
	Resources []*corev1.ResourceRequirements
	// Summary lists per container what changed and why, or why nothing
	// did, e.g. "app: memory 1Gi→332Mi (p99 of hourly memory peaks over
	// 8.0 days +5%); sidecar: pinned, left as written".
	Summary string
}

func (r stampResult) changed() bool {
	for _, res := range r.Resources {
		if res != nil {
			return true
		}
	}
	return false
}

// stampPod applies the recommendations to each container under the
// policy: pinned containers and those without a recommendation are left
// as written; the others get the target through stamp.Container (limits
// keep their ratio unless trimtab.dev/limits: keep, the policy's bounds
// and the Container LimitRanges hold). If the result would break a Pod
// LimitRange, the pod is left as written, saying which.
func stampPod(ctrs []containerResources, recs *v1alpha1.RequestsStatus, in config.RequestsInputs, lrs []corev1.LimitRange) stampResult {
	out := stampResult{Resources: make([]*corev1.ResourceRequirements, len(ctrs))}
	if recs == nil {
		out.Summary = "requests left as written: no recommendation yet (the requests controller records one on the workload's Decision once it has read usage)"
		return out
	}
	byName := make(map[string]*v1alpha1.ContainerRecommendation, len(recs.Containers))
	for i := range recs.Containers {
		byName[recs.Containers[i].Name] = &recs.Containers[i]
	}
	policy := stamp.Policy{KeepLimits: in.KeepLimits, Min: in.Bounds.Min, Max: in.Bounds.Max, LimitRanges: lrs}
	parts := make([]string, 0, len(ctrs))
	after := make([]corev1.ResourceRequirements, len(ctrs))
	for i, c := range ctrs {
		after[i] = c.Resources
		rec := byName[c.Name]
		switch {
		case in.IsPinned(c.Name):
			parts = append(parts, c.Name+": pinned ("+config.AnnotationRequestsPinned+"), left as written")
			continue
		case rec == nil || rec.Mode != "Auto" || len(rec.Target) == 0:
			parts = append(parts, c.Name+": no recommendation yet, left as written")
			continue
		}
		target := requests.Resources{CPU: quantityValue(rec.Target, corev1.ResourceCPU), Memory: quantityValue(rec.Target, corev1.ResourceMemory)}
		res, changes := stamp.Container(c.Resources, target, policy)
		var words []string
		for _, ch := range changes {
			if !ch.Changed() {
				words = append(words, fmt.Sprintf("%s %s kept", ch.Resource, ch.To.String()))
				continue
			}
			why := rec.CPUReason
			if ch.Resource == corev1.ResourceMemory {
				why = rec.MemoryReason
			}
			var notes []string
			if why != "" {
				notes = append(notes, why)
			}
			notes = append(notes, ch.Notes...)
			if ch.FromLimit != nil && ch.ToLimit != nil && ch.FromLimit.Cmp(*ch.ToLimit) != 0 {
				notes = append(notes, fmt.Sprintf("limit %s→%s", ch.FromLimit.String(), ch.ToLimit.String()))
			}
			from := ch.From.String()
			if ch.From.IsZero() {
				from = "none"
			}
			word := fmt.Sprintf("%s %s→%s", ch.Resource, from, ch.To.String())
			if len(notes) > 0 {
				word += " (" + strings.Join(notes, "; ") + ")"
			}
			words = append(words, word)
			out.Resources[i] = &res
		}
		after[i] = res
		if len(words) == 0 {
			words = []string{"nothing to set"}
		}
		parts = append(parts, c.Name+": "+strings.Join(words, ", "))
	}
	if out.changed() {
		for _, name := range stamp.Resources {
			if ok, why := stamp.PodFits(after, lrs, name); !ok {
				return stampResult{Resources: make([]*corev1.ResourceRequirements, len(ctrs)), Summary: "requests left as written: " + why}
			}
		}
	}
	out.Summary = strings.Join(parts, "; ")
	return out
}

func quantityValue(l corev1.ResourceList, r corev1.ResourceName) float64 {
	q, ok := l[r]
	if !ok {
		return 0
	}
	return stamp.Value(q)
}

// SetupOption adds an optional part to the pod mutator Setup registers.
type SetupOption func(h *Handler)

// WithRequests turns on the requests step, reading from src.
func WithRequests(src RequestsSource) SetupOption {
	return func(h *Handler) { h.Requests = src }
}
