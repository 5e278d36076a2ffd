package requests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
)

// The resize tests run against envtest's real kube-apiserver (v1.37 in the
// tool cache), which serves pods/resize and the Eviction API. There is no
// kubelet: a test writes the pod's resize conditions as a kubelet would.

// node creates a node with the given allocatable.
func (h *harness) node(suffix, cpu, mem string) string {
	h.t.Helper()
	l := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: h.ns + "-" + suffix}, Status: corev1.NodeStatus{Capacity: l, Allocatable: l}}
	if err := h.c.Create(context.Background(), n); err != nil {
		h.t.Fatal(err)
	}
	n.Status = corev1.NodeStatus{Capacity: l, Allocatable: l}
	if err := h.c.Status().Update(context.Background(), n); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = h.c.Delete(context.Background(), n) })
	return n.Name
}

// runningPod creates a Running pod of d on node whose containers request
// cpu and mem.
func (h *harness) runningPod(d *appsv1.Deployment, suffix, node, cpu, mem string) *corev1.Pod {
	h.t.Helper()
	dd := d.DeepCopy()
	dd.Spec.Template.Spec.NodeName = node
	for i := range dd.Spec.Template.Spec.Containers {
		dd.Spec.Template.Spec.Containers[i].Resources = res(cpu, mem)
	}
	p := h.pod(dd, suffix)
	p.Status.Phase = corev1.PodRunning
	if err := h.c.Status().Update(context.Background(), p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) get(p *corev1.Pod) *corev1.Pod {
	h.t.Helper()
	var out corev1.Pod
	if err := h.c.Get(context.Background(), client.ObjectKeyFromObject(p), &out); err != nil {
		h.t.Fatal(err)
	}
	return &out
}

func resizing(d *v1alpha1.Decision) metav1.Condition {
	if d.Status.Requests != nil {
		if c := meta.FindStatusCondition(d.Status.Requests.Conditions, v1alpha1.Resizing); c != nil {
			return *c
		}
	}
	return metav1.Condition{}
}

// A container below its recommendation's lower bound is resized in place
// once: the pod's spec gets the target through pods/resize, with an Event
// on the pod and the Decision and the Decision's lastResize; later syncs,
// past the per-workload interval, leave it alone. When the kubelet reports
// nothing pending, the resize is Done.
func TestResizeBelowLowerBoundOnce(t *testing.T) {
	h := newHarness(t)
	node := h.node("big", "4", "8Gi")
	d := h.deployment("web", requestsPolicy())
	p := h.runningPod(d, "abcde", node, "10m", "50Mi")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	st := h.sync()
	if st.Resizes != 1 {
		t.Fatalf("first sync %+v: want one resize", st)
	}
	rec := recommendation(t, h.decision("web"), "app")
	got := h.get(p)
	cpu, mem := value(got.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU), value(got.Spec.Containers[0].Resources.Requests, corev1.ResourceMemory)
	if cpu != value(rec.Target, corev1.ResourceCPU) || mem != value(rec.Target, corev1.ResourceMemory) {
		t.Errorf("pod requests cpu %v memory %v after the resize, want the target %v", cpu, mem, rec.Target)
	}
	dec := h.decision("web")
	lr := dec.Status.Requests.LastResize
	if lr == nil || lr.Pod != p.Name || lr.Outcome != OutcomeInProgress || !strings.Contains(lr.Change, "below the lower bound") {
		t.Errorf("lastResize %+v: want the pod, InProgress and the reason", lr)
	}
	if c := resizing(dec); c.Status != metav1.ConditionTrue || c.Reason != "InPlace" {
		t.Errorf("Resizing = %+v, want True/InPlace", c)
	}
	ev := strings.Join(h.events(), "\n")
	if strings.Count(ev, "Normal Resized") != 2 {
		t.Errorf("events %q: want a Resized Event on the pod and one on the Decision", ev)
	}
	t.Logf("resized %s: %s", p.Name, lr.Change)
	rv := got.ResourceVersion
	for range 3 {
		h.clock.Step(DefaultResizeEvery)
		if st := h.sync(); st.Resizes != 0 {
			t.Errorf("sync %+v: the pod was resized again", st)
		}
	}
	if got := h.get(p); got.ResourceVersion != rv {
		t.Errorf("pod written again after its resize (resourceVersion %s → %s)", rv, got.ResourceVersion)
	}
	if lr := h.decision("web").Status.Requests.LastResize; lr == nil || lr.Outcome != OutcomeDone {
		t.Errorf("lastResize %+v: want Done once no resize condition is left", lr)
	}
}

// A pod whose node has no room for the raise is not resized: one
// ResizeNoRoom Event says so, not one a sync, and the pod is untouched.
func TestResizeNodeWithoutRoom(t *testing.T) {
	h := newHarness(t)
	node := h.node("small", "1", "512Mi")
	d := h.deployment("web", requestsPolicy())
	p := h.runningPod(d, "abcde", node, "10m", "50Mi")
	other := h.deployment("other", nil)
	h.runningPod(other, "zzzzz", node, "100m", "300Mi")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	rv := h.get(p).ResourceVersion
	for range 3 {
		if st := h.sync(); st.Resizes != 0 || st.ResizesNoRoom != 1 {
			t.Errorf("sync %+v: want no resize and one pod held for room", st)
		}
	}
	if got := h.get(p); got.ResourceVersion != rv {
		t.Errorf("pod written although its node has no room")
	}
	ev := strings.Join(h.events(), "\n")
	if strings.Count(ev, "ResizeNoRoom") != 2 || !strings.Contains(ev, "has no room: memory") {
		t.Errorf("events %q: want one ResizeNoRoom on the pod and one on the Decision, naming memory", ev)
	}
}

// Shadow mode runs the same pass and writes nothing to the pod: the
// Decision's lastResize and Resizing condition say what it would do.
func TestResizeShadowWritesNothing(t *testing.T) {
	h := newHarness(t)
	node := h.node("big", "4", "8Gi")
	d := h.deployment("web", requestsPolicy(config.AnnotationMode, "shadow"))
	p := h.runningPod(d, "abcde", node, "10m", "50Mi")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	rv := h.get(p).ResourceVersion
	for range 3 {
		if st := h.sync(); st.Resizes != 0 {
			t.Errorf("shadow sync %+v resized", st)
		}
	}
	if got := h.get(p); got.ResourceVersion != rv {
		t.Errorf("shadow mode wrote the pod")
	}
	dec := h.decision("web")
	lr := dec.Status.Requests.LastResize
	if lr == nil || lr.Outcome != OutcomeShadow || lr.Pod != p.Name {
		t.Errorf("lastResize %+v: want what shadow mode would do", lr)
	}
	if c := resizing(dec); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "would resize pod "+p.Name) {
		t.Errorf("Resizing = %+v: want False saying what it would resize", c)
	}
	if ev := strings.Join(h.events(), "\n"); strings.Contains(ev, "Resize") {
		t.Errorf("events %q: shadow mode records no resize Event", ev)
	}
}

