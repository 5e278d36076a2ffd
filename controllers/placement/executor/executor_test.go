package executor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/test/apitest"
)

// The executor runs against a real apiserver (envtest): the Eviction API,
// its UID precondition and its PodDisruptionBudget check are the
// apiserver's own. There is no controller-manager, so a test sets a PDB's
// status as the disruption controller would (observedGeneration and
// disruptionsAllowed), and the apiserver decrements it on each eviction.

// TestMain stops the apiserver the tests started.
func TestMain(m *testing.M) { apitest.Main(m) }

func scheme() *runtime.Scheme { return apitest.Scheme() }

func apiserver(t *testing.T) (client.Client, *kubernetes.Clientset) {
	cfg, c := apitest.Shared(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, cs
}

// harness is one test's namespace, executor and the evictions it asked
// for.
type harness struct {
	t     *testing.T
	c     client.Client
	cs    *kubernetes.Clientset
	ns    string
	clock *clocktesting.FakeClock
	spy   *spy
	ex    *Executor
}

func newHarness(t *testing.T, ps config.PlacerSettings) *harness {
	t.Parallel()
	c, cs := apiserver(t)
	ctx := context.Background()
	ns := "p-" + strings.ToLower(rand.String(6))
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}) })
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	stop := make(chan struct{})
	b.StartRecordingToSink(stop)
	t.Cleanup(func() { close(stop); b.Shutdown() })
	h := &harness{t: t, c: c, cs: cs, ns: ns, clock: clocktesting.NewFakeClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))}
	h.spy = &spy{Client: c, t: t}
	h.ex = &Executor{Client: h.spy, Recorder: b.NewRecorder(scheme(), "trimtab-placer"), Settings: ps, Clock: h.clock}
	return h
}

// spy is the real client, checking on every eviction that the Decision
// already records the pod's move as Evicting, and counting evictions.
type spy struct {
	client.Client
	t           *testing.T
	mu          sync.Mutex
	asked       []string
	beforeWrite func()
}

func (s *spy) SubResource(sub string) client.SubResourceClient {
	return spySub{s.Client.SubResource(sub), s, sub}
}

type spySub struct {
	client.SubResourceClient
	s   *spy
	sub string
}

func (ss spySub) Create(ctx context.Context, obj client.Object, sub client.Object, opts ...client.SubResourceCreateOption) error {
	if ss.sub == "eviction" {
		ss.s.mu.Lock()
		ss.s.asked = append(ss.s.asked, obj.GetName())
		ss.s.mu.Unlock()
		var list v1alpha1.DecisionList
		if err := ss.s.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
			return err
		}
		uid := *sub.(*policyv1.Eviction).DeleteOptions.Preconditions.UID
		found := false
		for _, d := range list.Items {
			if d.Status.Placement == nil {
				continue
			}
			for _, m := range d.Status.Placement.Moves {
				found = found || (m.UID == uid && m.State == v1alpha1.MoveEvicting)
			}
		}
		if !found {
			ss.s.t.Errorf("evicting %s (UID %s) before its Decision records the move as Evicting", obj.GetName(), uid)
		}
	}
	return ss.SubResourceClient.Create(ctx, obj, sub, opts...)
}

// Status lets a test run another writer just before the executor's next
// status write: another leader, or the decision controller.
func (s *spy) Status() client.SubResourceWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.beforeWrite; f != nil {
		s.beforeWrite = nil
		f()
	}
	return s.Client.Status()
}

func (s *spy) evictions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

