package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/test/loadexporter"
)

// The decision controller end to end: the real manager on the local control
// plane (its controller-manager runs the ReplicaSets and the HPA
// controller), the real Prometheus, and a load exporter replaying a
// recorded trace with a week of history backfilled.

var crdOnce sync.Once

// installCRDs installs the chart's generated CRDs into the local cluster.
func installCRDs(t testing.TB, cl *cluster.Cluster) {
	t.Helper()
	var err error
	crdOnce.Do(func() {
		cfg, e := cl.RESTConfig()
		if e != nil {
			err = e
			return
		}
		_, err = envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: []string{"../../charts/trimtab/files/crds"}, ErrorIfPathMissing: true})
	})
	if err != nil {
		t.Fatalf("installing trimtab's CRDs: %v", err)
	}
}

// decisionManager starts a manager running the decision controller for the
// namespaces routed to it, reading Prometheus at prometheus.
func decisionManager(t *testing.T, prometheus string, opts ...func(*manager.Options)) *testManager {
	t.Helper()
	installCRDs(t, cluster.Start(t))
	return startManager(t, func(o *manager.Options) {
		o.Decisions = true
		o.Prometheus.Address = prometheus
		o.Prometheus.Timeout = 5 * time.Second
		for _, f := range opts {
			f(o)
		}
	})
}

// routedTo narrows a manager's decision controller to m's namespaces.
func routedTo(m *testManager) func(*manager.Options) {
	return func(o *manager.Options) {
		o.DecisionNamespaces = labels.SelectorFromSet(labels.Set{runLabel: m.name})
	}
}

func (e *env) client(t *testing.T) client.Client {
	t.Helper()
	cfg, err := cluster.Start(t).RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	s := testScheme()
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) decision(t *testing.T, c client.Client, name string) *v1alpha1.Decision {
	t.Helper()
	var d v1alpha1.Decision
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: e.namespace, Name: name}, &d); err != nil {
		return nil
	}
	return &d
}

func (e *env) specReplicas(t *testing.T, name string) int32 {
	t.Helper()
	d, err := e.cs.AppsV1().Deployments(e.namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return *d.Spec.Replicas
}

func cond(d *v1alpha1.Decision, typ string) string {
	if d == nil {
		return ""
	}
	if c := meta.FindStatusCondition(d.Status.Conditions, typ); c != nil {
		return string(c.Status) + "/" + c.Reason
	}
	return ""
}

func policy(pairs ...string) map[string]string {
	a := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		a[pairs[i]] = pairs[i+1]
	}
	return a
}

