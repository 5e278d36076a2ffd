package mutating

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/internal/stats"
)

// staticRequests is the RequestsSource seam: the cache reads are exercised
// on the local control plane; here the tests choose the recommendations.
type staticRequests struct {
	recs    *v1alpha1.RequestsStatus
	lrs     []corev1.LimitRange
	err     error
	calls   int
	version string
}

func (s *staticRequests) Recommendations(context.Context, WorkloadKey) (*v1alpha1.RequestsStatus, string, error) {
	s.calls++
	return s.recs, s.version, s.err
}

func (s *staticRequests) LimitRanges(context.Context, string) ([]corev1.LimitRange, string, error) {
	return s.lrs, "", nil
}

func rl(cpu, mem string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		l[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return l
}

// learned is what controllers/requests records for app and the pinned
// sidecar.
func learned() *v1alpha1.RequestsStatus {
	return &v1alpha1.RequestsStatus{Containers: []v1alpha1.ContainerRecommendation{
		{Name: "app", Mode: "Auto", Target: rl("60m", "332Mi"), LowerBound: rl("50m", "300Mi"), UpperBound: rl("200m", "600Mi"),
			CPUReason: "p99 of CPU over 8.0 days +0%", MemoryReason: "p99 of hourly memory peaks over 8.0 days +5%"},
		{Name: "sidecar", Mode: "Off", CPUReason: "pinned", MemoryReason: "pinned"},
	}}
}

// requestsPod has app (requests 1 cpu / 1Gi, limits twice that) and a
// sidecar (100m / 64Mi).
func requestsPod() *corev1.Pod {
	p := basePod()
	p.Spec.Containers = []corev1.Container{
		{Name: "app", Image: "app", Resources: corev1.ResourceRequirements{Requests: rl("1", "1Gi"), Limits: rl("2", "2Gi")}},
		{Name: "sidecar", Image: "sidecar", Resources: corev1.ResourceRequirements{Requests: rl("100m", "64Mi")}},
	}
	return p
}

func requestsHandler(mode string, src *staticRequests, extra ...string) *Handler {
	a := map[string]string{config.AnnotationRequests: "auto", config.AnnotationMode: mode, config.AnnotationRequestsPinned: "sidecar"}
	for i := 0; i+1 < len(extra); i += 2 {
		a[extra[i]] = extra[i+1]
	}
	h := newTestHandler(a)
	h.Requests = src
	return h
}

func resources(p *corev1.Pod, name string) corev1.ResourceRequirements {
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return c.Resources
		}
	}
	return corev1.ResourceRequirements{}
}

func sameQuantity(t *testing.T, what string, l corev1.ResourceList, r corev1.ResourceName, want string) {
	t.Helper()
	got := l[r]
	if got.Cmp(resource.MustParse(want)) != 0 {
		t.Errorf("%s %s = %s, want %s", what, r, got.String(), want)
	}
}

// Enforce mode stamps the target on app, scales its limits with it, leaves
// the pinned sidecar alone, and says so per container, with the reasons.
func TestRequestsEnforceStampsTarget(t *testing.T) {
	h := requestsHandler("enforce", &staticRequests{recs: learned()})
	req := podRequest(t, "uid-1", requestsPod())
	pod := applied(t, req, h.Handle(context.Background(), req))
	app := resources(pod, "app")
	sameQuantity(t, "app request", app.Requests, corev1.ResourceCPU, "60m")
	sameQuantity(t, "app request", app.Requests, corev1.ResourceMemory, "332Mi")
	sameQuantity(t, "app limit", app.Limits, corev1.ResourceCPU, "120m")
	sameQuantity(t, "app limit", app.Limits, corev1.ResourceMemory, "664Mi")
	side := resources(pod, "sidecar")
	sameQuantity(t, "sidecar request", side.Requests, corev1.ResourceCPU, "100m")
	sameQuantity(t, "sidecar request", side.Requests, corev1.ResourceMemory, "64Mi")
	ann := pod.Annotations[config.AnnotationResources]
	for _, want := range []string{"app: cpu 1→60m (p99 of CPU over 8.0 days +0%; limit 2→120m)",
		"memory 1Gi→332Mi (p99 of hourly memory peaks over 8.0 days +5%; limit 2Gi→664Mi)",
		"sidecar: pinned (trimtab.dev/requests-pinned), left as written"} {
		if !strings.Contains(ann, want) {
			t.Errorf("%s = %q, want it to contain %q", config.AnnotationResources, ann, want)
		}
	}
	d, ok := decisionOf(pod.Annotations)
	if !ok || !strings.Contains(d.String(), "requests: app: cpu 1→60m") {
		t.Errorf("decision %q: want the Event's words to list the requests", d.String())
	}
	if len(pod.Annotations[config.AnnotationDecision]) > 140 {
		t.Errorf("decision summary grew to %d characters", len(pod.Annotations[config.AnnotationDecision]))
	}
}

// Shadow mode changes no container and says what would have been stamped.
func TestRequestsShadowOnlyDescribes(t *testing.T) {
	h := requestsHandler("shadow", &staticRequests{recs: learned()})
	req := podRequest(t, "uid-1", requestsPod())
	resp := h.Handle(context.Background(), req)
	for _, op := range resp.Patches {
		if strings.HasPrefix(op.Path, "/spec/containers") {
			t.Errorf("shadow mode patched %s", op.Path)
		}
	}
	pod := applied(t, req, resp)
	sameQuantity(t, "app request", resources(pod, "app").Requests, corev1.ResourceMemory, "1Gi")
	if ann := pod.Annotations[config.AnnotationResources]; !strings.HasPrefix(ann, "shadow, not applied: would set app: cpu 1→60m") {
		t.Errorf("%s = %q: want what would have been set", config.AnnotationResources, ann)
	}
}

