package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// placedPods reads the pod count of a batched CapacityAssigned Event.
var placedPods = regexp.MustCompile(`^placed (\d+) pods? in `)

// TestCapacityAutoHonoursOnDemandBase: a Deployment of 12 with capacity auto
// and an on-demand base of 2 gets exactly 2 pods on on-demand nodes and 10 on
// spot nodes, placed there by the real kube-scheduler from the affinity the
// webhook stamped. The ReplicaSet controller creates the pods in concurrent
// batches (1, 2, 4, 5), so the base survives concurrent admission.
func TestCapacityAutoHonoursOnDemandBase(t *testing.T) {
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)

	dep := deployment("web", 12, map[string]string{
		config.AnnotationClass:        "standard",
		config.AnnotationCapacity:     "auto",
		config.AnnotationOnDemandBase: "2",
		config.AnnotationMode:         "enforce",
	})
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment: %v", err)
	}
	pods := e.waitRunning(t, "app=web", 12)
	byCapacity := e.countByCapacity(t, pods)
	if byCapacity[cluster.CapacityOnDemand] != 2 || byCapacity[cluster.CapacitySpot] != 10 {
		t.Errorf("pods per capacity type = %v, want 2 on-demand and 10 spot", byCapacity)
	}
	for _, p := range pods {
		d := p.Annotations[config.AnnotationDecision]
		if !strings.HasPrefix(d, p.Labels[mutating.LabelPlacement]+" (") {
			t.Errorf("pod %s decision annotation %q does not start with its placement", p.Name, d)
		}
		if j := p.Annotations[config.AnnotationDecisionJSON]; !strings.Contains(j, `"workload":"Deployment/web"`) {
			t.Errorf("pod %s %s = %q, want it to name the workload", p.Name, config.AnnotationDecisionJSON, j)
		}
		if got := p.Labels[mutating.LabelPlacement]; got == "" {
			t.Errorf("pod %s lacks the %s label", p.Name, mutating.LabelPlacement)
		}
	}

	// kubectl describe pod shows the pod's decision annotation; kubectl
	// describe deployment the Events that sum up its pods' placements
	// (one at once for the first pod, then one per interval).
	victim := pods[0]
	out, err := kubectl(t, "describe", "pod", "-n", e.namespace, victim.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, config.AnnotationDecision) {
		t.Errorf("kubectl describe pod lacks %q:\n%s", config.AnnotationDecision, out)
	}
	eventually(t, 45*time.Second, func() error {
		out, err := kubectl(t, "describe", "deployment", "-n", e.namespace, "web")
		if err != nil {
			return err
		}
		if !strings.Contains(out, mutating.ReasonCapacityAssigned) || !strings.Contains(out, "Deployment/web") {
			return fmt.Errorf("kubectl describe deployment lacks %s Events:\n%s", mutating.ReasonCapacityAssigned, out)
		}
		// Together the Events count every pod once.
		evs, err := e.cs.EventsV1().Events(e.namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		counted := 0
		var notes []string
		for _, ev := range evs.Items {
			if ev.Reason != mutating.ReasonCapacityAssigned || ev.Regarding.Kind != "Deployment" || ev.Regarding.Name != "web" {
				continue
			}
			notes = append(notes, ev.Note)
			if m := placedPods.FindStringSubmatch(ev.Note); m != nil {
				n, _ := strconv.Atoi(m[1])
				counted += n
			} else if strings.HasPrefix(ev.Note, "pod web-") {
				counted++
			}
		}
		if counted != 12 {
			return fmt.Errorf("%s Events on Deployment/web count %d pods, want 12: %q", mutating.ReasonCapacityAssigned, counted, notes)
		}
		return nil
	})
}

// TestNamespaceNotOptedInIsUntouched: the same Deployment in a namespace
// without the opt-in label gets pods exactly as written.
func TestNamespaceNotOptedInIsUntouched(t *testing.T) {
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, map[string]string{runLabel: m.name}) // routed to m, but not opted in
	dep := deployment("web", 2, map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.waitRunning(t, "app=web", 2) {
		trimtabLabels := 0
		for k := range p.Labels {
			if strings.HasPrefix(k, config.Prefix) {
				trimtabLabels++
			}
		}
		if len(p.Annotations) > 0 || p.Spec.Affinity != nil || len(p.Spec.Tolerations) > 2 || trimtabLabels > 0 {
			t.Errorf("pod %s in a namespace not opted in was changed: annotations %v, affinity %v, labels %v", p.Name, p.Annotations, p.Spec.Affinity, p.Labels)
		}
	}
}