// The cluster-wide rate (ResizesPerMinute) and the per-workload interval
// (one pod every ResizeEvery) hold resizes back until their time.
func TestResizeRateLimits(t *testing.T) {
	h := newHarness(t)
	h.ctrl.ResizesPerMinute = 2
	node := h.node("big", "16", "32Gi")
	for _, name := range []string{"a", "b", "c"} {
		h.runningPod(h.deployment(name, requestsPolicy()), "abcde", node, "10m", "50Mi")
	}
	two := h.deployment("two", requestsPolicy())
	h.runningPod(two, "aaaaa", node, "10m", "50Mi")
	h.runningPod(two, "bbbbb", node, "10m", "50Mi")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	var per []int
	for range 8 { // one a minute
		per = append(per, h.sync().Resizes)
	}
	t.Logf("resizes per minute: %v", per)
	// Minutes 0 and 1: two each (the rate); the second pod of "two"
	// waits ResizeEvery (5 minutes) after its first, at minute 1.
	if want := []int{2, 2, 0, 0, 0, 0, 1, 0}; fmt.Sprint(per) != fmt.Sprint(want) {
		t.Errorf("resizes per minute %v, want %v", per, want)
	}
}

// An Infeasible resize is left to the next pod with in-place (no
// eviction, Resizing=False); with in-place-or-recreate the pod is evicted
// through the Eviction API.
func TestResizeInfeasibleFallback(t *testing.T) {
	h := newHarness(t)
	node := h.node("big", "4", "8Gi")
	keep := h.runningPod(h.deployment("keep", requestsPolicy()), "abcde", node, "10m", "50Mi")
	evict := h.runningPod(h.deployment("evict", requestsPolicy(config.AnnotationResize, string(config.ResizeInPlaceOrRecreate))), "abcde", node, "10m", "50Mi")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	if st := h.sync(); st.Resizes != 2 {
		t.Fatalf("sync %+v: want both pods resized", st)
	}
	for _, p := range []*corev1.Pod{keep, evict} {
		got := h.get(p)
		got.Status.Conditions = append(got.Status.Conditions, corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionTrue,
			Reason: corev1.PodReasonInfeasible, Message: "Node didn't have enough capacity", LastTransitionTime: metav1.NewTime(h.clock.Now())})
		if err := h.c.Status().Update(context.Background(), got); err != nil {
			t.Fatal(err)
		}
	}
	h.events()
	h.sync()
	if got := h.get(keep); got.DeletionTimestamp != nil {
		t.Errorf("in-place evicted the pod")
	}
	dec := h.decision("keep")
	if lr := dec.Status.Requests.LastResize; lr == nil || lr.Outcome != OutcomeInfeasible {
		t.Errorf("keep lastResize %+v: want Infeasible", lr)
	}
	if c := resizing(dec); c.Status != metav1.ConditionFalse || c.Reason != "ResizeInfeasible" {
		t.Errorf("keep Resizing = %+v", c)
	}
	var gone corev1.Pod
	err := h.c.Get(context.Background(), client.ObjectKeyFromObject(evict), &gone)
	if err == nil && gone.DeletionTimestamp == nil {
		t.Errorf("in-place-or-recreate did not evict the pod")
	} else if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if lr := h.decision("evict").Status.Requests.LastResize; lr == nil || lr.Outcome != OutcomeRecreated {
		t.Errorf("evict lastResize %+v: want Recreated", lr)
	}
	ev := strings.Join(h.events(), "\n")
	if !strings.Contains(ev, "ResizeInfeasible") || !strings.Contains(ev, "ResizeRecreated") {
		t.Errorf("events %q: want ResizeInfeasible and ResizeRecreated", ev)
	}
}

