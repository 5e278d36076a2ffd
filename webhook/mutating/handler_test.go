package mutating

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/internal/stats"
)

// staticResolver is the Resolver seam: the workload lookup is exercised
// against the real apiserver in test/e2e; here the tests choose the policy.
type staticResolver struct {
	w   Workload
	ok  bool
	err error
}

func (r staticResolver) Resolve(context.Context, *corev1.Pod) (Workload, bool, error) {
	return r.w, r.ok, r.err
}

func newTestHandler(annotations map[string]string) *Handler {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	return &Handler{
		Settings: config.DefaultSettings(),
		Resolver: staticResolver{w: Workload{Key: web, Annotations: annotations, Revision: webRS.UID}, ok: true},
		Ledger:   NewLedger(clk, DefaultReservationTTL, nil),
		Clock:    clk,
	}
}

func podRequest(t testing.TB, uid string, pod *corev1.Pod) admission.Request {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       types.UID(uid),
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Operation: admissionv1.Create,
		Namespace: "shop",
		Object:    runtime.RawExtension{Raw: raw},
	}}
}

func basePod() *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "web-", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}},
	}
}

// applied applies the response's JSON patch to the request's pod.
func applied(t *testing.T, req admission.Request, resp admission.Response) *corev1.Pod {
	t.Helper()
	if !resp.Allowed {
		t.Fatalf("response denied the pod: %+v", resp.Result)
	}
	pod := &corev1.Pod{}
	raw := req.Object.Raw
	if len(resp.Patches) > 0 {
		ops, err := json.Marshal(resp.Patches)
		if err != nil {
			t.Fatal(err)
		}
		patch, err := jsonpatch.DecodePatch(ops)
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = patch.Apply(raw); err != nil {
			t.Fatalf("applying the webhook's patch: %v", err)
		}
	}
	if err := json.Unmarshal(raw, pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

func TestHandleEnforceAuto(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationCapacity: "auto", config.AnnotationOnDemandBase: "1", config.AnnotationMode: "enforce"})
	var placements []string
	for i := range 3 {
		req := podRequest(t, fmt.Sprint("uid-", i), basePod())
		pod := applied(t, req, h.Handle(context.Background(), req))
		placements = append(placements, pod.Labels[LabelPlacement])
		d, ok := decisionOf(pod.Annotations)
		if !ok || d.AdmissionID != fmt.Sprint("uid-", i) || d.Workload != "Deployment/web" {
			t.Errorf("pod %d: decision JSON %q", i, pod.Annotations[config.AnnotationDecisionJSON])
		}
		if want := pod.Labels[LabelPlacement] + " ("; !strings.HasPrefix(pod.Annotations[config.AnnotationDecision], want) {
			t.Errorf("pod %d: decision %q", i, pod.Annotations[config.AnnotationDecision])
		}
		if pod.Spec.Affinity == nil || pod.Spec.Affinity.NodeAffinity == nil {
			t.Errorf("pod %d: no node affinity injected", i)
		}
	}
	if strings.Join(placements, ",") != "on-demand,spot,spot" {
		t.Errorf("placements = %v, want on-demand then spot", placements)
	}
}

func TestHandleShadowRecordsOnly(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "shadow"})
	req := podRequest(t, "uid", basePod())
	pod := applied(t, req, h.Handle(context.Background(), req))
	if pod.Spec.Affinity != nil || len(pod.Spec.Tolerations) != 0 {
		t.Errorf("shadow mode changed the spec: affinity %+v, tolerations %+v", pod.Spec.Affinity, pod.Spec.Tolerations)
	}
	if got := pod.Annotations[config.AnnotationDecision]; !strings.HasPrefix(got, "shadow, not applied: would be spot (required)") {
		t.Errorf("decision = %q", got)
	}
}

func TestHandleKeepsUserPinnedCapacity(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	p := basePod()
	p.Spec.NodeSelector = map[string]string{"karpenter.sh/capacity-type": "on-demand"}
	req := podRequest(t, "uid", p)
	pod := applied(t, req, h.Handle(context.Background(), req))
	if pod.Spec.Affinity != nil || len(pod.Spec.Tolerations) != 0 || pod.Labels[LabelPlacement] != "" {
		t.Errorf("a user-pinned pod was placed: %+v", pod.Spec)
	}
	if got := pod.Annotations[config.AnnotationDecision]; !strings.Contains(got, "kept the pod's nodeSelector karpenter.sh/capacity-type=on-demand") {
		t.Errorf("decision = %q, want it to say the nodeSelector was kept", got)
	}
	if h.Ledger.Pending() != 0 {
		t.Error("a pod trimtab did not place took a ledger slot")
	}
}

