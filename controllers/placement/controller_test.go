package placement

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/test/apitest"
)

// The controller runs against a real apiserver (envtest): evictions, PDB
// checks and UID preconditions are the apiserver's. There is no scheduler,
// kubelet or controller-manager: pods are created bound, and the test sets
// the PDB's status as the disruption controller would.

// start gives each test its own apiserver: the controller lists every
// Decision, so one test's workloads must not be another's.
func start(t *testing.T) client.Client {
	_, c := apitest.Own(t)
	return c
}

// counting is the real client, counting eviction requests by pod.
type counting struct {
	client.Client
	mu      sync.Mutex
	evicted []string
}

func (c *counting) SubResource(sub string) client.SubResourceClient {
	return countingSub{c.Client.SubResource(sub), c, sub}
}

type countingSub struct {
	client.SubResourceClient
	c   *counting
	sub string
}

func (s countingSub) Create(ctx context.Context, obj client.Object, sub client.Object, opts ...client.SubResourceCreateOption) error {
	if s.sub == "eviction" {
		s.c.mu.Lock()
		s.c.evicted = append(s.c.evicted, obj.GetName())
		s.c.mu.Unlock()
	}
	return s.SubResourceClient.Create(ctx, obj, sub, opts...)
}

func (c *counting) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.evicted...)
}

