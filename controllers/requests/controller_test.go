package requests

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
// etcd from the tool cache, with trimtab's CRDs), a fake usage reader (the
// one signal) and a fake clock. There is no controller-manager: pods are
// created with the owner references and labels a ReplicaSet gives them.

// TestMain stops the apiserver the tests started, so no etcd or
// kube-apiserver outlives the test binary.
func TestMain(m *testing.M) { apitest.Main(m) }

func apiserver(t *testing.T) client.Client {
	_, c := apitest.Shared(t)
	return c
}

var start = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

// harness is one test's controller, namespace and fakes.
type harness struct {
	t     *testing.T
	c     client.Client
	ns    string
	usage *fake.Usage
	clock *clocktesting.FakeClock
	ctrl  *Controller
	rec   *events.FakeRecorder
}

func newHarness(t *testing.T) *harness {
	c := apiserver(t)
	ns := "t-" + strings.ToLower(rand.String(6))
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{config.NamespaceLabel: config.NamespaceLabelValue}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}) })
	h := &harness{t: t, c: c, ns: ns, clock: clocktesting.NewFakeClock(start), rec: events.NewFakeRecorder(100)}
	h.usage = &fake.Usage{Of: func(fake.Container, string, time.Time) (float64, bool) { return 0, false }}
	h.ctrl = h.newController()
	return h
}

// newController is a controller with fresh memory on the same apiserver,
// usage and clock: a restarted manager.
func (h *harness) newController() *Controller {
	return &Controller{Client: namespaced{h.c, h.ns}, Usage: h.usage, Clock: h.clock, Recorder: h.rec,
		Settings: config.DefaultSettings(), CreateDecisions: true}
}

// namespaced keeps a test's controller to its own namespace: other tests'
// namespaces live in the same apiserver. Nodes are cluster-wide.
type namespaced struct {
	client.Client
	ns string
}

func (n namespaced) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	switch l := list.(type) {
	case *corev1.NodeList:
		return n.Client.List(ctx, list, opts...)
	case *corev1.NamespaceList:
		if err := n.Client.List(ctx, list, opts...); err != nil {
			return err
		}
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

func requestsPolicy(extra ...string) map[string]string {
	a := map[string]string{config.AnnotationRequests: "auto", config.AnnotationMode: "enforce"}
	for i := 0; i+1 < len(extra); i += 2 {
		a[extra[i]] = extra[i+1]
	}
	return a
}

func res(cpu, mem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}
}

// deployment creates a Deployment whose containers request 1 cpu and 1Gi.
func (h *harness) deployment(name string, annotations map[string]string, containers ...string) *appsv1.Deployment {
	h.t.Helper()
	if len(containers) == 0 {
		containers = []string{"app"}
	}
	var ctrs []corev1.Container
	for _, c := range containers {
		ctrs = append(ctrs, corev1.Container{Name: c, Image: c, Resources: res("1", "1Gi")})
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: ctrs},
			},
		},
	}
	if err := h.c.Create(context.Background(), d); err != nil {
		h.t.Fatal(err)
	}
	return d
}

// pod creates a pod of the Deployment's ReplicaSet NAME-HASH, as the
// ReplicaSet controller would, and registers its containers with the fake
// usage reader.
func (h *harness) pod(d *appsv1.Deployment, suffix string) *corev1.Pod {
	h.t.Helper()
	const hash = "5d8f7c9b6"
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: d.Name + "-" + hash + "-" + suffix,
			Labels: map[string]string{"app": d.Name, appsv1.DefaultDeploymentUniqueLabelKey: hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: d.Name + "-" + hash,
				UID: types.UID("rs-" + d.Name), Controller: ptr.To(true)}}},
		Spec: *d.Spec.Template.Spec.DeepCopy(),
	}
	if err := h.c.Create(context.Background(), p); err != nil {
		h.t.Fatal(err)
	}
	for _, c := range p.Spec.Containers {
		h.usage.Containers = append(h.usage.Containers, fake.Container{Namespace: h.ns, Pod: p.Name, Name: c.Name})
	}
	return p
}

