package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// The requests controller acting on running pods on the local control
// plane: kwok emulates usage (its usage annotations), Prometheus scrapes
// it, the apiserver actuates pods/resize and kwok's pod-resize stage
// reports it applied as a kubelet would. Each test runs its own manager
// with short periods (5 s syncs, 10 s resize interval).

// requestsManager starts a manager running the requests controller (and
// the decision controller, which creates the Decisions) against
// prometheus, with short periods; opts adjust it further.
func requestsManager(t *testing.T, prometheus string, opts ...func(*manager.Options)) *testManager {
	t.Helper()
	if !cluster.Start(t).Config.KwokUsage {
		t.Skip("the cluster runs kwok without usage emulation")
	}
	return decisionManager(t, prometheus, append([]func(*manager.Options){func(o *manager.Options) {
		o.Requests = true
		o.RequestsPeriod = 5 * time.Second
		o.RequestsStep = 10 * time.Second
		o.RequestsLag = 2 * time.Second
		o.RequestsMinHistory = time.Minute
		o.RequestsResizeEvery = 10 * time.Second
	}}, opts...)...)
}

// recommendation returns the Decision's recommendation for container, nil
// when there is none yet.
func (e *env) recommendation(t *testing.T, c client.Client, workload, container string) (*v1alpha1.ContainerRecommendation, *v1alpha1.Decision) {
	t.Helper()
	d := e.decision(t, c, workload)
	if d == nil || d.Status.Requests == nil {
		return nil, d
	}
	for i := range d.Status.Requests.Containers {
		if r := &d.Status.Requests.Containers[i]; r.Name == container {
			return r, d
		}
	}
	return nil, d
}