// workload creates a Decision for a Job named name and n running pods of
// it on node spot-1, labelled app=name; it returns the plan's view.
func (h *harness) workload(name string, class config.Class, n int) (placer.Workload, []*corev1.Pod) {
	h.t.Helper()
	ctx := context.Background()
	d := &v1alpha1.Decision{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name},
		Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{APIVersion: "batch/v1", Kind: "Job", Name: name}}}
	if err := h.c.Create(ctx, d); err != nil {
		h.t.Fatal(err)
	}
	var pods []*corev1.Pod
	for i := range n {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: fmt.Sprintf("%s-%d", name, i), Labels: map[string]string{"app": name}},
			Spec: corev1.PodSpec{NodeName: "spot-1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
		if err := h.c.Create(ctx, p); err != nil {
			h.t.Fatal(err)
		}
		// Running and ready, as a kubelet would say: the Eviction API lets
		// an unready pod go whatever the PDB's disruptionsAllowed.
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		if err := h.c.Status().Update(ctx, p); err != nil {
			h.t.Fatal(err)
		}
		pods = append(pods, p)
	}
	pol, errs := config.ParsePolicy(map[string]string{config.AnnotationClass: string(class), config.AnnotationMode: string(config.ModeEnforce)})
	if len(errs) > 0 {
		h.t.Fatal(errs.ToAggregate())
	}
	in, err := pol.Inputs()
	if err != nil {
		h.t.Fatal(err)
	}
	return placer.Workload{Key: placer.Key{Namespace: h.ns, Kind: "Job", Name: name}, Class: class, Inputs: in, Pods: pods}, pods
}

// pdb creates a PodDisruptionBudget over app=name allowing `allowed`
// disruptions, its status set as the disruption controller would.
func (h *harness) pdb(name string, allowed int32) {
	h.t.Helper()
	ctx := context.Background()
	one := intstr.FromInt32(1)
	p := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}}}
	if err := h.c.Create(ctx, p); err != nil {
		h.t.Fatal(err)
	}
	p.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: p.Generation, DisruptionsAllowed: allowed, CurrentHealthy: allowed + 1, DesiredHealthy: 1, ExpectedPods: allowed + 1}
	if err := h.c.Status().Update(ctx, p); err != nil {
		h.t.Fatal(err)
	}
}

// evictAll is a plan moving every pod out now.
func (h *harness) evictAll(w placer.Workload, pods []*corev1.Pod) []placer.Move {
	var ms []placer.Move
	for _, p := range pods {
		ms = append(ms, placer.Move{Workload: w.Key, Pod: p.Name, UID: p.UID, Node: p.Spec.NodeName, Kind: placer.MoveOut,
			Reason: "c3.xlarge/us-east-1a off spot", State: placer.Planned, Action: placer.Evict, PlannedAt: h.clock.Now()})
	}
	return ms
}

func (h *harness) placement(name string) *v1alpha1.PlacementStatus {
	h.t.Helper()
	var d v1alpha1.Decision
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, &d); err != nil {
		h.t.Fatal(err)
	}
	if d.Status.Placement == nil {
		h.t.Fatalf("Decision %s has no placement record", name)
	}
	return d.Status.Placement
}

// terminating says whether the pod is being deleted (evicted) or gone.
func (h *harness) terminating(name string) bool {
	var p corev1.Pod
	err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, &p)
	return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil)
}