// TestBadAnnotationRejected: the validating webhook refuses a Deployment
// whose policy is malformed, with the message naming key, value and form.
func TestBadAnnotationRejected(t *testing.T) {
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)
	dep := deployment("bad", 1, map[string]string{config.AnnotationReplicas: "10..2"})
	_, err := e.cs.AppsV1().Deployments(e.namespace).Create(context.Background(), dep, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("creating a Deployment with replicas 10..2: got %v, want Invalid", err)
	}
	want := `metadata.annotations[trimtab.dev/replicas]: Invalid value: "10..2": min must be ≤ max, e.g. "2..10"`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("rejection message\n  %s\nlacks\n  %s", err, want)
	}
}

// TestPodsAdmittedWithManagerStopped: with the webhooks registered but the
// manager gone, pods are still created (failurePolicy Ignore), unchanged,
// well within the webhook timeout.
func TestPodsAdmittedWithManagerStopped(t *testing.T) {
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)
	m.stop()

	start := time.Now()
	dep := deployment("web", 3, map[string]string{config.AnnotationCapacity: "spot", config.AnnotationMode: "enforce"})
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a Deployment with the manager stopped: %v", err)
	}
	pods := e.waitRunning(t, "app=web", 3)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("3 pods took %s to run with the manager stopped; each admission should fail open at once", took)
	}
	for _, p := range pods {
		if _, ok := p.Annotations[config.AnnotationDecision]; ok {
			t.Errorf("pod %s carries a decision although the manager was stopped", p.Name)
		}
	}
}

// waitRunning waits for n Running pods matching selector.
func (e *env) waitRunning(t *testing.T, selector string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	eventuallyExplained(t, 90*time.Second, func() error {
		var err error
		pods, err = e.runningPods(context.Background(), selector)
		if err == nil && len(pods) != n {
			err = fmt.Errorf("%d of %d pods Running", len(pods), n)
		}
		return err
	}, func() string { return "pods: " + e.podStates(context.Background(), selector) })
	return pods
}

// countByCapacity counts pods by the capacity-type label of their node.
func (e *env) countByCapacity(t *testing.T, pods []corev1.Pod) map[string]int {
	t.Helper()
	nodes, err := e.cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	capacityOf := map[string]string{}
	for _, n := range nodes.Items {
		capacityOf[n.Name] = n.Labels[cluster.LabelCapacityType]
	}
	out := map[string]int{}
	for _, p := range pods {
		out[capacityOf[p.Spec.NodeName]]++
	}
	return out
}

// kubectl runs the kubectl the control plane was built with.
func kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cl := cluster.Start(t)
	args = append([]string{"--kubeconfig", cl.Config.Kubeconfig(), "--cache-dir", filepath.Join(t.TempDir(), "kube-cache")}, args...)
	out, err := exec.Command(filepath.Join(cl.Config.KubernetesBin, "kubectl"), args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// TestHPAInEnforceModeWarns: a Deployment an HPA already scales is admitted
// in enforce mode, with an admission warning saying the two will fight.
func TestHPAInEnforceModeWarns(t *testing.T) {
	ctx := context.Background()
	m := startManager(t)
	e := newEnv(t, m.optedIn())
	e.waitActive(t)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr.To[int32](1),
			MaxReplicas:    5,
		},
	}
	if _, err := e.cs.AutoscalingV2().HorizontalPodAutoscalers(e.namespace).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := cluster.Start(t).RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	var warnings warningRecorder
	cfg.WarningHandler = &warnings
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dep := deployment("web", 1, map[string]string{config.AnnotationMode: "enforce"})
	// The validating webhook reads HPAs from its informer cache, which may
	// not have seen the new HPA yet: retry with fresh names until it has.
	eventually(t, 30*time.Second, func() error {
		warnings.reset()
		_, err := cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if !warnings.contains("HorizontalPodAutoscaler " + e.namespace + "/web already scales this Deployment") {
			return fmt.Errorf("no HPA warning yet; warnings: %v", warnings.all())
		}
		return nil
	})
}

// warningRecorder collects the admission warnings the apiserver returns.
type warningRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warningRecorder) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = nil
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func (w *warningRecorder) contains(s string) bool {
	for _, m := range w.all() {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