// TestInterruptionMovesBatchPodsOnce: a spot node gets NTH's interruption
// taint. The batch Deployment's two pods on it are moved within its PDB
// (one eviction allowed: the first goes, the second is refused and backed
// off), the next rounds ask for nothing more until the backoff has passed
// and the PDB allows it, the critical pod on the same node and the batch
// pod on a healthy node are never asked for.
func TestInterruptionMovesBatchPodsOnce(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	s := config.DefaultSettings()
	node := func(name, capType string, taints ...corev1.Taint) {
		createReadyNode(t, c, name, capType, "c3.xlarge", taints...)
	}
	spotTaint := s.SpotTaint
	node("spot-a", s.SpotValue, spotTaint, corev1.Taint{Key: config.NTHTaints[0], Effect: corev1.TaintEffectNoSchedule})
	node("spot-b", s.SpotValue, spotTaint)
	node("od-1", s.OnDemandValue)

	ns := "shop"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{config.NamespaceLabel: "true"}}}); err != nil {
		t.Fatal(err)
	}
	workload := func(name string, class config.Class, nodes ...string) {
		labels := map[string]string{"app": name}
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{config.AnnotationClass: string(class), config.AnnotationMode: string(config.ModeEnforce)}},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(len(nodes))), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
		if err := c.Create(ctx, dep); err != nil {
			t.Fatal(err)
		}
		d := &v1alpha1.Decision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name}}}
		if err := c.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		for i, n := range nodes {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", name, i), Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-rs", UID: "rs-" + "uid", Controller: ptr.To(true)}}},
				Spec: corev1.PodSpec{NodeName: n, Containers: []corev1.Container{{Name: "c", Image: "busybox",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}},
					Tolerations: []corev1.Toleration{{Key: spotTaint.Key, Operator: corev1.TolerationOpEqual, Value: spotTaint.Value, Effect: spotTaint.Effect}}}}
			if err := c.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
			if err := c.Status().Update(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	workload("etl", config.ClassBatch, "spot-a", "spot-a", "spot-b")
	workload("web", config.ClassCritical, "spot-a")
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "etl"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "etl"}}}}
	if err := c.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	setPDB := func(allowed int32) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(pdb), pdb); err != nil {
			t.Fatal(err)
		}
		pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: allowed, CurrentHealthy: 3, DesiredHealthy: 1, ExpectedPods: 3}
		if err := c.Status().Update(ctx, pdb); err != nil {
			t.Fatal(err)
		}
	}
	setPDB(1)

	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	cc := &counting{Client: c}
	ctrl := &Controller{Client: cc, Settings: s, Placer: config.DefaultPlacerSettings(), Clock: clk}
	gone := func(name string) bool {
		var p corev1.Pod
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p)
		return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil)
	}
	sync := func() {
		t.Helper()
		if _, err := ctrl.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}

	sync()
	if got := cc.requests(); len(got) != 2 || got[0] != "etl-0" || got[1] != "etl-1" {
		t.Fatalf("first round asked to evict %v, want etl-0 and etl-1 (the batch pods on the interrupted node)", got)
	}
	if !gone("etl-0") || gone("etl-1") || gone("etl-2") || gone("web-0") {
		t.Errorf("after the first round: etl-0 %v etl-1 %v etl-2 %v web-0 %v; want only etl-0 evicted (the PDB refuses etl-1)", gone("etl-0"), gone("etl-1"), gone("etl-2"), gone("web-0"))
	}
	var d v1alpha1.Decision
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "etl"}, &d); err != nil {
		t.Fatal(err)
	}
	p := d.Status.Placement
	if p == nil || len(p.Moves) != 2 || p.Moves[0].Kind != v1alpha1.MoveInterruption || p.Moves[1].State != v1alpha1.MoveBlocked || len(p.Evictions) != 1 {
		t.Fatalf("etl's placement %+v", p)
	}
	t.Logf("etl-0: %s", p.Moves[0].Reason)

	// Rounds within the backoff ask for nothing.
	for range 2 {
		clk.Step(4 * time.Second)
		sync()
	}
	if got := cc.requests(); len(got) != 2 {
		t.Errorf("rounds within the backoff asked for %v", got)
	}
	// Past the backoff, with the PDB allowing it again, etl-1 goes; no
	// pod is asked for twice and the others never.
	clk.Step(5 * time.Second)
	setPDB(1)
	sync()
	clk.Step(15 * time.Second)
	sync()
	if got := cc.requests(); len(got) != 3 || got[2] != "etl-1" || !gone("etl-1") || gone("etl-2") || gone("web-0") {
		t.Errorf("requests %v; etl-1 gone %v, etl-2 %v, web-0 %v", got, gone("etl-1"), gone("etl-2"), gone("web-0"))
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &d); err != nil {
		t.Fatal(err)
	}
	if d.Status.Placement != nil && len(d.Status.Placement.Moves) != 0 {
		t.Errorf("the critical workload has moves: %+v", d.Status.Placement.Moves)
	}

	// No kubelet: etl-0 and etl-1 stay terminating. Once their eviction
	// records have left the budget window, later rounds neither count
	// them again nor ask for them.
	lastEviction := clk.Now()
	for range 4 {
		clk.Step(45 * time.Second)
		sync()
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "etl"}, &d); err != nil {
			t.Fatal(err)
		}
		for _, ev := range d.Status.Placement.Evictions {
			if ev.Time.After(lastEviction) {
				t.Errorf("round at %s: eviction of %s recorded again at %s, after the last eviction at %s: a terminating pod counted twice", clk.Now().UTC().Format(time.RFC3339), ev.Pod, ev.Time.UTC().Format(time.RFC3339), lastEviction.UTC().Format(time.RFC3339))
			}
		}
	}
	evicted := 0
	for _, m := range d.Status.Placement.Moves {
		if m.State == v1alpha1.MoveEvicted {
			evicted++
		}
	}
	if got := cc.requests(); len(got) != 3 || evicted != 2 || !gone("etl-0") || !gone("etl-1") {
		t.Errorf("after 3 min of terminating pods: requests %v, %d moves shown Evicted (want 2)", got, evicted)
	}
}

// createReadyNode makes a Ready node in us-east-1a of instance type typ and
// capacity type capType (4 CPUs, 8Gi, 110 pods) with exactly taints: the
// apiserver's TaintNodesByCondition admission taints a new node not-ready,
// and with no node lifecycle controller in envtest the test lifts it.
func createReadyNode(t *testing.T, c client.Client, name, capType, typ string, taints ...corev1.Taint) {
	t.Helper()
	ctx := context.Background()
	s := config.DefaultSettings()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{s.CapacityTypeLabel: capType,
		corev1.LabelHostname: name, corev1.LabelInstanceTypeStable: typ, corev1.LabelTopologyZone: "us-east-1a"}},
		Spec: corev1.NodeSpec{Taints: taints}}
	if err := c.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}
	n.Status = corev1.NodeStatus{Capacity: res, Allocatable: res, Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}
	if err := c.Status().Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.Spec.Taints = taints
	if err := c.Update(ctx, n); err != nil {
		t.Fatal(err)
	}
}
