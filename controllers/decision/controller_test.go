package decision

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
	"github.com/trimtab-dev/trimtab/signals/prometheus/fake"
	"github.com/trimtab-dev/trimtab/test/apitest"
)

// The controller runs against a real apiserver (envtest: kube-apiserver and
// etcd from the tool cache, with trimtab's CRDs), a fake Prometheus and a
// fake clock. There is no controller-manager: a Deployment's replicas are
// what the scale subresource sets.

// TestMain stops the apiserver the tests started, so no etcd or
// kube-apiserver outlives the test binary.
func TestMain(m *testing.M) { apitest.Main(m) }

func apiserver(t *testing.T) client.Client {
	_, c := apitest.Shared(t)
	return c
}

// harness is one test's controller, namespace and fakes.
type harness struct {
	t     *testing.T
	c     client.Client
	ns    string
	prom  *fake.Reader
	clock *clocktesting.FakeClock
	ctrl  *Controller
	rec   *events.FakeRecorder
}

func newHarness(t *testing.T) *harness {
	c := apiserver(t)
	ns := "t-" + strings.ToLower(rand.String(6))
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{config.NamespaceLabel: "true"}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}) })
	h := &harness{t: t, c: c, ns: ns, prom: &fake.Reader{}, clock: clocktesting.NewFakeClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)), rec: events.NewFakeRecorder(100)}
	h.ctrl = h.newController()
	return h
}

// newController is a controller with fresh memory on the same apiserver,
// Prometheus and clock: a restarted manager.
func (h *harness) newController() *Controller {
	return &Controller{Client: namespaced{h.c, h.ns}, Signals: h.prom, Clock: h.clock, Recorder: h.rec, Settings: config.DefaultSettings()}
}

// namespaced keeps a test's controller to its own namespace: other tests'
// namespaces live in the same apiserver.
type namespaced struct {
	client.Client
	ns string
}

func (n namespaced) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*corev1.NamespaceList); ok {
		if err := n.Client.List(ctx, list, opts...); err != nil {
			return err
		}
		l := list.(*corev1.NamespaceList)
		var keep []corev1.Namespace
		for _, item := range l.Items {
			if item.Name == n.ns {
				keep = append(keep, item)
			}
		}
		l.Items = keep
		return nil
	}
	return n.Client.List(ctx, list, append(opts, client.InNamespace(n.ns))...)
}

func (h *harness) deployment(name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	h.t.Helper()
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}},
			},
		},
	}
	if err := h.c.Create(context.Background(), d); err != nil {
		h.t.Fatal(err)
	}
	return d
}

// sync runs one pass after stepping the clock by a period.
func (h *harness) sync() SyncStats {
	h.t.Helper()
	h.clock.Step(DefaultPeriod)
	st, err := h.ctrl.Sync(context.Background())
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return st
}

func (h *harness) replicas(name string) int32 {
	h.t.Helper()
	var d appsv1.Deployment
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, &d); err != nil {
		h.t.Fatal(err)
	}
	return *d.Spec.Replicas
}

func (h *harness) decision(name string) *v1alpha1.Decision {
	h.t.Helper()
	var d v1alpha1.Decision
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, &d); err != nil {
		h.t.Fatal(err)
	}
	return &d
}

