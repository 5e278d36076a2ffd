package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/placer/fit/fittest"
)

// placerRunKey labels and taints the nodes of one placer test run: only
// its pods select the label and tolerate the taint, so its pods land only
// on its nodes and no other test's pod lands there.
const placerRunKey = "e2e.trimtab.dev/placer-run"

// TestPlacerAgreement checks placer/fit against the real kube-scheduler:
// seeded random scenarios (fittest.Generate: requests, host ports, node
// selectors and affinity, taints and tolerations, cordoned nodes, spread
// constraints, inter-pod (anti-)affinity, and in every third scenario a
// Service that turns on default spreading), each on its own kwok nodes.
// Pods are created one at a time; each is simulated on a snapshot of the
// cluster read just before (so every earlier pod is where the scheduler
// bound it), then compared with what the scheduler did: bound or left Pending as
// unschedulable (feasibility), on which node (chosen node; exact, and among
// the nodes fit scores equal-best, since kube-scheduler breaks ties
// arbitrarily), and with what FailedScheduling message. Unschedulable pods
// are deleted at once, so a later pod can't make them schedulable behind
// the simulation's back.
//
// TRIMTAB_PLACER_SCENARIOS (default 20) and TRIMTAB_PLACER_PODS (50) size
// it; TRIMTAB_PLACER_SEED (1) picks the first seed. Run it with -v to see
// the figures; it fails below 99% feasibility agreement.
func TestPlacerAgreement(t *testing.T) {
	scenarios := envInt(t, "TRIMTAB_PLACER_SCENARIOS", 20)
	pods := envInt(t, "TRIMTAB_PLACER_PODS", 50)
	first := envInt(t, "TRIMTAB_PLACER_SEED", 1)
	ctx := context.Background()
	e := newEnv(t, nil)
	var total agreement
	for i := 0; i < scenarios; i++ {
		seed := uint64(first + i)
		a := runScenario(ctx, t, e, seed, pods)
		t.Logf("seed %2d: %s", seed, a)
		total.add(a)
	}
	t.Logf("all %d scenarios: %s", scenarios, total)
	for _, d := range total.disagreements {
		t.Logf("disagreement: %s", d)
	}
	if f := total.feasibility(); f < 0.99 {
		t.Errorf("feasibility agreement %.2f%%, want ≥ 99%%", 100*f)
	}
}

// agreement tallies one comparison.
type agreement struct {
	pods, agreeFeasible             int
	bothScheduled, exact, amongTies int
	bothUnschedulable, sameMessage  int
	disagreements                   []string
}

func (a *agreement) add(b agreement) {
	a.pods += b.pods
	a.agreeFeasible += b.agreeFeasible
	a.bothScheduled += b.bothScheduled
	a.exact += b.exact
	a.amongTies += b.amongTies
	a.bothUnschedulable += b.bothUnschedulable
	a.sameMessage += b.sameMessage
	a.disagreements = append(a.disagreements, b.disagreements...)
}

func (a agreement) feasibility() float64 { return float64(a.agreeFeasible) / float64(max(a.pods, 1)) }

func (a agreement) String() string {
	pct := func(n, d int) string { return fmt.Sprintf("%d/%d (%.1f%%)", n, d, 100*float64(n)/float64(max(d, 1))) }
	return fmt.Sprintf("feasibility %s; chosen node exact %s, among fit's equal-best %s; unschedulable message %s",
		pct(a.agreeFeasible, a.pods), pct(a.exact, a.bothScheduled), pct(a.amongTies, a.bothScheduled), pct(a.sameMessage, a.bothUnschedulable))
}

func runScenario(ctx context.Context, t *testing.T, e *env, seed uint64, pods int) agreement {
	t.Helper()
	run := fmt.Sprintf("%s-s%02d", e.namespace[len(e.namespace)-5:], seed)
	sc := fittest.Generate(seed, fittest.Options{
		Nodes:           8 + int(seed%5),
		Pods:            pods,
		Namespace:       e.namespace,
		NodePrefix:      "pf-" + run + "-",
		NodeLabels:      map[string]string{placerRunKey: run},
		NodeTaints:      []corev1.Taint{{Key: placerRunKey, Value: run, Effect: corev1.TaintEffectNoSchedule}},
		PodNodeSelector: map[string]string{placerRunKey: run},
		PodTolerations:  []corev1.Toleration{{Key: placerRunKey, Operator: corev1.TolerationOpEqual, Value: run, Effect: corev1.TaintEffectNoSchedule}},
	})
	defer cleanupScenario(ctx, t, e, sc)
	createKwokNodes(ctx, t, e, sc.Nodes)
	var services []*corev1.Service
	if seed%3 == 0 {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.namespace},
			Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		created, err := e.cs.CoreV1().Services(e.namespace).Create(ctx, svc, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		services = append(services, created)
	}
	// The scheduler sees node and Service changes through its informers; give
	// them a moment to arrive before the first pod.
	time.Sleep(time.Second)

	var a agreement
	for _, p := range sc.Pods {
		created, err := e.cs.CoreV1().Pods(e.namespace).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("seed %d: creating pod %s: %v", seed, p.Name, err)
		}
		node, message := waitScheduled(ctx, t, e, created.Name)
		// The simulation starts from the cluster as it is now, less this pod:
		// the pods bound before it and the nodes as the scheduler last saw
		// them (a node kwok was slow to renew may have gained a taint).
		got, verdicts := fit.New(clusterSnapshot(ctx, t, e, services, created.Name)).Explain(created) // the pod as admitted
		a.pods++
		where := fmt.Sprintf("seed %d pod %s", seed, p.Name)
		switch {
		case got.Scheduled() != (node != ""):
			a.disagreements = append(a.disagreements, fmt.Sprintf("%s: fit %q; kube-scheduler: node %q %s", where, got.Message(), node, message))
		case node == "":
			a.agreeFeasible++
			a.bothUnschedulable++
			if got.Message() == message {
				a.sameMessage++
			} else {
				a.disagreements = append(a.disagreements, fmt.Sprintf("%s: message\n  fit            %s\n  kube-scheduler %s", where, got.Message(), message))
			}
		default:
			a.agreeFeasible++
			a.bothScheduled++
			best := equalBest(verdicts)
			if got.Node == node {
				a.exact++
			}
			if slices.Contains(best, node) {
				a.amongTies++
			} else {
				a.disagreements = append(a.disagreements, fmt.Sprintf("%s: kube-scheduler chose %s, fit's best %v (%s)", where, node, best, scoresOf(verdicts)))
			}
		}
		if node == "" {
			deletePod(ctx, t, e, created.Name)
		}
	}
	return a
}