// requestsCondition returns status.requests' condition typ as
// "Status/Reason", "" when unset.
func requestsCondition(d *v1alpha1.Decision, typ string) string {
	if d == nil || d.Status.Requests == nil {
		return ""
	}
	for _, c := range d.Status.Requests.Conditions {
		if c.Type == typ {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

// onePod returns the only running pod of app.
func (e *env) onePod(ctx context.Context, app string) (*corev1.Pod, error) {
	pods, err := e.runningPods(ctx, "app="+app)
	if err != nil {
		return nil, err
	}
	if len(pods) != 1 {
		return nil, fmt.Errorf("%d running pods of %s, want 1", len(pods), app)
	}
	return &pods[0], nil
}

// applied reports whether the kubelet (kwok's pod-resize stage) reports
// the pod's container resources as its spec asks.
func applied(p *corev1.Pod, container string) error {
	for _, ctr := range p.Spec.Containers {
		if ctr.Name != container {
			continue
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.Name != container {
				continue
			}
			if s.Resources == nil {
				return fmt.Errorf("%s reports no resources", container)
			}
			for r, want := range ctr.Resources.Requests {
				if got := s.Resources.Requests[r]; got.Cmp(want) != 0 {
					return fmt.Errorf("%s reports %s %s, spec asks %s", container, r, got.String(), want.String())
				}
			}
			return nil
		}
	}
	return fmt.Errorf("no container %s", container)
}

func requestOf(p *corev1.Pod, container string, r corev1.ResourceName) resource.Quantity {
	for _, ctr := range p.Spec.Containers {
		if ctr.Name == container {
			return ctr.Resources.Requests[r]
		}
	}
	return resource.Quantity{}
}

// (b of issue 15) A leaking container is raised in place before its usage
// reaches its request. Three days of its workload's usage (an earlier pod
// whose memory rose 10 MiB/h to 900 MiB) are backfilled into Prometheus;
// the running pod uses 900 MiB (kwok's usage annotation) against a
// 950 MiB request and a 1000 MiB limit. The controller's warm start reads
// the history, the leak detector projects an OOM within its horizon and
// raises memory urgently; the pod is resized through pods/resize, kwok
// reports it applied, the Decision records it Done. The lead is how long
// the usage, at its rate, would still have taken to reach the old request.
func TestRequestsResizeAheadOfALeak(t *testing.T) {
	t.Parallel()
	cl := cluster.Start(t)
	base, err := cl.StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A one-minute step reads the 8-day warm start in a few requests.
	m := requestsManager(t, base, func(o *manager.Options) { o.RequestsStep = time.Minute })
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	const (
		rate    = 10.0  // MiB/h
		usage   = 900.0 // MiB now
		request = 950.0 // MiB
	)
	now := time.Now().Truncate(time.Minute)
	file := filepath.Join(t.TempDir(), "leak.om")
	if err := os.WriteFile(file, []byte(leakHistory(e.namespace, "leaky-5f6d7c8b9-hist1", "app", now, 3*24*time.Hour, rate, usage)), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cl.BackfillPrometheus(ctx, file); err != nil {
		t.Fatal(err)
	}
	t.Logf("3 days of history backfilled in %.0fs", time.Since(start).Seconds())
	d := deployment("leaky", 1, policy(config.AnnotationRequests, "auto", config.AnnotationMode, "enforce"))
	d.Spec.Template.Annotations = map[string]string{"kwok.x-k8s.io/usage-cpu": "50m", "kwok.x-k8s.io/usage-memory": fmt.Sprintf("%gMi", usage)}
	d.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resourceMust("50m"), corev1.ResourceMemory: resourceMust(fmt.Sprintf("%gMi", request))},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resourceMust("1000Mi")},
	}
	start = time.Now()
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pod *corev1.Pod
	eventually(t, 60*time.Second, func() error {
		pod, err = e.onePod(ctx, "leaky")
		return err
	})
	var rec *v1alpha1.ContainerRecommendation
	eventually(t, 90*time.Second, func() error {
		r, _ := e.recommendation(t, c, "leaky", "app")
		if r == nil || !r.Urgent {
			return fmt.Errorf("no urgent recommendation yet: %+v", r)
		}
		rec = r
		return nil
	})
	t.Logf("after %.0fs: urgent memory target %s (%s)", time.Since(start).Seconds(), rec.Target.Memory(), rec.MemoryReason)
	if !strings.Contains(rec.MemoryReason, "memory rising") {
		t.Errorf("memory reason %q: want the leak detector's", rec.MemoryReason)
	}
	var resized *corev1.Pod
	eventually(t, 60*time.Second, func() error {
		p, err := e.cs.CoreV1().Pods(e.namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := requestOf(p, "app", corev1.ResourceMemory); got.Cmp(resourceMust(fmt.Sprintf("%gMi", request))) <= 0 {
			return fmt.Errorf("memory request %s, not raised yet", got.String())
		}
		if err := applied(p, "app"); err != nil {
			return err
		}
		resized = p
		return nil
	})
	raised := time.Since(start)
	got := requestOf(resized, "app", corev1.ResourceMemory)
	if resized.UID != pod.UID || resized.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("pod %s (restarts %d): want the same pod resized in place", resized.Name, resized.Status.ContainerStatuses[0].RestartCount)
	}
	lead := time.Duration((request - usage) / rate * float64(time.Hour))
	t.Logf("resized in place %.0fs after the Deployment was created: memory %gMi→%s at usage %gMi; at %g MiB/h the usage would have reached the old request in %s (the lead)",
		raised.Seconds(), request, got.String(), usage, rate, lead)
	eventually(t, 30*time.Second, func() error {
		_, dec := e.recommendation(t, c, "leaky", "app")
		if dec == nil || dec.Status.Requests == nil || dec.Status.Requests.LastResize == nil || dec.Status.Requests.LastResize.Outcome != "Done" {
			return fmt.Errorf("lastResize %+v, want Done", dec)
		}
		t.Logf("lastResize: %s %s", dec.Status.Requests.LastResize.Outcome, dec.Status.Requests.LastResize.Change)
		return nil
	})
}

// leakHistory is OpenMetrics text of one container of pod over span
// ending at end, one sample a minute: memory rising rate MiB/h to usage
// MiB (with a 5 MiB daily wiggle), CPU at 50m.
func leakHistory(ns, pod, container string, end time.Time, span time.Duration, rate, usage float64) string {
	var b strings.Builder
	labels := fmt.Sprintf("namespace=%q,pod=%q,container=%q", ns, pod, container)
	start := end.Add(-span)
	b.WriteString("# HELP container_cpu_usage_seconds_total CPU.\n# TYPE container_cpu_usage_seconds_total counter\n")
	for ts := start; ts.Before(end); ts = ts.Add(time.Minute) {
		fmt.Fprintf(&b, "container_cpu_usage_seconds_total{%s} %g %d\n", labels, 0.05*ts.Sub(start).Seconds(), ts.Unix())
	}
	b.WriteString("# HELP container_memory_working_set_bytes Memory.\n# TYPE container_memory_working_set_bytes gauge\n")
	for ts := start; ts.Before(end); ts = ts.Add(time.Minute) {
		h := end.Sub(ts).Hours()
		mib := usage - rate*h + 5*math.Sin(h*2*math.Pi/24)
		fmt.Fprintf(&b, "container_memory_working_set_bytes{%s} %d %d\n", labels, int64(mib*(1<<20)), ts.Unix())
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// (c) What the user keeps is kept: in a Deployment with requests: auto
// whose sidecar is pinned (trimtab.dev/requests-pinned), the app
// container is lowered in place from usage far below its requests while
// the sidecar keeps its requests, on the running pod and on a new one;
// a Deployment with requests: off beside it, using as little, is not
// touched at all.
func TestRequestsLeavePinnedAndOff(t *testing.T) {
	t.Parallel()
	base, err := cluster.Start(t).StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := requestsManager(t, base)
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	big := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resourceMust("1"), corev1.ResourceMemory: resourceMust("1Gi")}}
	usage := map[string]string{"kwok.x-k8s.io/usage-cpu": "20m", "kwok.x-k8s.io/usage-memory": "300Mi"}
	pinned := deployment("pinned", 1, policy(config.AnnotationRequests, "auto", config.AnnotationMode, "enforce", config.AnnotationRequestsPinned, "sidecar"))
	pinned.Spec.Template.Annotations = usage
	pinned.Spec.Template.Spec.Containers[0].Resources = big
	pinned.Spec.Template.Spec.Containers = append(pinned.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar", Image: "registry.k8s.io/pause:3.10", Resources: big})
	off := deployment("off", 1, policy(config.AnnotationRequests, "off", config.AnnotationMode, "enforce"))
	off.Spec.Template.Annotations = usage
	off.Spec.Template.Spec.Containers[0].Resources = big
	for _, d := range []string{"pinned", "off"} {
		dep := pinned
		if d == "off" {
			dep = off
		}
		if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var first, offPod *corev1.Pod
	eventually(t, 60*time.Second, func() error {
		if first, err = e.onePod(ctx, "pinned"); err != nil {
			return err
		}
		offPod, err = e.onePod(ctx, "off")
		return err
	})
	start := time.Now()
	// The app container is lowered in place: the positive control.
	var p *corev1.Pod
	eventually(t, 150*time.Second, func() error {
		if p, err = e.cs.CoreV1().Pods(e.namespace).Get(ctx, first.Name, metav1.GetOptions{}); err != nil {
			return err
		}
		if got := requestOf(p, "app", corev1.ResourceMemory); got.Cmp(resourceMust("1Gi")) >= 0 {
			return fmt.Errorf("app requests memory %s, not lowered yet", got.String())
		}
		return applied(p, "app")
	})
	t.Logf("app lowered in place after %.0fs: cpu %s, memory %s", time.Since(start).Seconds(),
		ptrQ(requestOf(p, "app", corev1.ResourceCPU)), ptrQ(requestOf(p, "app", corev1.ResourceMemory)))
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if got, want := requestOf(p, "sidecar", r), big.Requests[r]; got.Cmp(want) != 0 {
			t.Errorf("pinned sidecar requests %s %s after the resize, want %s kept", r, got.String(), want.String())
		}
	}
	rec, _ := e.recommendation(t, c, "pinned", "sidecar")
	if rec == nil || rec.Mode != "Off" || len(rec.Target) != 0 {
		t.Errorf("sidecar's recommendation %+v: want Mode Off and no target", rec)
	}
	// A new pod gets the app's learned requests, the sidecar its own, and
	// its annotation says the sidecar is pinned.
	if err := e.cs.CoreV1().Pods(e.namespace).Delete(ctx, first.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		pods, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=pinned"})
		if err != nil {
			return err
		}
		for _, np := range pods.Items {
			if np.Name == first.Name {
				continue
			}
			ann := np.Annotations[config.AnnotationResources]
			if !strings.Contains(ann, "sidecar") || !strings.Contains(ann, "app:") {
				return fmt.Errorf("new pod %s: %s=%q, want app's change and sidecar named pinned", np.Name, config.AnnotationResources, ann)
			}
			if got := requestOf(&np, "app", corev1.ResourceMemory); got.Cmp(resourceMust("1Gi")) >= 0 {
				return fmt.Errorf("new pod's app requests memory %s, want the learned one", got.String())
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if got, want := requestOf(&np, "sidecar", r), big.Requests[r]; got.Cmp(want) != 0 {
					t.Errorf("new pod's pinned sidecar requests %s %s, want %s", r, got.String(), want.String())
				}
			}
			t.Logf("new pod %s: %s=%q", np.Name, config.AnnotationResources, ann)
			return nil
		}
		return fmt.Errorf("no new pod yet")
	})
	// requests: off: the same pod, as written, and no recommendations.
	now, err := e.cs.CoreV1().Pods(e.namespace).Get(ctx, offPod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the requests: off pod: %v", err)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if got, want := requestOf(now, "app", r), big.Requests[r]; got.Cmp(want) != 0 {
			t.Errorf("requests: off pod requests %s %s, want %s untouched", r, got.String(), want.String())
		}
	}
	if now.Generation != offPod.Generation {
		t.Errorf("requests: off pod's generation %d→%d: its spec was changed", offPod.Generation, now.Generation)
	}
	if d := e.decision(t, c, "off"); d != nil && d.Status.Requests != nil {
		t.Errorf("requests: off workload has recommendations: %+v", d.Status.Requests)
	}
}