func condition(d *v1alpha1.Decision, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(d.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e := <-h.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func metricPolicy(expr, perPod, bounds, mode string) map[string]string {
	return map[string]string{config.AnnotationMetric: expr, config.AnnotationTargetPerPod: perPod,
		config.AnnotationReplicas: bounds, config.AnnotationMode: mode}
}

// A constant load of 500 at 50 a pod, bounds 2..20, converges to 10 pods
// through the scale subresource, with the reason and conditions recorded;
// with nothing changing, the status is not written again.
func TestEnforceConvergesOnConstantLoad(t *testing.T) {
	h := newHarness(t)
	h.deployment("web", 2, metricPolicy("vector(500)", "50", "2..20", "enforce"))
	h.prom.Set("vector(500)", 500)
	for range 8 {
		h.sync()
	}
	if got := h.replicas("web"); got != 10 {
		t.Fatalf("replicas = %d, want 10 (500 / 50)", got)
	}
	d := h.decision("web")
	s := d.Status
	if s.Mode != "enforce" || s.DesiredReplicas != 10 || s.CurrentReplicas != 10 || s.Replicas == nil || s.Replicas.Winner != "reactive" || s.LastScaleTime == nil {
		t.Errorf("status = %+v", s)
	}
	for typ, want := range map[string]metav1.ConditionStatus{v1alpha1.AbleToScale: "True", v1alpha1.ScalingActive: "True", v1alpha1.SignalsFresh: "True"} {
		if c := condition(d, typ); c.Status != want {
			t.Errorf("%s = %s (%s: %s), want %s", typ, c.Status, c.Reason, c.Message, want)
		}
	}
	if d.Spec.WorkloadRef.Kind != "Deployment" || len(d.OwnerReferences) != 1 || d.OwnerReferences[0].Name != "web" {
		t.Errorf("spec %+v, owners %+v: want the Deployment web, owning it", d.Spec, d.OwnerReferences)
	}
	if !strings.Contains(strings.Join(h.events(), "\n"), "Scaled") {
		t.Error("no Scaled event")
	}
	st := h.sync()
	if st.StatusWrites != 0 || st.Scales != 0 {
		t.Errorf("steady state: %d status writes, %d scales; want none", st.StatusWrites, st.Scales)
	}
	if c := h.prom.Calls(); c[len(c)-1].Method != "Instant" || len(c[len(c)-1].Exprs) != 1 {
		t.Errorf("last Prometheus call %+v: want one batched instant query", c[len(c)-1])
	}
}

// Prometheus going away holds the replicas (never a scale-down on missing
// data), says so on the Decision and in an Event, and resumes after.
func TestMissingSignalsHold(t *testing.T) {
	h := newHarness(t)
	h.deployment("web", 4, metricPolicy("sum(rate(orders_total[1m]))", "50", "2..20", "enforce"))
	h.prom.Set("sum(rate(orders_total[1m]))", 500)
	for range 6 {
		h.sync()
	}
	if got := h.replicas("web"); got != 10 {
		t.Fatalf("replicas = %d, want 10", got)
	}
	h.prom.Set("sum(rate(orders_total[1m]))", 0) // would scale down if read
	for range 4 {
		h.prom.FailNext(nil)
		h.sync()
	}
	d := h.decision("web")
	if got := h.replicas("web"); got != 10 {
		t.Errorf("replicas = %d during the outage, want 10 held", got)
	}
	if c := condition(d, v1alpha1.SignalsFresh); c.Status != "False" || c.Reason != "PrometheusUnavailable" {
		t.Errorf("SignalsFresh = %+v", c)
	}
	if !strings.HasPrefix(d.Status.Summary, "holding 10") {
		t.Errorf("summary %q", d.Status.Summary)
	}
	ev := strings.Join(h.events(), "\n")
	if strings.Count(ev, "SignalsMissing") != 1 {
		t.Errorf("events %q: want one SignalsMissing for the outage", ev)
	}
	h.prom.Set("sum(rate(orders_total[1m]))", 500)
	h.sync()
	if c := condition(h.decision("web"), v1alpha1.SignalsFresh); c.Status != "True" {
		t.Errorf("after the outage SignalsFresh = %+v", c)
	}
	if !strings.Contains(strings.Join(h.events(), "\n"), "SignalsRestored") {
		t.Error("no SignalsRestored event")
	}
}

// A bad expression and a many-series result are reported on the Decision,
// naming the expression, and hold; other workloads decide as usual.
func TestBadExpressionHolds(t *testing.T) {
	h := newHarness(t)
	h.deployment("bad", 3, metricPolicy("sum(rate(x[1m])) / on(a) rate(z[1m])", "50", "2..20", "enforce"))
	h.deployment("many", 3, metricPolicy("rate(y[1m])", "50", "2..20", "enforce"))
	h.deployment("good", 3, metricPolicy("vector(200)", "50", "2..20", "enforce"))
	h.prom.Errs = map[string]error{
		"sum(rate(x[1m])) / on(a) rate(z[1m])": fmt.Errorf("%w: execution: many-to-many matching not allowed", prometheus.ErrBadExpression),
		"rate(y[1m])":                          fmt.Errorf("%w: 3 series", prometheus.ErrManySeries),
	}
	h.prom.Set("vector(200)", 200)
	for range 4 {
		h.sync()
	}
	for name, reason := range map[string]string{"bad": "BadExpression", "many": "ManySeries"} {
		c := condition(h.decision(name), v1alpha1.SignalsFresh)
		if c.Reason != reason || !strings.Contains(c.Message, "rate(") || h.replicas(name) != 3 {
			t.Errorf("%s: SignalsFresh %+v, replicas %d; want %s naming the expression, 3 held", name, c, h.replicas(name), reason)
		}
	}
	if got := h.replicas("good"); got != 4 {
		t.Errorf("good: replicas %d, want 4 (200 / 50)", got)
	}
}

// Enforce beside an HPA refuses to scale and names it; shadow beside it
// writes nothing to the workload and compares the two.
func TestBesideAnHPA(t *testing.T) {
	h := newHarness(t)
	h.deployment("enf", 3, metricPolicy("vector(500)", "50", "2..20", "enforce"))
	h.deployment("sha", 3, metricPolicy("vector(500)", "50", "2..20", "shadow"))
	h.prom.Set("vector(500)", 500)
	h.ctrl.StatusRefresh = DefaultPeriod // the sums are written on the refresh
	for _, target := range []string{"enf", "sha"} {
		hpa := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: target + "-hpa"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 20,
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target}},
		}
		if err := h.c.Create(context.Background(), hpa); err != nil {
			t.Fatal(err)
		}
		hpa.Status = autoscalingv2.HorizontalPodAutoscalerStatus{DesiredReplicas: 7, CurrentReplicas: 3}
		if err := h.c.Status().Update(context.Background(), hpa); err != nil {
			t.Fatal(err)
		}
	}
	for range 8 {
		h.sync()
	}
	if h.replicas("enf") != 3 || h.replicas("sha") != 3 {
		t.Fatalf("replicas enf %d, sha %d: trimtab scaled beside an HPA", h.replicas("enf"), h.replicas("sha"))
	}
	if c := condition(h.decision("enf"), v1alpha1.AbleToScale); c.Status != "False" || c.Reason != "HPAConflict" || !strings.Contains(c.Message, "enf-hpa") {
		t.Errorf("enforce beside an HPA: AbleToScale %+v", c)
	}
	cmp := h.decision("sha").Status.HPA
	// 8 syncs of 15 s: trimtab's shadow goes 3 → 7 (the HPA's scale-up
	// rate limit, +4 pods) → 10 on its own trajectory, 7×0.25 + 10×1.75 =
	// 19.25 replica-minutes; the HPA's 7 for 2 minutes is 14.
	if cmp == nil || cmp.Name != "sha-hpa" || cmp.DesiredReplicas != 7 || cmp.TrimtabReplicaMinutes != 19 || cmp.HPAReplicaMinutes != 14 {
		t.Errorf("shadow comparison = %+v; want sha-hpa wanting 7, trimtab 19 and HPA 14 replica-minutes", cmp)
	}
	if cmp != nil && cmp.HPAMinutesOverTarget != 2 || cmp != nil && cmp.TrimtabMinutesOverTarget != 0 {
		t.Errorf("minutes over target: trimtab %d, HPA %d; want 0 and 2 (500 > 7 × 50)", cmp.TrimtabMinutesOverTarget, cmp.HPAMinutesOverTarget)
	}
}