// (b) A constant load of 500 at 50 a pod, bounds 2..20, converges to 10
// replicas through the scale subresource, and `kubectl get decisions`
// shows it; with the load cut to 150 it scales back in to 3 after the
// HPA's 5-minute scale-down window. (c) A guard over its limit keeps
// another workload from scaling out.
func TestDecisionsConstantLoadAndGuard(t *testing.T) {
	t.Parallel()
	base, err := cluster.Start(t).StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := decisionManager(t, base)
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	for _, d := range []*appsv1.Deployment{
		deployment("steady", 2, policy(config.AnnotationMetric, "vector(500)", config.AnnotationTargetPerPod, "50",
			config.AnnotationReplicas, "2..20", config.AnnotationMode, "enforce")),
		deployment("guarded", 2, policy(config.AnnotationMetric, "vector(500)", config.AnnotationTargetPerPod, "50",
			config.AnnotationReplicas, "2..20", config.AnnotationMode, "enforce",
			config.AnnotationDownstream, "vector(0.4)", config.AnnotationDownstreamMax, "0.25")),
	} {
		if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	eventually(t, 2*time.Minute, func() error {
		if got := e.specReplicas(t, "steady"); got != 10 {
			return fmt.Errorf("steady has %d replicas, want 10", got)
		}
		return nil
	})
	t.Logf("vector(500) at 50 a pod: 2 → 10 replicas in %.0fs", time.Since(start).Seconds())
	eventually(t, 30*time.Second, func() error {
		d := e.decision(t, c, "steady")
		if d == nil || d.Status.DesiredReplicas != 10 || d.Status.CurrentReplicas != 10 || cond(d, v1alpha1.SignalsFresh) != "True/SignalsRead" || d.Status.Replicas == nil {
			return fmt.Errorf("steady's Decision: %+v", d)
		}
		return nil
	})
	out, err := kubectl(t, "get", "decisions", "-n", e.namespace)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kubectl get decisions:\n%s", out)
	if !strings.Contains(out, "DESIRED") || !strings.Contains(out, "steady") {
		t.Errorf("kubectl get decisions printed:\n%s", out)
	}
	g := e.decision(t, c, "guarded")
	if got := e.specReplicas(t, "guarded"); got != 2 || cond(g, v1alpha1.ScalingLimited) != "True/GuardBlocked" {
		t.Errorf("guarded: %d replicas, ScalingLimited %s; want 2 held by the guard", got, cond(g, v1alpha1.ScalingLimited))
	}

	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"vector(150)"}}}`, config.AnnotationMetric)
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Patch(ctx, "steady", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	eventually(t, 8*time.Minute, func() error {
		if got := e.specReplicas(t, "steady"); got != 3 {
			return fmt.Errorf("%d replicas, want 3", got)
		}
		return nil
	})
	t.Logf("scaled in 10 → 3 %.1f minutes after the load fell to 150 (the HPA's 5-minute scale-down window)", time.Since(cut).Minutes())
}

// switchableProxy forwards to Prometheus until it is stopped: stopping it
// closes its listener, so the manager's requests are refused as if
// Prometheus had gone; starting it again listens on the same address.
// rejectRange, when set, answers range queries 503, so a warm start from
// Prometheus' history is impossible.
type switchableProxy struct {
	addr        string
	handler     http.Handler
	mu          sync.Mutex
	srv         *http.Server
	rejectRange atomic.Bool
}

func newProxy(t *testing.T, target string) *switchableProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &switchableProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.rejectRange.Load() && strings.HasSuffix(r.URL.Path, "/query_range") {
			http.Error(w, "range queries refused by the test", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *switchableProxy) url() string { return "http://" + p.addr }

func (p *switchableProxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.srv = &http.Server{Handler: p.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
}

func (p *switchableProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		_ = p.srv.Close()
		p.srv = nil
	}
}

func (p *switchableProxy) start(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// (e) Prometheus gone mid-run: the Decision holds (SignalsFresh=False,
// nothing scaled down although the load the workload had would now scale
// it in), and resumes when it is back.
func TestDecisionsHoldThroughAPrometheusOutage(t *testing.T) {
	t.Parallel()
	base, err := cluster.Start(t).StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newProxy(t, base)
	m := decisionManager(t, proxy.url())
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	d := deployment("web", 2, policy(config.AnnotationMetric, "vector(500)", config.AnnotationTargetPerPod, "50",
		config.AnnotationReplicas, "2..20", config.AnnotationMode, "enforce"))
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, func() error {
		if got := e.specReplicas(t, "web"); got != 10 {
			return fmt.Errorf("%d replicas, want 10", got)
		}
		return nil
	})
	proxy.stop()
	stopped := time.Now()
	eventually(t, time.Minute, func() error {
		if got := cond(e.decision(t, c, "web"), v1alpha1.SignalsFresh); got != "False/PrometheusUnavailable" {
			return fmt.Errorf("SignalsFresh %s", got)
		}
		return nil
	})
	t.Logf("SignalsFresh=False %.0fs after Prometheus went away", time.Since(stopped).Seconds())
	// Hold for a while: nothing may scale down on missing data.
	for range 6 {
		time.Sleep(10 * time.Second)
		if got := e.specReplicas(t, "web"); got != 10 {
			t.Fatalf("replicas %d during the outage, want 10 held", got)
		}
	}
	proxy.start(t)
	eventually(t, time.Minute, func() error {
		if got := cond(e.decision(t, c, "web"), v1alpha1.SignalsFresh); got != "True/SignalsRead" {
			return fmt.Errorf("SignalsFresh %s", got)
		}
		return nil
	})
	evs, err := e.cs.EventsV1().Events(e.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, ev := range evs.Items {
		reasons = append(reasons, ev.Reason)
	}
	for _, want := range []string{"SignalsMissing", "SignalsRestored"} {
		if !strings.Contains(strings.Join(reasons, ","), want) {
			t.Errorf("Events %v: no %s", reasons, want)
		}
	}
}

// recordedTrace is the recorded synth-smooth trace (14 days, a gentle
// daily cycle).
func recordedTrace(t *testing.T) replicasim.Trace {
	t.Helper()
	f, err := os.Open("../testdata/traffic/synth-smooth.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := replicasim.ParseTrace(f, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// replayedLoad serves tr as trimtab_test_load for workload, aligned so its
// daily ramp (at rampAt on the trace's clock; 0: its steepest hourly rise)
// begins lead after now, with the week before now backfilled into the
// cluster's Prometheus; it returns the replay, the PromQL selector of the
// series, and Prometheus' base URL.
func replayedLoad(t *testing.T, tr replicasim.Trace, rampAt time.Duration, workload string, lead time.Duration) (loadexporter.Replay, string, string) {
	t.Helper()
	cl := cluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now().Truncate(time.Second)
	if rampAt == 0 {
		var err error
		if rampAt, err = loadexporter.RampTimeOfDay(tr); err != nil {
			t.Fatal(err)
		}
	}
	r, err := loadexporter.Align(tr, start, rampAt, lead, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	series := []loadexporter.Series{{Labels: map[string]string{"workload": workload}, Replay: r}}
	coll, err := loadexporter.NewCollector("trimtab_test_load", "Replayed load.", series, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prom.NewRegistry()
	reg.MustRegister(coll)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	target := "http://" + ln.Addr().String() + "/metrics"
	scrape, err := cluster.ScrapeLabels(target)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "history.om")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadexporter.WriteOpenMetrics(out, "trimtab_test_load", "Replayed load.", series, scrape, start.Add(-7*24*time.Hour), start); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cl.BackfillPrometheus(ctx, file); err != nil {
		t.Fatal(err)
	}
	base, err := cl.StartPrometheus(ctx, []string{target})
	if err != nil {
		t.Fatal(err)
	}
	return r, fmt.Sprintf("sum(trimtab_test_load{workload=%q})", workload), base
}

// (a) A workload whose load has a daily ramp scales out before the ramp's
// load crosses its capacity, from the forecast its warm start learned from
// a week of history (its scale-in is TestDecisionsConstantLoadAndGuard's).
// (f) A restarted manager resumes the forecast from the checkpoint, with
// Prometheus refusing the history it would otherwise warm-start from.
func TestDecisionsForecastAheadOfARamp(t *testing.T) {
	t.Parallel()
	workload := "ramp-" + strings.ToLower(fmt.Sprint(time.Now().UnixNano()%1e9))
	const lead = 4 * time.Minute
	r, load, base := replayedLoad(t, loadexporter.OpeningTrace(10), loadexporter.OpeningRamp, workload, lead)
	proxy := newProxy(t, base)
	m := decisionManager(t, proxy.url(), func(o *manager.Options) { o.CheckpointEvery = 20 * time.Second })
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()

	// 50 a pod at the target: the 200 before the ramp needs 4 pods, 5 with
	// the forecast's band; trimtab settles there first.
	const perPod = 50.0
	d := deployment("web", 5, policy(config.AnnotationMetric, load, config.AnnotationTargetPerPod, fmt.Sprint(perPod),
		config.AnnotationReplicas, "2..100", config.AnnotationMode, "enforce"))
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(45 * time.Second) // three syncs: settled on the pre-ramp load
	start := e.specReplicas(t, "web")
	// When does the replayed load cross those replicas' capacity at 100%
	// (one pod serves perPod / 0.7)?
	capacity := float64(start) * perPod / 0.7
	var cross time.Time
	for at := time.Now(); at.Before(time.Now().Add(time.Hour)); at = at.Add(5 * time.Second) {
		if v, ok := r.Value(at); ok && v > capacity {
			cross = at
			break
		}
	}
	if cross.IsZero() {
		t.Fatalf("the replayed ramp never crosses %d pods' capacity %.0f within an hour", start, capacity)
	}
	var scaledOut time.Time
	var forecast string
	eventually(t, time.Until(cross)+time.Minute, func() error {
		if got := e.specReplicas(t, "web"); got <= start {
			return fmt.Errorf("%d replicas, not scaled out yet", got)
		}
		scaledOut = time.Now()
		if dec := e.decision(t, c, "web"); dec != nil && dec.Status.Forecast != nil {
			forecast = fmt.Sprintf("%s (%s, upper %s %s at %s)", dec.Status.Summary, dec.Status.Forecast.Method, dec.Status.Forecast.Upper, dec.Status.Forecast.Quantile, dec.Status.Forecast.Time.Format("15:04"))
		}
		return nil
	})
	t.Logf("scaled out at %s, %.1f minutes before the load crossed %d pods' capacity (%s); %s",
		scaledOut.Format("15:04:05"), cross.Sub(scaledOut).Minutes(), start, cross.Format("15:04"), forecast)
	if !scaledOut.Before(cross) || e.decision(t, c, "web").Status.Replicas.Winner != "proactive" {
		t.Errorf("scaled out at %s, after the load crossed capacity at %s", scaledOut, cross)
	}

	// (f) The checkpoint: stop the manager, start another whose Prometheus
	// refuses range queries; it has the forecast at once.
	eventually(t, time.Minute, func() error {
		var cp v1alpha1.DecisionCheckpoint
		return c.Get(ctx, types.NamespacedName{Namespace: e.namespace, Name: "web"}, &cp)
	})
	m.stop()
	proxy.rejectRange.Store(true)
	restarted := time.Now()
	decisionManager(t, proxy.url(), routedTo(m))
	eventually(t, time.Minute, func() error {
		dec := e.decision(t, c, "web")
		if dec == nil || dec.Status.LastSignalTime == nil || dec.Status.LastSignalTime.Time.Before(restarted) {
			return fmt.Errorf("no decision from the restarted manager yet")
		}
		if dec.Status.Replicas == nil || dec.Status.Replicas.Proactive == nil {
			return fmt.Errorf("the restarted manager has no forecast: %+v", dec.Status.Replicas)
		}
		return nil
	})
	t.Logf("a restarted manager forecast again %.0fs after its start, from the checkpoint (range queries refused)", time.Since(restarted).Seconds())
}

// (d) Shadow beside a real HPA: the HPA controller (reading the same load
// through prometheus-adapter's external metrics API) scales the workload;
// trimtab writes nothing to it and shows both on the Decision.
func TestDecisionsShadowBesideARealHPA(t *testing.T) {
	t.Parallel()
	workload := "shadow-" + strings.ToLower(fmt.Sprint(time.Now().UnixNano()%1e9))
	_, load, base := replayedLoad(t, recordedTrace(t), 0, workload, 30*time.Minute)
	cl := cluster.Start(t)
	if err := cl.StartPrometheusAdapter(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	m := decisionManager(t, base)
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	d := deployment("web", 2, policy(config.AnnotationMetric, load, config.AnnotationTargetPerPod, "50",
		config.AnnotationReplicas, "1..50", config.AnnotationMode, "shadow"))
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr.To(int32(1)), MaxReplicas: 50,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "trimtab_test_load", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"workload": workload}}},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resourceMust("50"))},
			}}},
		},
	}
	if _, err := e.cs.AutoscalingV2().HorizontalPodAutoscalers(e.namespace).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var cmp *v1alpha1.HPAComparison
	eventually(t, 3*time.Minute, func() error {
		dec := e.decision(t, c, "web")
		if dec == nil || dec.Status.HPA == nil || dec.Status.HPA.DesiredReplicas == 0 {
			return fmt.Errorf("no comparison with the HPA yet")
		}
		cmp = dec.Status.HPA
		return nil
	})
	dec := e.decision(t, c, "web")
	t.Logf("shadow beside the HPA: trimtab wants %d, the HPA %d; over %s: replica-minutes %d vs %d, minutes over target %d vs %d",
		dec.Status.DesiredReplicas, cmp.DesiredReplicas, cmp.Window.Duration, cmp.TrimtabReplicaMinutes, cmp.HPAReplicaMinutes, cmp.TrimtabMinutesOverTarget, cmp.HPAMinutesOverTarget)
	evs, err := e.cs.EventsV1().Events(e.namespace).List(ctx, metav1.ListOptions{FieldSelector: "regarding.kind=Deployment"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs.Items {
		if ev.Reason == "TrimtabScaled" {
			t.Errorf("trimtab scaled a workload in shadow mode: %s", ev.Note)
		}
	}
	if cond(dec, v1alpha1.AbleToScale) != "True/ShadowMode" {
		t.Errorf("AbleToScale %s, want True/ShadowMode", cond(dec, v1alpha1.AbleToScale))
	}
}

// (g) Two manager replicas: only the elected one decides and scales; when
// it stops, the other takes over.
func TestDecisionsOnlyTheLeaderScales(t *testing.T) {
	t.Parallel()
	base, err := cluster.Start(t).StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lease := "trimtab-e2e-" + strings.ToLower(fmt.Sprint(time.Now().UnixNano()%1e9))
	elect := func(o *manager.Options) {
		o.LeaderElect, o.LeaderElectionNamespace, o.LeaderElectionID = true, "default", lease
	}
	a := decisionManager(t, base, elect)
	e := newEnv(t, a.optedIn())
	b := decisionManager(t, base, elect, routedTo(a))
	_ = b
	ctx := context.Background()
	d := deployment("web", 2, policy(config.AnnotationMetric, "vector(500)", config.AnnotationTargetPerPod, "50",
		config.AnnotationReplicas, "2..40", config.AnnotationMode, "enforce"))
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, func() error {
		if got := e.specReplicas(t, "web"); got != 10 {
			return fmt.Errorf("%d replicas, want 10", got)
		}
		return nil
	})
	a.stop() // the leader, or the follower: either way one manager is left
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"vector(800)"}}}`, config.AnnotationMetric)
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Patch(ctx, "web", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, func() error {
		if got := e.specReplicas(t, "web"); got != 16 {
			return fmt.Errorf("%d replicas, want 16 from the manager left", got)
		}
		return nil
	})
	evs, err := e.cs.EventsV1().Events(e.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range evs.Items {
		if ev.Reason == "TrimtabScaled" {
			from := strings.SplitN(ev.Note, ":", 2)[0]
			seen[from] += int(max(ev.DeprecatedCount, 1))
		}
	}
	for change, n := range seen {
		if n != 1 {
			t.Errorf("%q happened %d times: two managers scaled", change, n)
		}
	}
	t.Logf("scale changes: %v", seen)
}

func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}