// constantUsage reports cpu cores and mem bytes for every container from
// since on.
func (h *harness) constantUsage(cpu, mem float64, since time.Time) {
	h.usage.Of = func(_ fake.Container, r string, at time.Time) (float64, bool) {
		if at.Before(since) {
			return 0, false
		}
		if r == prometheus.ResourceCPU {
			return cpu, true
		}
		return mem, true
	}
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

func (h *harness) decision(name string) *v1alpha1.Decision {
	h.t.Helper()
	var d v1alpha1.Decision
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, &d); err != nil {
		h.t.Fatal(err)
	}
	return &d
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

func recommendation(t *testing.T, d *v1alpha1.Decision, container string) v1alpha1.ContainerRecommendation {
	t.Helper()
	if d.Status.Requests == nil {
		t.Fatalf("Decision %s has no status.requests", d.Name)
	}
	for _, c := range d.Status.Requests.Containers {
		if c.Name == container {
			return c
		}
	}
	t.Fatalf("no recommendation for %s in %+v", container, d.Status.Requests.Containers)
	return v1alpha1.ContainerRecommendation{}
}

func signalsFresh(d *v1alpha1.Decision) metav1.Condition {
	if d.Status.Requests != nil {
		if c := meta.FindStatusCondition(d.Status.Requests.Conditions, v1alpha1.SignalsFresh); c != nil {
			return *c
		}
	}
	return metav1.Condition{}
}

func value(l corev1.ResourceList, r corev1.ResourceName) float64 {
	q := l[r]
	return q.AsApproximateFloat64()
}

// Eight days of usage far below the template's requests: the first sync
// warm-starts from them in one batched read, and the Decision carries a
// lower target with bounds and reasons; the models are checkpointed under
// 8 KiB a container, and a later sync reads only the new steps.
func TestLearnsLowerRequestsFromHistory(t *testing.T) {
	h := newHarness(t)
	d := h.deployment("web", requestsPolicy())
	h.pod(d, "abcde")
	h.pod(d, "fghij")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	st := h.sync()
	if st.Workloads != 1 || st.WarmStarts != 1 || st.Samples == 0 || st.StatusWrites != 1 || st.Checkpoints != 1 {
		t.Fatalf("first sync %+v: want one workload warm-started, samples, one status write and one checkpoint", st)
	}
	calls := h.usage.Calls()
	if len(calls) != 1 || len(calls[0].Selectors) != 1 || calls[0].To.Sub(calls[0].From) < 8*24*time.Hour || calls[0].Step != DefaultStep {
		t.Fatalf("usage calls %+v: want one 8-day read at 5m with one selector for the namespace", calls)
	}
	rec := recommendation(t, h.decision("web"), "app")
	cpu, mem := value(rec.Target, corev1.ResourceCPU), value(rec.Target, corev1.ResourceMemory)
	if rec.Mode != ModeAuto || !(cpu >= 0.05 && cpu < 0.2) || !(mem >= 300<<20 && mem < 400<<20) {
		t.Errorf("target cpu %v, memory %v (mode %s): want just above the 50m and 300Mi used", cpu, mem, rec.Mode)
	}
	if value(rec.LowerBound, corev1.ResourceMemory) > mem || value(rec.UpperBound, corev1.ResourceMemory) < mem {
		t.Errorf("bounds %v..%v do not hold the target %v", rec.LowerBound, rec.UpperBound, mem)
	}
	if rec.CPUReason == "" || rec.MemoryReason == "" {
		t.Errorf("reasons cpu %q memory %q: want words", rec.CPUReason, rec.MemoryReason)
	}
	t.Logf("app: cpu %s (%s); memory %s (%s)", rec.Target.Cpu(), rec.CPUReason, rec.Target.Memory(), rec.MemoryReason)
	if c := signalsFresh(h.decision("web")); c.Status != metav1.ConditionTrue {
		t.Errorf("SignalsFresh = %+v", c)
	}
	var cp v1alpha1.DecisionCheckpoint
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: "web"}, &cp); err != nil {
		t.Fatal(err)
	}
	if cp.Spec.Requests == nil || len(cp.Spec.Requests.Containers) != 1 || len(cp.Spec.Requests.Containers[0].Model) > MaxModelBytes {
		t.Fatalf("checkpoint %+v: want one container model ≤ %d bytes", cp.Spec.Requests, MaxModelBytes)
	}
	t.Logf("checkpoint: %d bytes", len(cp.Spec.Requests.Containers[0].Model))
	if !strings.Contains(strings.Join(h.events(), "\n"), "RequestsRecommended") {
		t.Error("no RequestsRecommended event")
	}
	for range 5 {
		h.sync()
	}
	calls = h.usage.Calls()
	last := calls[len(calls)-1]
	if last.To.Sub(last.From) > DefaultStep {
		t.Errorf("steady read %v..%v: want only the steps since the last read", last.From, last.To)
	}

	// A restarted controller restores the models instead of reading 8 days.
	h.ctrl = h.newController()
	st = h.sync()
	if st.Restored != 1 || st.WarmStarts != 0 {
		t.Errorf("after a restart %+v: want the models restored, no warm start", st)
	}
	if got := recommendation(t, h.decision("web"), "app"); value(got.Target, corev1.ResourceMemory) != mem {
		t.Errorf("memory target after restart %v, want %v", got.Target.Memory(), mem)
	}
}