// The downstream guard blocks scale-out while the dependency is over its
// limit, and says so with the signal and its value.
func TestGuardBlocksScaleOut(t *testing.T) {
	h := newHarness(t)
	a := metricPolicy("vector(500)", "50", "2..20", "enforce")
	a[config.AnnotationDownstream], a[config.AnnotationDownstreamMax] = "db_p95", "0.25"
	h.deployment("web", 4, a)
	h.prom.Set("vector(500)", 500)
	h.prom.Set("db_p95", 0.4)
	for range 4 {
		h.sync()
	}
	d := h.decision("web")
	if got := h.replicas("web"); got != 4 {
		t.Errorf("replicas %d, want 4: the guard blocks scale-out", got)
	}
	if c := condition(d, v1alpha1.ScalingLimited); c.Reason != "GuardBlocked" || !strings.Contains(c.Message, "0.4") {
		t.Errorf("ScalingLimited = %+v, want GuardBlocked naming the value", c)
	}
	if !strings.Contains(strings.Join(h.events(), "\n"), "GuardBlocked") {
		t.Error("no GuardBlocked event")
	}
	h.prom.Set("db_p95", 0.1)
	for range 16 { // the guard clears after 2 minutes under its mark
		h.sync()
	}
	if got := h.replicas("web"); got != 10 {
		t.Errorf("after the guard cleared: replicas %d, want 10", got)
	}
}

// dailyHistory is a week of a daily cycle at one-minute steps ending at
// end: low at night, 1000 at the afternoon peak.
func dailyHistory(end time.Time) []prometheus.Sample {
	var out []prometheus.Sample
	for t := end.Add(-7 * 24 * time.Hour); !t.After(end); t = t.Add(time.Minute) {
		h := float64(t.Hour()) + float64(t.Minute())/60
		out = append(out, prometheus.Sample{At: t, Value: 550 - 450*math.Cos(2*math.Pi*(h-3)/24)})
	}
	return out
}