// The policy's bounds and the namespace's LimitRanges hold, each named.
func TestRequestsBoundsAndLimitRanges(t *testing.T) {
	lr := corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
		{Type: corev1.LimitTypeContainer, Min: rl("100m", "")}}}}
	h := requestsHandler("enforce", &staticRequests{recs: learned(), lrs: []corev1.LimitRange{lr}},
		config.AnnotationRequestsMin, "memory=400Mi", config.AnnotationLimits, "keep")
	req := podRequest(t, "uid-1", requestsPod())
	pod := applied(t, req, h.Handle(context.Background(), req))
	app := resources(pod, "app")
	sameQuantity(t, "app request", app.Requests, corev1.ResourceCPU, "100m")
	sameQuantity(t, "app request", app.Requests, corev1.ResourceMemory, "400Mi")
	sameQuantity(t, "app limit (keep)", app.Limits, corev1.ResourceMemory, "2Gi")
	ann := pod.Annotations[config.AnnotationResources]
	for _, want := range []string{"raised to LimitRange limits's min 100m", "raised to trimtab.dev/requests-min 400Mi"} {
		if !strings.Contains(ann, want) {
			t.Errorf("%s = %q, want %q", config.AnnotationResources, ann, want)
		}
	}
}

// Nothing is stamped without a recommendation, when reading fails, or when
// the stamped pod would break a Pod LimitRange; requests: off never reads.
func TestRequestsLeftAsWritten(t *testing.T) {
	podMin := corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "pods"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
		{Type: corev1.LimitTypePod, Min: rl("", "1Gi")}}}}
	for _, tc := range []struct {
		name string
		src  *staticRequests
		want string
	}{
		{"no recommendation", &staticRequests{}, "no recommendation yet"},
		{"read error", &staticRequests{err: errors.New("informer not synced")}, "requests left as written: informer not synced"},
		{"pod LimitRange", &staticRequests{recs: learned(), lrs: []corev1.LimitRange{podMin}}, "under LimitRange pods's pod min 1Gi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := requestsHandler("enforce", tc.src)
			req := podRequest(t, "uid-1", requestsPod())
			resp := h.Handle(context.Background(), req)
			pod := applied(t, req, resp)
			sameQuantity(t, "app request", resources(pod, "app").Requests, corev1.ResourceMemory, "1Gi")
			if ann := pod.Annotations[config.AnnotationResources]; !strings.Contains(ann, tc.want) {
				t.Errorf("%s = %q, want %q", config.AnnotationResources, ann, tc.want)
			}
		})
	}
	src := &staticRequests{recs: learned()}
	h := newTestHandler(map[string]string{config.AnnotationMode: "enforce"})
	h.Requests = src
	req := podRequest(t, "uid-2", requestsPod())
	pod := applied(t, req, h.Handle(context.Background(), req))
	if _, ok := pod.Annotations[config.AnnotationResources]; ok || src.calls != 0 {
		t.Errorf("requests off: annotation %q, %d reads; want neither", pod.Annotations[config.AnnotationResources], src.calls)
	}
}

// BenchmarkHandleRequests is BenchmarkHandle with the requests step on:
// a workload with requests: auto whose two containers get the learned
// target (one stamped, one pinned).
func BenchmarkHandleRequests(b *testing.B) {
	h := requestsHandler("enforce", &staticRequests{recs: learned()}, config.AnnotationCapacity, "auto", config.AnnotationOnDemandBase, "2")
	const pods = 20
	reqs := make([]admission.Request, pods)
	for i := range reqs {
		id := fmt.Sprint("uid-", i)
		reqs[i] = podRequest(b, id, requestsPod())
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
		if !resp.Allowed || len(resp.Patches) == 0 {
			b.Fatal("denied or unpatched")
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reviews/s")
	p99, _ := stats.Quantile(lat, 0.99)
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
}

// A workload's next pod reuses what was stamped on the previous one only
// while the recommendations, the LimitRanges, the policy and the
// containers are the same.
func TestRequestsMemoFollowsChanges(t *testing.T) {
	src := &staticRequests{recs: learned(), version: "1"}
	h := requestsHandler("enforce", src)
	admit := func(uid string, p *corev1.Pod) corev1.ResourceRequirements {
		req := podRequest(t, uid, p)
		return resources(applied(t, req, h.Handle(context.Background(), req)), "app")
	}
	sameQuantity(t, "first pod", admit("a", requestsPod()).Requests, corev1.ResourceMemory, "332Mi")
	next := learned()
	next.Containers[0].Target = rl("60m", "500Mi")
	src.recs, src.version = next, "2"
	sameQuantity(t, "after a new recommendation", admit("b", requestsPod()).Requests, corev1.ResourceMemory, "500Mi")
	p := requestsPod()
	p.Spec.Containers[0].Resources.Limits = nil
	if got := admit("c", p); got.Limits != nil {
		t.Errorf("a pod without limits got limits %v from the previous pod's stamp", got.Limits)
	}
	h.Resolver = staticResolver{w: Workload{Key: web, Annotations: map[string]string{config.AnnotationRequests: "auto",
		config.AnnotationMode: "enforce", config.AnnotationRequestsMax: "memory=400Mi"}}, ok: true}
	sameQuantity(t, "after a policy change", admit("d", requestsPod()).Requests, corev1.ResourceMemory, "400Mi")
}