// Less than MinHistory of usage never lowers below the template's requests.
func TestYoungHistoryHoldsTemplate(t *testing.T) {
	h := newHarness(t)
	d := h.deployment("web", requestsPolicy())
	h.pod(d, "abcde")
	h.constantUsage(0.05, 300<<20, start.Add(-3*time.Hour))
	h.sync()
	rec := recommendation(t, h.decision("web"), "app")
	if cpu, mem := value(rec.Target, corev1.ResourceCPU), value(rec.Target, corev1.ResourceMemory); cpu != 1 || mem != 1<<30 {
		t.Errorf("target cpu %v memory %v after 3 h: want the template's 1 and 1Gi held", cpu, mem)
	}
	if !strings.Contains(rec.MemoryReason, "holding the pod template's request") {
		t.Errorf("memory reason %q: want it to say the template is held", rec.MemoryReason)
	}
}

// A Prometheus outage and then a gap hold every recommendation, set
// SignalsFresh=False and emit one SignalsMissing Event, not one a sync.
func TestMissingUsageHolds(t *testing.T) {
	h := newHarness(t)
	d := h.deployment("web", requestsPolicy())
	h.pod(d, "abcde")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	h.sync()
	before := recommendation(t, h.decision("web"), "app")
	h.events()
	h.constantUsage(0.001, 1<<20, start.Add(-9*24*time.Hour)) // would lower if read
	for range 3 {
		h.usage.FailNext(nil)
		h.clock.Step(4 * time.Minute)
		h.sync()
	}
	dec := h.decision("web")
	if c := signalsFresh(dec); c.Status != metav1.ConditionFalse || c.Reason != "PrometheusUnavailable" {
		t.Errorf("SignalsFresh = %+v during the outage", c)
	}
	if got := recommendation(t, dec, "app"); got.Target.Memory().Cmp(*before.Target.Memory()) != 0 || got.Target.Cpu().Cmp(*before.Target.Cpu()) != 0 {
		t.Errorf("target moved during the outage: %v → %v", before.Target, got.Target)
	}
	if ev := strings.Join(h.events(), "\n"); strings.Count(ev, "SignalsMissing") != 1 {
		t.Errorf("events %q: want one SignalsMissing for the outage", ev)
	}
	// Prometheus answers but has nothing for the containers: still held.
	h.usage.Of = func(fake.Container, string, time.Time) (float64, bool) { return 0, false }
	h.clock.Step(10 * time.Minute)
	h.sync()
	dec = h.decision("web")
	if c := signalsFresh(dec); c.Status != metav1.ConditionFalse || c.Reason != "NoValue" {
		t.Errorf("SignalsFresh = %+v on a gap", c)
	}
	if got := recommendation(t, dec, "app"); got.Target.Memory().Cmp(*before.Target.Memory()) != 0 {
		t.Errorf("target moved on a gap: %v → %v", before.Target, got.Target)
	}
}