// clusterSnapshot reads what the scheduler works from: every node, the
// pods bound in the test's namespace (but skip), the namespace, services.
func clusterSnapshot(ctx context.Context, t *testing.T, e *env, services []*corev1.Service, skip string) fit.Snapshot {
	t.Helper()
	nodes, err := e.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := e.cs.CoreV1().Namespaces().Get(ctx, e.namespace, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	snap := fit.Snapshot{Namespaces: []*corev1.Namespace{ns}, Services: services}
	for i := range nodes.Items {
		snap.Nodes = append(snap.Nodes, &nodes.Items[i])
	}
	for i := range pods.Items {
		if pods.Items[i].Name != skip {
			snap.Pods = append(snap.Pods, &pods.Items[i])
		}
	}
	return snap
}

// waitScheduled waits until the scheduler binds the pod (its node) or
// reports it unschedulable (its message, less the preemption note).
func waitScheduled(ctx context.Context, t *testing.T, e *env, name string) (node, message string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		p, err := e.cs.CoreV1().Pods(e.namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Spec.NodeName != "" {
			node = p.Spec.NodeName
			return nil
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				message, _, _ = strings.Cut(c.Message, " preemption: ")
				return nil
			}
		}
		return fmt.Errorf("pod %s neither bound nor unschedulable yet", name)
	})
	return node, message
}

// equalBest lists the feasible nodes sharing the top score.
func equalBest(verdicts []fit.NodeVerdict) []string {
	var best []string
	top := int64(-1)
	for _, v := range verdicts {
		switch {
		case len(v.Reasons) > 0:
		case v.Score > top:
			top, best = v.Score, []string{v.Node}
		case v.Score == top:
			best = append(best, v.Node)
		}
	}
	return best
}

func scoresOf(verdicts []fit.NodeVerdict) string {
	var s []string
	for _, v := range verdicts {
		if len(v.Reasons) == 0 {
			s = append(s, fmt.Sprintf("%s=%d%v", v.Node, v.Score, v.Scores))
		}
	}
	return strings.Join(s, " ")
}

// createKwokNodes registers nodes for kwok to run and waits until they are
// Ready and the node lifecycle controller has lifted its not-ready taint.
func createKwokNodes(ctx context.Context, t testing.TB, e *env, nodes []*corev1.Node) {
	t.Helper()
	for _, n := range nodes {
		n = n.DeepCopy()
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations["kwok.x-k8s.io/node"] = "fake" // kwok manages nodes with this annotation
		if _, err := e.cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating node %s: %v", n.Name, err)
		}
		// Status is ignored on create, and allocatable must be set; the node
		// lifecycle controller may update the node in between.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			created, err := e.cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			created.Status.Capacity, created.Status.Allocatable = n.Status.Capacity, n.Status.Allocatable
			_, err = e.cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatalf("setting allocatable of node %s: %v", n.Name, err)
		}
	}
	eventually(t, 60*time.Second, func() error {
		for _, want := range nodes {
			n, err := e.cs.CoreV1().Nodes().Get(ctx, want.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			ready := false
			for _, c := range n.Status.Conditions {
				ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
			}
			if !ready {
				return fmt.Errorf("node %s not Ready", n.Name)
			}
			for _, tt := range n.Spec.Taints {
				if tt.Key == corev1.TaintNodeNotReady || tt.Key == corev1.TaintNodeUnreachable {
					return fmt.Errorf("node %s still tainted %s", n.Name, tt.Key)
				}
			}
		}
		return nil
	})
}

// cleanupScenario deletes the scenario's pods, Service and nodes.
func cleanupScenario(ctx context.Context, t testing.TB, e *env, sc fittest.Scenario) {
	pods := e.cs.CoreV1().Pods(e.namespace)
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{}); err != nil {
		t.Errorf("deleting the scenario's pods: %v", err)
	}
	_ = e.cs.CoreV1().Services(e.namespace).Delete(ctx, "web", metav1.DeleteOptions{})
	eventually(t, time.Minute, func() error {
		left, err := pods.List(ctx, metav1.ListOptions{})
		if err == nil && len(left.Items) > 0 {
			err = fmt.Errorf("%d pods left", len(left.Items))
		}
		return err
	})
	for _, n := range sc.Nodes {
		if err := e.cs.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting node %s: %v", n.Name, err)
		}
	}
}

func deletePod(ctx context.Context, t testing.TB, e *env, name string) {
	t.Helper()
	pods := e.cs.CoreV1().Pods(e.namespace)
	if err := pods.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		_, err := pods.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("pod %s still there (%v)", name, err)
	})
}