// An OOM kill's bump is urgent: the killed pod's memory is raised in
// place at the next sync, although it is within the old bounds and the
// workload's last resize was a minute ago.
func TestResizeOOMUrgent(t *testing.T) {
	h := newHarness(t)
	node := h.node("big", "4", "8Gi")
	d := h.deployment("web", requestsPolicy())
	p := h.runningPod(d, "abcde", node, "10m", "50Mi")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	if st := h.sync(); st.Resizes != 1 {
		t.Fatalf("sync %+v: want the first resize", st)
	}
	before := value(h.get(p).Spec.Containers[0].Resources.Requests, corev1.ResourceMemory)
	got := h.get(p)
	killed := metav1.NewTime(h.clock.Now().Add(-10 * time.Second).Truncate(time.Second))
	// The status a resize-capable kubelet reports: the container's
	// resources (without them the apiserver refuses pods/resize with
	// "Pod running on node without support for resize").
	applied := got.Spec.Containers[0].Resources.DeepCopy()
	got.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "app", ImageID: "app", RestartCount: 1, Ready: true, Resources: applied,
		State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: killed}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: killed}}}}
	if err := h.c.Status().Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	st := h.sync()
	if st.OOMs != 1 || st.Resizes != 1 {
		t.Fatalf("sync after the OOM kill %+v: want it counted and the pod resized at once; events %q", st, h.events())
	}
	after := value(h.get(p).Spec.Containers[0].Resources.Requests, corev1.ResourceMemory)
	lr := h.decision("web").Status.Requests.LastResize
	if after <= before || lr == nil || !strings.Contains(lr.Change, "OOM kill") {
		t.Errorf("memory %v → %v, lastResize %+v: want a raise naming the OOM kill", before, after, lr)
	}
	if lr.Outcome != OutcomeInProgress {
		t.Errorf("outcome %s: want InProgress until the kubelet reports the new requests", lr.Outcome)
	}
	t.Logf("OOM: %s", lr.Change)
}