// An OOMKilled last state raises memory once: later syncs, and a restarted
// controller restoring the checkpoint, do not count it again.
func TestOOMCountedOnce(t *testing.T) {
	h := newHarness(t)
	d := h.deployment("web", requestsPolicy())
	p := h.pod(d, "abcde")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	h.sync()
	before := value(recommendation(t, h.decision("web"), "app").Target, corev1.ResourceMemory)

	killed := metav1.NewTime(h.clock.Now().Add(-30 * time.Second).Truncate(time.Second))
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "app", ImageID: "app", RestartCount: 1, Ready: true,
		State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: killed}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: killed}}}}
	if err := h.c.Status().Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	st := h.sync()
	if st.OOMs != 1 {
		t.Fatalf("OOMs counted = %d, want 1", st.OOMs)
	}
	rec := recommendation(t, h.decision("web"), "app")
	after := value(rec.Target, corev1.ResourceMemory)
	if after <= before || rec.LastOOM == nil || !rec.LastOOM.Equal(&killed) {
		t.Errorf("memory %v → %v, lastOOM %v: want a raise and the kill recorded", before, after, rec.LastOOM)
	}
	t.Logf("OOM: memory %v → %v (%s)", before, after, rec.MemoryReason)
	for range 3 {
		if st := h.sync(); st.OOMs != 0 {
			t.Errorf("the same OOM kill counted again (%d)", st.OOMs)
		}
	}
	h.clock.Step(DefaultCheckpointEvery)
	h.sync() // saves the checkpoint with the kill's mark
	h.ctrl = h.newController()
	if st := h.sync(); st.Restored != 1 || st.OOMs != 0 {
		t.Errorf("after a restart %+v: want the models restored and the kill not counted again", st)
	}
}

// A pinned container is left alone (mode Off, nothing learned), requests:
// off gets no recommendations, and a usage point above every node's
// capacity is left out and counted.
func TestPinnedOffAndAbsurd(t *testing.T) {
	h := newHarness(t)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n-" + h.ns},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")}}}
	if err := h.c.Create(context.Background(), node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.c.Delete(context.Background(), node) })
	d := h.deployment("web", requestsPolicy(config.AnnotationRequestsPinned, "sidecar"), "app", "sidecar")
	h.pod(d, "abcde")
	off := h.deployment("batch", map[string]string{config.AnnotationRequests: "off", config.AnnotationMode: "enforce"})
	h.pod(off, "abcde")
	h.usage.Of = func(c fake.Container, r string, at time.Time) (float64, bool) {
		if r == prometheus.ResourceCPU {
			return 0.05, true
		}
		if at.Equal(start.Add(-2 * 24 * time.Hour)) {
			return 1e15, true // a petabyte: no node has it
		}
		return 300 << 20, true
	}
	st := h.sync()
	if st.Workloads != 1 || st.Skipped[SkipAboveNode] != 1 {
		t.Errorf("sync %+v: want one auto workload and one point above node capacity skipped", st)
	}
	dec := h.decision("web")
	if rec := recommendation(t, dec, "sidecar"); rec.Mode != ModeOff || len(rec.Target) != 0 || !strings.Contains(rec.CPUReason, "pinned") {
		t.Errorf("sidecar %+v: want mode Off, no target, a reason naming the pin", rec)
	}
	if rec := recommendation(t, dec, "app"); value(rec.Target, corev1.ResourceMemory) > 400<<20 {
		t.Errorf("app memory target %v: the absurd point leaked in", rec.Target.Memory())
	}
	var list v1alpha1.DecisionList
	if err := h.c.List(context.Background(), &list, client.InNamespace(h.ns)); err != nil {
		t.Fatal(err)
	}
	for _, dd := range list.Items {
		if dd.Spec.WorkloadRef.Name == "batch" && dd.Status.Requests != nil {
			t.Errorf("requests: off has status.requests %+v", dd.Status.Requests)
		}
	}
	if math.IsNaN(value(recommendation(t, dec, "app").Target, corev1.ResourceCPU)) {
		t.Error("NaN target")
	}
}