// Every path that cannot decide admits the pod unchanged: nothing here may
// ever block a pod.
func TestHandleNeverDenies(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func() *Handler
		req  func() admission.Request
	}{
		{"invalid policy", func() *Handler { return newTestHandler(map[string]string{config.AnnotationReplicas: "10..2"}) }, func() admission.Request { return podRequest(t, "u", basePod()) }},
		{"no workload", func() *Handler {
			h := newTestHandler(nil)
			h.Resolver = staticResolver{}
			return h
		}, func() admission.Request { return podRequest(t, "u", basePod()) }},
		{"resolver error", func() *Handler {
			h := newTestHandler(nil)
			h.Resolver = staticResolver{err: fmt.Errorf("apiserver away")}
			return h
		}, func() admission.Request { return podRequest(t, "u", basePod()) }},
		{"ledger not synced", func() *Handler {
			h := newTestHandler(map[string]string{config.AnnotationMode: "enforce"})
			h.Ledger.ready = make(chan struct{})
			return h
		}, func() admission.Request { return podRequest(t, "u", basePod()) }},
		{"garbage object", func() *Handler { return newTestHandler(nil) }, func() admission.Request {
			r := podRequest(t, "u", basePod())
			r.Object.Raw = []byte(`{"spec": 42`)
			return r
		}},
		{"excluded namespace", func() *Handler { return newTestHandler(map[string]string{config.AnnotationMode: "enforce"}) }, func() admission.Request {
			r := podRequest(t, "u", basePod())
			r.Namespace = "kube-system"
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			resp := tc.h().Handle(ctx, tc.req())
			if !resp.Allowed || len(resp.Patches) != 0 {
				t.Errorf("got allowed=%v with %d patches, want the pod admitted unchanged", resp.Allowed, len(resp.Patches))
			}
		})
	}
}

func TestHandleDryRunTakesNoSlot(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationOnDemandBase: "1", config.AnnotationMode: "enforce"})
	req := podRequest(t, "dry", basePod())
	req.DryRun = ptr.To(true)
	if pod := applied(t, req, h.Handle(context.Background(), req)); pod.Labels[LabelPlacement] != "on-demand" {
		t.Errorf("dry run placement = %q, want on-demand", pod.Labels[LabelPlacement])
	}
	if h.Ledger.Pending() != 0 {
		t.Error("a dry run reserved a ledger slot")
	}
}

// BenchmarkHandle measures one pod admission in-process: decode, decide,
// mutate, annotate and patch, for a workload of 20 pods the cache has seen
// (the steady state: the informer catches up within milliseconds, so the
// ledger holds few reservations). The handler is single-threaded per
// request, so reviews/s is the per-core rate.
func BenchmarkHandle(b *testing.B) {
	h := newTestHandler(map[string]string{config.AnnotationCapacity: "auto", config.AnnotationOnDemandBase: "2", config.AnnotationMode: "enforce"})
	const pods = 20
	reqs := make([]admission.Request, pods)
	for i := range reqs {
		id := fmt.Sprint("uid-", i)
		reqs[i] = podRequest(b, id, basePod())
		p := capacity.Spot
		if i < 2 {
			p = capacity.OnDemand
		}
		h.Ledger.Observe(shownPod(webRS, fmt.Sprint("pod-", i), id, p))
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		resp := h.Handle(context.Background(), reqs[i%len(reqs)])
		lat = append(lat, time.Since(t0))
		if !resp.Allowed {
			b.Fatal("denied")
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reviews/s")
	p99, _ := stats.Quantile(lat, 0.99)
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
}

// BenchmarkDecodeBaseline is the floor of any pod webhook: decode the pod
// from the request and admit it. BenchmarkHandle / BenchmarkDecodeBaseline is
// the cost of trimtab's decision relative to that floor, a ratio that holds
// on a noisy shared machine where absolute ns/op do not.
func BenchmarkDecodeBaseline(b *testing.B) {
	req := podRequest(b, "uid", basePod())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pod := &corev1.Pod{}
		if err := json.Unmarshal(req.Object.Raw, pod); err != nil {
			b.Fatal(err)
		}
		_ = admission.Allowed("")
	}
}

func TestHandlePatchesExistingMaps(t *testing.T) {
	h := newTestHandler(map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	p := basePod()
	p.Annotations = map[string]string{"example.com/owner": "team~a"}
	p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
	req := podRequest(t, "uid", p)
	pod := applied(t, req, h.Handle(context.Background(), req))
	if pod.Annotations["example.com/owner"] != "team~a" || pod.Annotations[config.AnnotationDecision] == "" {
		t.Errorf("annotations = %v, want the user's kept and trimtab's added", pod.Annotations)
	}
	if len(pod.Spec.Tolerations) != 2 || pod.Spec.Tolerations[0].Key != "dedicated" {
		t.Errorf("tolerations = %+v, want the user's then the spot toleration", pod.Spec.Tolerations)
	}
	if pod.Labels["app"] != "web" || pod.Labels[LabelPlacement] != "spot" {
		t.Errorf("labels = %v", pod.Labels)
	}
}

func TestDecisionSummaryFitsDescribe(t *testing.T) {
	d := PodDecision{Workload: "StatefulSet/a-rather-long-workload-name", Mode: config.ModeEnforce, Placement: capacity.Spot,
		Reason: "on-demand base 12 filled, spot preferred for the rest"}
	if s := d.Summary(); len(s) > 140 {
		t.Errorf("summary is %d characters; kubectl describe cuts annotations at 140: %q", len(s), s)
	}
}