// A pod whose node does not report container resources (an old kubelet,
// kwok without resize stages) cannot be resized: the apiserver refuses,
// the refusal is recorded once, and the same change is not asked again.
func TestResizeRefusedOnce(t *testing.T) {
	h := newHarness(t)
	node := h.node("big", "4", "8Gi")
	d := h.deployment("web", requestsPolicy())
	p := h.runningPod(d, "abcde", node, "10m", "50Mi")
	got := h.get(p)
	got.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "app", ImageID: "app", Ready: true,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(start)}}}}
	if err := h.c.Status().Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	if st := h.sync(); st.ResizesFailed != 1 {
		t.Fatalf("sync %+v: want the resize refused", st)
	}
	for range 3 {
		h.clock.Step(DefaultResizeEvery)
		if st := h.sync(); st.ResizesFailed != 0 || st.Resizes != 0 {
			t.Errorf("sync %+v: the refused change was asked again", st)
		}
	}
	dec := h.decision("web")
	if lr := dec.Status.Requests.LastResize; lr == nil || lr.Outcome != OutcomeFailed {
		t.Errorf("lastResize %+v: want Failed", lr)
	}
	if c := resizing(dec); c.Status != metav1.ConditionFalse || c.Reason != "ResizeFailed" {
		t.Errorf("Resizing = %+v", c)
	}
	if ev := strings.Join(h.events(), "\n"); strings.Count(ev, "ResizeFailed") != 2 || !strings.Contains(ev, "without support for resize") {
		t.Errorf("events %q: want one ResizeFailed on the pod and one on the Decision, quoting the apiserver", ev)
	}
}

// A restarted controller follows the resize its Decision says is in
// flight, from the Decision's lastResize.
func TestResizeFollowedAfterRestart(t *testing.T) {
	h := newHarness(t)
	node := h.node("big", "4", "8Gi")
	p := h.runningPod(h.deployment("web", requestsPolicy()), "abcde", node, "10m", "50Mi")
	h.constantUsage(0.05, 300<<20, start.Add(-9*24*time.Hour))
	if st := h.sync(); st.Resizes != 1 {
		t.Fatalf("sync %+v: want one resize", st)
	}
	got := h.get(p)
	got.Status.Conditions = append(got.Status.Conditions, corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionTrue,
		Reason: corev1.PodReasonDeferred, Message: "Node didn't have enough resource: memory", LastTransitionTime: metav1.NewTime(h.clock.Now())})
	if err := h.c.Status().Update(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	h.ctrl = h.newController()
	h.sync()
	if lr := h.decision("web").Status.Requests.LastResize; lr == nil || lr.Outcome != OutcomeInProgress {
		t.Fatalf("lastResize %+v: deferred for a minute is still in progress", lr)
	}
	h.clock.Step(DefaultResizeDeferredFor)
	h.sync()
	if lr := h.decision("web").Status.Requests.LastResize; lr == nil || lr.Outcome != OutcomeDeferred {
		t.Errorf("lastResize %+v: want Deferred after %s", lr, DefaultResizeDeferredFor)
	}
}