// waitEvent waits for an Event of reason on the Decision named name.
func (h *harness) waitEvent(reason, name string) eventsv1.Event {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, err := h.cs.EventsV1().Events(h.ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			h.t.Fatal(err)
		}
		for _, e := range list.Items {
			if e.Reason == reason && e.Regarding.Name == name {
				return e
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.t.Fatalf("no %s Event on Decision %s within 30s", reason, name)
	return eventsv1.Event{}
}

func settings() config.PlacerSettings {
	ps := config.DefaultPlacerSettings()
	ps.WorkloadBudget = config.Budget{Evictions: 10, Per: time.Minute}
	return ps
}

// TestPDBRespectedRecordedFirstNeverTwice: with a PDB allowing one
// disruption, the first eviction goes through and the second is refused
// (429) and backed off with an Event; each was recorded as Evicting before
// it was asked for (the spy checks); a stale plan applied again evicts
// neither the evicted pod nor, before its backoff, the refused one.
func TestPDBRespectedRecordedFirstNeverTwice(t *testing.T) {
	h := newHarness(t, settings())
	w, pods := h.workload("etl", config.ClassBatch, 2)
	h.pdb("etl", 1)
	plan := h.evictAll(w, pods)
	in := placer.Input{Now: h.clock.Now(), Workloads: []placer.Workload{w}}
	rep, err := h.ex.Apply(context.Background(), in, placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: plan}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Evicted != 1 || rep.Blocked != 1 || rep.Written != 2 {
		t.Errorf("report %+v, want 1 evicted, 1 blocked, 2 writes", rep)
	}
	if !h.terminating("etl-0") || h.terminating("etl-1") {
		t.Errorf("etl-0 terminating %v, etl-1 terminating %v; want the PDB to let exactly the first go", h.terminating("etl-0"), h.terminating("etl-1"))
	}
	p := h.placement("etl")
	if len(p.Moves) != 2 || p.Moves[0].State != v1alpha1.MoveEvicted || p.Moves[1].State != v1alpha1.MoveBlocked {
		t.Fatalf("moves %+v, want etl-0 Evicted and etl-1 Blocked", p.Moves)
	}
	b := p.Moves[1]
	if b.Attempts != 1 || b.NextAttempt == nil || !b.NextAttempt.Time.Equal(h.clock.Now().Add(10*time.Second)) || !strings.Contains(b.Message, "disruption budget") {
		t.Errorf("blocked move %+v: want attempt 1, next in the base backoff (10s), the apiserver's PDB message", b)
	}
	if len(p.Evictions) != 1 || p.Evictions[0].UID != pods[0].UID || p.Summary != "2 move(s): 1 evicted, 1 blocked" {
		t.Errorf("evictions %+v summary %q", p.Evictions, p.Summary)
	}
	ev := h.waitEvent("EvictionBlocked", "etl")
	if ev.Type != corev1.EventTypeWarning || !strings.Contains(ev.Note, "etl-1") {
		t.Errorf("event %s %q", ev.Type, ev.Note)
	}
	h.waitEvent("Evicted", "etl")

	// The same (stale) plan again, 5 s later: nothing is asked for.
	h.clock.Step(5 * time.Second)
	prior, evs := FromStatus(&v1alpha1.Decision{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns}, Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{Kind: "Job", Name: "etl"}}, Status: v1alpha1.DecisionStatus{Placement: p}}, "Linux/UNIX")
	if len(prior) != 2 || prior[1].NextAttempt.IsZero() || len(evs) != 1 || evs[0].Workload != w.Key {
		t.Errorf("FromStatus: %+v %+v", prior, evs)
	}
	rep, err = h.ex.Apply(context.Background(), in, placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: plan}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.spy.evictions()); n != 2 || rep.Held != 2 {
		t.Errorf("after a stale plan: %d eviction requests in all (want the first 2 only), report %+v", n, rep)
	}
	// After the backoff, with the PDB now allowing it, etl-1 goes.
	h.clock.Step(10 * time.Second)
	h.pdbAllow("etl", 1)
	if _, err := h.ex.Apply(context.Background(), in, placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: h.evictAll(w, pods[1:])}}); err != nil {
		t.Fatal(err)
	}
	if !h.terminating("etl-1") || len(h.placement("etl").Evictions) != 2 {
		t.Errorf("after the backoff: etl-1 terminating %v, %d evictions recorded", h.terminating("etl-1"), len(h.placement("etl").Evictions))
	}
}

func (h *harness) pdbAllow(name string, allowed int32) {
	h.t.Helper()
	var p policyv1.PodDisruptionBudget
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, &p); err != nil {
		h.t.Fatal(err)
	}
	p.Status.DisruptionsAllowed = allowed
	if err := h.c.Status().Update(context.Background(), &p); err != nil {
		h.t.Fatal(err)
	}
}