// A workload first seen warm-starts from a week of history in its first
// sync (one range request), so it has a forecast at once; its checkpoint
// lets a restarted controller resume without asking Prometheus again.
func TestWarmStartAndCheckpoint(t *testing.T) {
	h := newHarness(t)
	const q = "sum(rate(orders_total[1m]))"
	h.deployment("web", 4, metricPolicy(q, "50", "2..40", "shadow"))
	h.prom.History = map[string][]prometheus.Sample{q: dailyHistory(h.clock.Now().Add(DefaultPeriod))}
	h.prom.Set(q, 300)
	st := h.sync()
	if st.WarmStarts != 1 {
		t.Fatalf("warm starts = %d, want 1", st.WarmStarts)
	}
	d := h.decision("web")
	if d.Status.Forecast == nil || d.Status.Replicas.Proactive == nil {
		t.Fatalf("no forecast after the warm start: %+v", d.Status)
	}
	ranges := 0
	for _, c := range h.prom.Calls() {
		if c.Method == "Range" {
			ranges++
			if c.To.Sub(c.From) != DefaultHistory || c.Step != time.Minute {
				t.Errorf("range %s..%s step %s: want a week at 1m", c.From, c.To, c.Step)
			}
		}
	}
	if ranges != 1 {
		t.Errorf("%d range calls, want 1", ranges)
	}
	for range int(DefaultCheckpointEvery/DefaultPeriod) + 1 {
		h.sync()
	}
	var cp v1alpha1.DecisionCheckpoint
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: "web"}, &cp); err != nil {
		t.Fatalf("no checkpoint after %s: %v", DefaultCheckpointEvery, err)
	}
	if n := len(cp.Spec.Replicas); n == 0 || n > 32<<10 {
		t.Errorf("checkpoint of %d bytes; want some, at most 32 KiB", n)
	}
	before := len(h.prom.Calls())
	h.ctrl = h.newController()
	st = h.sync()
	if st.Restored != 1 || st.WarmStarts != 0 {
		t.Errorf("restart: restored %d, warm starts %d; want the checkpoint restored", st.Restored, st.WarmStarts)
	}
	for _, c := range h.prom.Calls()[before:] {
		if c.Method == "Range" {
			t.Error("the restarted controller read the history again")
		}
	}
	if d := h.decision("web"); d.Status.Forecast == nil {
		t.Error("no forecast right after the restart")
	}
}

// A workload whose annotations are invalid (created while the validating
// webhook was down) holds and says why; a shadow one never scales.
func TestInvalidPolicyAndShadowNeverScale(t *testing.T) {
	h := newHarness(t)
	h.deployment("broken", 3, map[string]string{config.AnnotationReplicas: "10..2"})
	h.deployment("quiet", 3, metricPolicy("vector(500)", "50", "2..20", "shadow"))
	h.prom.Set("vector(500)", 500)
	for range 4 {
		h.sync()
	}
	if c := condition(h.decision("broken"), v1alpha1.ScalingActive); c.Reason != "InvalidPolicy" || !strings.Contains(c.Message, "10..2") {
		t.Errorf("ScalingActive = %+v", c)
	}
	if h.replicas("broken") != 3 || h.replicas("quiet") != 3 {
		t.Errorf("replicas broken %d, quiet %d: want both 3", h.replicas("broken"), h.replicas("quiet"))
	}
	if got := h.decision("quiet").Status.DesiredReplicas; got != 10 {
		t.Errorf("shadow desired %d, want 10 recorded", got)
	}
}

// Routine writes (status refreshes with nothing material changed, and
// checkpoints) stay within the sync's budget and go to the stalest
// Decision first, so every workload is refreshed in turn; a material
// change is written at once, whatever the budget.
func TestRoutineWritesWithinBudget(t *testing.T) {
	h := newHarness(t)
	h.ctrl.RoutineWrites = 1
	names := []string{"a", "b", "c"}
	for _, n := range names {
		h.deployment(n, 2, metricPolicy("vector(100)", "50", "1..20", "shadow"))
	}
	h.prom.Set("vector(100)", 100)
	for range 4 {
		h.sync()
	}
	settled := h.clock.Now()
	h.clock.Step(DefaultStatusRefresh)
	for i := range len(names) {
		st := h.sync()
		if routine := st.StatusWrites + st.Checkpoints; routine > 1 {
			t.Fatalf("sync %d: %d status writes and %d checkpoints; want at most 1 routine write", i, st.StatusWrites, st.Checkpoints)
		}
	}
	for _, n := range names {
		if d := h.decision(n); d.Status.LastSignalTime == nil || !d.Status.LastSignalTime.After(settled) {
			t.Errorf("%s: last signal time %v not refreshed after %v: the budget must rotate, stalest first", n, d.Status.LastSignalTime, settled)
		}
	}
	// A material change (the load doubles: more replicas desired) is
	// written for every workload in one sync, budget or not.
	h.prom.Set("vector(100)", 400)
	h.clock.Step(DefaultPeriod)
	st, err := h.ctrl.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.StatusWrites != len(names) {
		t.Errorf("after the load changed: %d status writes, want %d (material changes are not budgeted)", st.StatusWrites, len(names))
	}
}