func ptrQ(q resource.Quantity) string { return q.String() }

// (d) Prometheus unreachable: the manager reads it through a proxy that
// the test closes once a lower target was learned. The condition goes
// SignalsFresh=False, and while the usage falls further nothing is
// lowered: the Decision holds its target.
func TestRequestsHoldWithoutPrometheus(t *testing.T) {
	t.Parallel()
	base, err := cluster.Start(t).StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newProxy(t, base)
	m := requestsManager(t, proxy.url())
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	d := deployment("held", 1, policy(config.AnnotationRequests, "auto", config.AnnotationMode, "enforce", config.AnnotationResize, "off"))
	d.Spec.Template.Annotations = map[string]string{"kwok.x-k8s.io/usage-cpu": "200m", "kwok.x-k8s.io/usage-memory": "600Mi"}
	d.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resourceMust("1"), corev1.ResourceMemory: resourceMust("1Gi")}}
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var held corev1.ResourceList
	eventually(t, 150*time.Second, func() error {
		r, _ := e.recommendation(t, c, "held", "app")
		if r == nil || r.Target.Memory().Cmp(resourceMust("1Gi")) >= 0 {
			return fmt.Errorf("no lower target yet: %+v", r)
		}
		held = r.Target
		return nil
	})
	t.Logf("learned cpu %s, memory %s; closing Prometheus", held.Cpu(), held.Memory())
	proxy.stop()
	stopped := time.Now()
	eventually(t, 30*time.Second, func() error {
		if got := requestsCondition(e.decision(t, c, "held"), v1alpha1.SignalsFresh); !strings.HasPrefix(got, "False/") {
			return fmt.Errorf("SignalsFresh %q", got)
		}
		return nil
	})
	// What the last successful read left is what must hold.
	r, dec := e.recommendation(t, c, "held", "app")
	if r == nil || r.Target.Memory().Cmp(resourceMust("1Gi")) >= 0 {
		t.Fatalf("recommendation %+v once Prometheus went away, want the lower target kept", r)
	}
	held = r.Target
	t.Logf("SignalsFresh=%s %.0fs after Prometheus went away; holding cpu %s, memory %s", requestsCondition(dec, v1alpha1.SignalsFresh),
		time.Since(stopped).Seconds(), held.Cpu(), held.Memory())
	// The usage falls to a tenth; unseen, it must change nothing.
	pod, err := e.onePod(ctx, "held")
	if err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"metadata":{"annotations":{"kwok.x-k8s.io/usage-cpu":"20m","kwok.x-k8s.io/usage-memory":"60Mi"}}}`)
	if _, err := e.cs.CoreV1().Pods(e.namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 5 { // five syncs
		time.Sleep(6 * time.Second)
		r, dec := e.recommendation(t, c, "held", "app")
		if r == nil || r.Target.Memory().Cmp(*held.Memory()) != 0 || r.Target.Cpu().Cmp(*held.Cpu()) != 0 {
			t.Fatalf("recommendation %+v during the outage, want the target %v held", r, held)
		}
		if got := requestsCondition(dec, v1alpha1.SignalsFresh); !strings.HasPrefix(got, "False/") {
			t.Fatalf("SignalsFresh %q during the outage", got)
		}
	}
	evs, err := e.cs.EventsV1().Events(e.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, ev := range evs.Items {
		reasons = append(reasons, ev.Reason)
	}
	if !strings.Contains(strings.Join(reasons, ","), "SignalsMissing") {
		t.Errorf("Events %v: no SignalsMissing", reasons)
	}
}

// (e) An OOM kill bumps memory once. The test writes what a kubelet
// would after one (lastState.terminated.reason OOMKilled, restartCount 1)
// through the pod's status; the controller counts it (lastOOM), raises
// memory urgently past the limit the container died at, and the pod is
// resized in place. Later syncs see the same status and bump nothing.
func TestRequestsOOMBumpsOnce(t *testing.T) {
	t.Parallel()
	base, err := cluster.Start(t).StartPrometheus(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := requestsManager(t, base)
	e := newEnv(t, m.optedIn())
	c := e.client(t)
	ctx := context.Background()
	d := deployment("oom", 1, policy(config.AnnotationRequests, "auto", config.AnnotationMode, "enforce"))
	d.Spec.Template.Annotations = map[string]string{"kwok.x-k8s.io/usage-cpu": "50m", "kwok.x-k8s.io/usage-memory": "250Mi"}
	d.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resourceMust("100m"), corev1.ResourceMemory: resourceMust("300Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resourceMust("300Mi")},
	}
	if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pod *corev1.Pod
	eventually(t, 60*time.Second, func() error {
		if pod, err = e.onePod(ctx, "oom"); err != nil {
			return err
		}
		return applied(pod, "app")
	})
	// The kill comes before the controller has a minute of usage: until
	// then nothing goes below the template, so the pod is not resized for
	// any other reason.
	killed := metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second))
	for try := 0; ; try++ {
		s := pod.Status.ContainerStatuses[0]
		s.RestartCount = 1
		s.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 137, Reason: "OOMKilled", StartedAt: s.State.Running.StartedAt, FinishedAt: killed,
		}}
		s.State.Running.StartedAt = killed
		pod.Status.ContainerStatuses[0] = s
		_, err := e.cs.CoreV1().Pods(e.namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		if err == nil {
			break
		}
		if try == 5 {
			t.Fatalf("writing the OOM kill into the pod's status: %v", err)
		}
		if pod, err = e.cs.CoreV1().Pods(e.namespace).Get(ctx, pod.Name, metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var bumped *v1alpha1.ContainerRecommendation
	eventually(t, 60*time.Second, func() error {
		r, _ := e.recommendation(t, c, "oom", "app")
		if r == nil || r.LastOOM == nil || !r.LastOOM.Equal(&killed) {
			return fmt.Errorf("OOM kill not counted yet: %+v", r)
		}
		if r.Target.Memory().Cmp(resourceMust("300Mi")) <= 0 {
			return fmt.Errorf("memory target %s after the OOM kill, want above the 300Mi limit", r.Target.Memory())
		}
		bumped = r
		return nil
	})
	t.Logf("OOM kill counted after %.0fs: memory target %s (%s)", time.Since(start).Seconds(), bumped.Target.Memory(), bumped.MemoryReason)
	var resized *corev1.Pod
	eventually(t, 60*time.Second, func() error {
		p, err := e.cs.CoreV1().Pods(e.namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := requestOf(p, "app", corev1.ResourceMemory); got.Cmp(resourceMust("300Mi")) <= 0 {
			return fmt.Errorf("memory request %s, not raised yet", got.String())
		}
		if err := applied(p, "app"); err != nil {
			return err
		}
		resized = p
		return nil
	})
	mem := requestOf(resized, "app", corev1.ResourceMemory)
	lim := resized.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]
	t.Logf("resized in place after %.0fs: memory request %s, limit %s", time.Since(start).Seconds(), mem.String(), lim.String())
	if got := resized.Status.ContainerStatuses[0].LastTerminationState.Terminated; got == nil || got.Reason != "OOMKilled" {
		t.Fatalf("the OOM kill left the status after the resize: %+v", resized.Status.ContainerStatuses[0])
	}
	// Six more syncs see the same OOMKilled status, now against the raised
	// limit: a second count would bump memory again (x1.2 or +100 MiB at
	// least). Nothing rises.
	for range 6 {
		time.Sleep(5 * time.Second)
		r, _ := e.recommendation(t, c, "oom", "app")
		if r == nil || r.LastOOM == nil || !r.LastOOM.Equal(&killed) {
			t.Fatalf("recommendation %+v on a later sync, want the one kill at %s kept", r, killed)
		}
		if r.Target.Memory().Cmp(*bumped.Target.Memory()) > 0 {
			t.Fatalf("memory target %s (%s) on a later sync, above the bump's %s: counted twice", r.Target.Memory(), r.MemoryReason, bumped.Target.Memory())
		}
		p, err := e.cs.CoreV1().Pods(e.namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := requestOf(p, "app", corev1.ResourceMemory); got.Cmp(mem) > 0 {
			t.Fatalf("memory request %s on a later sync, above %s: bumped twice", got.String(), mem.String())
		}
	}
}