// TestNeverCriticalOrStandardNorDryRun: a plan that says evict is not
// obeyed for a standard or critical workload, nor in dry-run mode; the
// plan is written all the same.
func TestNeverCriticalOrStandardNorDryRun(t *testing.T) {
	h := newHarness(t, settings())
	var ws []placer.Workload
	plans := map[placer.Key][]placer.Move{}
	for _, c := range []config.Class{config.ClassCritical, config.ClassStandard} {
		w, pods := h.workload(string(c), c, 1)
		w.Inputs.Evictable = true // even if the inputs were wrong, the class decides
		ws = append(ws, w)
		plans[w.Key] = h.evictAll(w, pods)
	}
	rep, err := h.ex.Apply(context.Background(), placer.Input{Workloads: ws}, placer.Result{Plans: plans})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.spy.evictions()); n != 0 || rep.Held != 2 {
		t.Errorf("%d evictions, report %+v; want none, 2 held", n, rep)
	}
	for _, c := range []string{"critical", "standard"} {
		if m := h.placement(c).Moves[0]; m.State != v1alpha1.MovePlanned || !strings.Contains(m.Message, "evicts only batch pods") {
			t.Errorf("%s: move %+v", c, m)
		}
	}

	ps := settings()
	ps.DryRun = true
	dry := &Executor{Client: h.spy, Settings: ps, Clock: h.clock}
	w, pods := h.workload("dry", config.ClassBatch, 2)
	rep, err = dry.Apply(context.Background(), placer.Input{Workloads: []placer.Workload{w}}, placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: h.evictAll(w, pods)}})
	if err != nil {
		t.Fatal(err)
	}
	p := h.placement("dry")
	if n := len(h.spy.evictions()); n != 0 || rep.DryRun != 2 || !p.DryRun || p.Moves[0].State != v1alpha1.MoveDryRun || p.Summary != "2 move(s): 2 dryrun (dry run)" {
		t.Errorf("dry run: %d evictions, report %+v, placement %+v", n, rep, p)
	}
}

// TestBudgets: the workload budget caps one workload's evictions, the
// cluster budget all of them together, counting the evictions already
// made in the window.
func TestBudgets(t *testing.T) {
	ps := settings()
	ps.WorkloadBudget = config.Budget{Evictions: 2, Per: time.Minute}
	ps.ClusterBudget = config.Budget{Evictions: 3, Per: time.Minute}
	h := newHarness(t, ps)
	a, apods := h.workload("a", config.ClassBatch, 3)
	b, bpods := h.workload("b", config.ClassBatch, 3)
	earlier := placer.Eviction{Time: h.clock.Now().Add(-30 * time.Second), Workload: b.Key, Pod: "b-old", UID: "old-uid", Kind: placer.MoveOut}
	b.Evictions = []placer.Eviction{earlier}
	in := placer.Input{Workloads: []placer.Workload{a, b}, Evictions: []placer.Eviction{earlier}}
	rep, err := h.ex.Apply(context.Background(), in, placer.Result{Plans: map[placer.Key][]placer.Move{a.Key: h.evictAll(a, apods), b.Key: h.evictAll(b, bpods)}})
	if err != nil {
		t.Fatal(err)
	}
	// a: 2 (its budget); b: 1 more would be the cluster's 4th... the
	// cluster had 1, a took 2: b gets none.
	if got := h.spy.evictions(); len(got) != 2 || got[0] != "a-0" || got[1] != "a-1" || rep.Held != 4 {
		t.Errorf("evicted %v, report %+v; want a-0 and a-1 only", got, rep)
	}
	if m := h.placement("a").Moves[2]; !strings.Contains(m.Message, "workload budget spent: 2") {
		t.Errorf("a-2: %+v", m)
	}
	if m := h.placement("b").Moves[0]; !strings.Contains(m.Message, "cluster budget spent: 3") {
		t.Errorf("b-0: %+v", m)
	}
	if evs := h.placement("b").Evictions; len(evs) != 1 || evs[0].UID != "old-uid" {
		t.Errorf("b's evictions %+v: want the earlier one kept in the window", evs)
	}
	// A minute on, the window has passed: the budgets allow again.
	h.clock.Step(time.Minute)
	if _, err := h.ex.Apply(context.Background(), placer.Input{Workloads: []placer.Workload{b}}, placer.Result{Plans: map[placer.Key][]placer.Move{b.Key: h.evictAll(b, bpods)}}); err != nil {
		t.Fatal(err)
	}
	if got := h.spy.evictions(); len(got) != 4 {
		t.Errorf("a minute later: %v, want b-0 and b-1 added", got)
	}
}

// TestUIDPreconditionAndMissingDecision: a move whose pod was replaced by
// one of the same name (StatefulSet-style) is dropped, the new pod kept;
// a workload without a Decision is not evicted at all.
func TestUIDPreconditionAndMissingDecision(t *testing.T) {
	h := newHarness(t, settings())
	w, pods := h.workload("st", config.ClassBatch, 1)
	plan := h.evictAll(w, pods)
	plan[0].UID = types.UID("a-pod-long-gone")
	rep, err := h.ex.Apply(context.Background(), placer.Input{Workloads: []placer.Workload{w}}, placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: plan}})
	if err != nil {
		t.Fatal(err)
	}
	if h.terminating("st-0") || rep.Dropped != 1 || len(h.placement("st").Moves) != 0 {
		t.Errorf("st-0 terminating %v, report %+v, moves %+v: want the live pod kept and the move dropped", h.terminating("st-0"), rep, h.placement("st").Moves)
	}
	h.waitEvent("MoveDropped", "st")

	orphan := placer.Workload{Key: placer.Key{Namespace: h.ns, Kind: "Job", Name: "nodecision"}, Class: config.ClassBatch, Inputs: w.Inputs}
	_, err = h.ex.Apply(context.Background(), placer.Input{Workloads: []placer.Workload{orphan}}, placer.Result{Plans: map[placer.Key][]placer.Move{orphan.Key: {{Workload: orphan.Key, Pod: "st-0", UID: pods[0].UID, Node: "spot-1", Kind: placer.MoveOut, State: placer.Planned, Action: placer.Evict}}}})
	if err == nil || !strings.Contains(err.Error(), "no Decision to record the plan on") || h.terminating("st-0") {
		t.Errorf("no Decision: err %v, st-0 terminating %v", err, h.terminating("st-0"))
	}
}

// TestConcurrentWriterEvictsNothing: when the Decision changes between the
// executor's read and its record (another leader wrote a plan), the
// locked write fails and nothing is evicted this round; the other
// writer's record stands.
func TestConcurrentWriterEvictsNothing(t *testing.T) {
	h := newHarness(t, settings())
	w, pods := h.workload("race", config.ClassBatch, 1)
	h.spy.beforeWrite = func() {
		var d v1alpha1.Decision
		if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: "race"}, &d); err != nil {
			t.Error(err)
			return
		}
		d.Status.Placement = &v1alpha1.PlacementStatus{Summary: "the other leader's"}
		if err := h.c.Status().Update(context.Background(), &d); err != nil {
			t.Error(err)
		}
	}
	_, err := h.ex.Apply(context.Background(), placer.Input{Workloads: []placer.Workload{w}}, placer.Result{Plans: map[placer.Key][]placer.Move{w.Key: h.evictAll(w, pods)}})
	if err == nil || !strings.Contains(err.Error(), "nothing evicted") || len(h.spy.evictions()) != 0 || h.terminating("race-0") {
		t.Errorf("err %v, evictions %v: want a conflict and no eviction", err, h.spy.evictions())
	}
	if p := h.placement("race"); p.Summary != "the other leader's" {
		t.Errorf("summary %q: the other writer's record was overwritten", p.Summary)
	}
}
