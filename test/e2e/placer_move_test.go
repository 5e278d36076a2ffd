package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/manager"
	"github.com/trimtab-dev/trimtab/internal/speedclock"
	"github.com/trimtab-dev/trimtab/prices/ec2"
	"github.com/trimtab-dev/trimtab/prices/file"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/test/ec2fixture"
)

// The placer end to end: the real manager (--placer) on the local control
// plane, whose kube-scheduler places the replacements, whose ReplicaSet
// controller creates them, whose disruption controller keeps the PDBs'
// status (so a 429 is the apiserver's answer to a real PDB), and kwok runs
// the pods. Each test makes kwok nodes of its own (labelled and tainted
// with its run, which only its pods select and tolerate: no other test's
// pod lands there, its pods land nowhere else) and routes only its
// namespace to its manager, whose placer moves only that namespace's
// workloads. The placer's eviction requests are counted on the manager's
// own transport.

// evictionLog counts the eviction requests a manager made, by pod name and
// answer.
type evictionLog struct {
	mu   sync.Mutex
	reqs []evictionReq
}

type evictionReq struct {
	pod  string
	code int
	at   time.Time
}

// wrap is a transport.WrapperFunc recording every POST to a pod's eviction
// subresource and the apiserver's status code.
func (l *evictionLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/eviction") {
			parts := strings.Split(r.URL.Path, "/")
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			l.mu.Lock()
			l.reqs = append(l.reqs, evictionReq{pod: parts[len(parts)-2], code: code, at: time.Now()})
			l.mu.Unlock()
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// counts returns, per pod, the evictions accepted (2xx) and the total of
// 429 answers.
func (l *evictionLog) counts() (accepted map[string]int, tooMany int, other []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	accepted = map[string]int{}
	for _, r := range l.reqs {
		switch {
		case r.code >= 200 && r.code < 300:
			accepted[r.pod]++
		case r.code == http.StatusTooManyRequests:
			tooMany++
		default:
			other = append(other, fmt.Sprintf("%s: %d", r.pod, r.code))
		}
	}
	return accepted, tooMany, other
}

// firstAccepted is the first eviction request the apiserver accepted.
func (l *evictionLog) firstAccepted() (evictionReq, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.reqs {
		if r.code >= 200 && r.code < 300 {
			return r, true
		}
	}
	return evictionReq{}, false
}

// placerScene is one test's nodes, namespace and workloads.
type placerScene struct {
	t        *testing.T
	e        *env
	c        client.Client
	run      string
	settings config.Settings
	evicts   *evictionLog
}

// newPlacerScene makes the test's namespace (opted in, not yet routed to
// a manager) and its kwok nodes: spot ones in c3.xlarge/us-east-1a (the
// recorded price file's market) and on-demand ones, each node 4 CPUs.
func newPlacerScene(t *testing.T, spot, onDemand []string) *placerScene {
	t.Helper()
	installCRDs(t, cluster.Start(t))
	e := newEnv(t, map[string]string{config.NamespaceLabel: config.NamespaceLabelValue})
	s := &placerScene{t: t, e: e, c: e.client(t), run: "pm-" + e.namespace[len(e.namespace)-5:], settings: config.DefaultSettings(), evicts: &evictionLog{}}
	var nodes []*corev1.Node
	mk := func(name, capType string) {
		alloc := corev1.ResourceList{corev1.ResourceCPU: resourceMust("4"), corev1.ResourceMemory: resourceMust("8Gi"), corev1.ResourcePods: resourceMust("20")}
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: s.run + "-" + name, Labels: map[string]string{
			corev1.LabelHostname: s.run + "-" + name, s.settings.CapacityTypeLabel: capType, "type": "kwok",
			cluster.LabelInstanceType: "c3.xlarge", cluster.LabelZone: "us-east-1a", placerRunKey: s.run}},
			Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: placerRunKey, Value: s.run, Effect: corev1.TaintEffectNoSchedule}}},
			Status: corev1.NodeStatus{Capacity: alloc, Allocatable: alloc}}
		if capType == s.settings.SpotValue {
			n.Spec.Taints = append(n.Spec.Taints, s.settings.SpotTaint)
		}
		nodes = append(nodes, n)
	}
	for _, n := range spot {
		mk(n, s.settings.SpotValue)
	}
	for _, n := range onDemand {
		mk(n, s.settings.OnDemandValue)
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if err := e.cs.CoreV1().Nodes().Delete(context.Background(), n.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("deleting node %s: %v", n.Name, err)
			}
		}
	})
	createKwokNodes(context.Background(), t, e, nodes)
	return s
}

func (s *placerScene) node(name string) string { return s.run + "-" + name }

// startPlacer starts a manager with the decision controller and the placer
// for this namespace, and routes the namespace to it (a restart routes it
// to the new one).
func (s *placerScene) startPlacer(opts ...func(*manager.Options)) *testManager {
	s.t.Helper()
	m := startManagerWrapped(s.t, s.evicts.wrap, func(o *manager.Options) {
		o.Decisions = true
		o.Placer = true
		o.PlacerNamespace = s.e.namespace
		o.DecisionPeriod = 2 * time.Second
		o.PlacerPeriod = 2 * time.Second
		for _, f := range opts {
			f(o)
		}
	})
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ns, err := s.e.cs.CoreV1().Namespaces().Get(context.Background(), s.e.namespace, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ns.Labels[runLabel] = m.name
		_, err = s.e.cs.CoreV1().Namespaces().Update(context.Background(), ns, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.e.waitActive(s.t)
	return m
}

// workload creates a Deployment of pause pods (100m each) on the run's
// nodes with the policy annotations, and for a batch one a PDB allowing
// one pod down (unhealthy pods always evictable: at load 20 kwok renews a
// node's lease late and its pods go unready for a moment, and a PDB
// counting them would refuse every eviction).
// Each opt changes the Deployment before it is created.
func (s *placerScene) workload(name string, replicas int32, annotations map[string]string, opts ...func(*appsv1.Deployment)) {
	s.t.Helper()
	ctx := context.Background()
	d := deployment(name, replicas, annotations)
	d.Spec.Template.Spec.NodeSelector = map[string]string{placerRunKey: s.run}
	d.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: placerRunKey, Operator: corev1.TolerationOpEqual, Value: s.run, Effect: corev1.TaintEffectNoSchedule}}
	d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resourceMust("100m")
	d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](0)
	for _, f := range opts {
		f(d)
	}
	if _, err := s.e.cs.AppsV1().Deployments(s.e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	if annotations[config.AnnotationClass] != string(config.ClassBatch) {
		return
	}
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one, Selector: d.Spec.Selector,
			UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow)}}
	if _, err := s.e.cs.PolicyV1().PodDisruptionBudgets(s.e.namespace).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// setMaxUnavailable sets the maxUnavailable of app's PDB.
func (s *placerScene) setMaxUnavailable(app string, n int32) {
	s.t.Helper()
	patch := fmt.Sprintf(`{"spec":{"maxUnavailable":%d}}`, n)
	if _, err := s.e.cs.PolicyV1().PodDisruptionBudgets(s.e.namespace).Patch(context.Background(), app, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// pods lists the live pods (Running, bound, not terminating) of app by
// node, and how many of app's pods are not live.
func (s *placerScene) pods(app string) (byNode map[string][]corev1.Pod, notLive int) {
	s.t.Helper()
	list, err := s.e.cs.CoreV1().Pods(s.e.namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		s.t.Fatal(err)
	}
	byNode = map[string][]corev1.Pod{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		} else {
			notLive++
		}
	}
	return byNode, notLive
}

// waitPods waits until app has total live pods, all on the nodes named,
// none pending or terminating.
func (s *placerScene) waitPods(app string, timeout time.Duration, total int, nodes ...string) map[string][]corev1.Pod {
	s.t.Helper()
	var got map[string][]corev1.Pod
	eventually(s.t, timeout, func() error {
		var notLive int
		got, notLive = s.pods(app)
		if notLive > 0 {
			return fmt.Errorf("%s: %d pods not live yet; live: %s", app, notLive, where(got))
		}
		n := 0
		for node, ps := range got {
			if !slices.Contains(nodes, node) {
				return fmt.Errorf("%s: pods on %s, want them only on %v; live: %s", app, node, nodes, where(got))
			}
			n += len(ps)
		}
		if n != total {
			return fmt.Errorf("%s: %d live pods, want %d; live: %s", app, n, total, where(got))
		}
		return nil
	})
	return got
}

func where(byNode map[string][]corev1.Pod) string {
	var parts []string
	for n, ps := range byNode {
		parts = append(parts, fmt.Sprintf("%s=%d", n, len(ps)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func uids(byNode map[string][]corev1.Pod) map[types.UID]string {
	out := map[types.UID]string{}
	for _, ps := range byNode {
		for _, p := range ps {
			out[p.UID] = p.Name
		}
	}
	return out
}

func (s *placerScene) decision(name string) *v1alpha1.Decision { return s.e.decision(s.t, s.c, name) }

// TestPlacerInterruptionMovesOnce: a batch Deployment of 4 pods spread
// over two spot nodes, a PDB allowing one pod down, and a critical
// Deployment pinned to spot on the same nodes. NTH's spot-interruption
// taint on one spot node: the placer evicts the batch pods on it, within
// the PDB (a second eviction in the same round is refused with 429 and
// retried after the backoff), each exactly once; their replacements land
// on the other spot node; the critical pods and the batch pods on the
// healthy node are never asked for, and nothing moves after (no churn).
func TestPlacerInterruptionMovesOnce(t *testing.T) {
	t.Parallel()
	s := newPlacerScene(t, []string{"spot-a", "spot-b"}, []string{"od"})
	s.startPlacer()
	start := time.Now()
	s.workload("etl", 4, policy(config.AnnotationClass, "batch", config.AnnotationMode, "enforce"))
	s.workload("api", 2, policy(config.AnnotationClass, "critical", config.AnnotationMode, "enforce", config.AnnotationCapacity, "spot"))
	spotA, spotB := s.node("spot-a"), s.node("spot-b")
	etl := s.waitPods("etl", 90*time.Second, 4, spotA, spotB)
	api := s.waitPods("api", 90*time.Second, 2, spotA, spotB)
	eventually(t, 30*time.Second, func() error {
		if d := s.decision("etl"); d == nil {
			return fmt.Errorf("no Decision for etl yet")
		}
		return nil
	})
	t.Logf("set up in %.0fs: etl %s, api %s", time.Since(start).Seconds(), where(etl), where(api))
	// Interrupt the spot node with more of etl's pods (at least 2 of 4).
	if len(etl[spotB]) > len(etl[spotA]) {
		spotA, spotB = spotB, spotA
	}
	onA := map[string]bool{}
	for _, p := range etl[spotA] {
		onA[p.Name] = true
	}

	// The PDB allows no eviction until the first one was refused: on a
	// quiet machine a replacement turns ready before the next eviction of
	// the round, so "allows one" alone need not ever answer 429. Refused
	// first, then allowed, shows the 429 is retried, not dropped.
	s.setMaxUnavailable("etl", 0)
	taintedAt := time.Now()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := s.e.cs.CoreV1().Nodes().Get(context.Background(), spotA, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: config.NTHTaints[0], Value: "true", Effect: corev1.TaintEffectNoSchedule})
		_, err = s.e.cs.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		if _, tooMany, _ := s.evicts.counts(); tooMany == 0 {
			return fmt.Errorf("no eviction refused yet")
		}
		return nil
	})
	s.setMaxUnavailable("etl", 1)
	after := s.waitPods("etl", 90*time.Second, 4, spotB, s.node("od"))
	moved := time.Since(taintedAt)
	// No churn: a few more rounds move nothing.
	time.Sleep(5 * time.Second)
	if again, _ := s.pods("etl"); len(uids(again)) != 4 || fmt.Sprint(uids(again)) != fmt.Sprint(uids(after)) {
		t.Errorf("etl's pods changed after the move: %s then %s", where(after), where(again))
	}
	accepted, tooMany, other := s.evicts.counts()
	t.Logf("%d batch pod(s) on the interrupted node moved in %.1fs; evictions accepted %v, 429s %d, other answers %v", len(onA), moved.Seconds(), accepted, tooMany, other)
	for pod, n := range accepted {
		if !onA[pod] || n != 1 {
			t.Errorf("pod %s: %d eviction(s) accepted; want exactly one for each batch pod of the interrupted node %v, none for others", pod, n, onA)
		}
	}
	if len(accepted) != len(onA) {
		t.Errorf("%d pods evicted, want the %d batch pods of the interrupted node", len(accepted), len(onA))
	}
	if tooMany == 0 {
		t.Errorf("no 429: the PDB allowed no eviction at first")
	}
	if now, _ := s.pods("api"); fmt.Sprint(uids(now)) != fmt.Sprint(uids(api)) {
		t.Errorf("critical pods changed: %s then %s", where(api), where(now))
	}
	if d := s.decision("etl"); d != nil && d.Status.Placement != nil {
		t.Logf("etl placement: %s", d.Status.Placement.Summary)
	}
}

// The recorded spike (test/testdata/prices/README.md, c3.xlarge in
// us-east-1a): on 2015-06-12 the price climbs to on-demand (0.21) at 18:10
// and first rises above it at 19:25 (0.25); with the week before as its
// only history, the default forecaster moves the market out at about
// 18:30 on a crossing forecast and back on 06-13 at about 01:35
// (controllers/placement TestPredictedSpikeFlipsCapacityAndMovesOut).
var spikeTraceStart = time.Date(2015, 6, 12, 16, 30, 0, 0, time.UTC)

// spikeTrace is the recorded file holding that spike and the week before.
const spikeTrace = "test/testdata/prices/c3.xlarge-2015-06-05-to-13.csv.gz"

// spikeSpeed is the replay's speed: an hour of the trace in 7.5 s, so the
// 55 minutes between the forecast and the crossing are 7 s of wall time
// for the capacity to flip and the first eviction to go through.
const spikeSpeed = 480

// spikeReplay serves spikeTrace through the EC2-protocol fixture on a
// clock sped up spikeSpeed times, trace time start at origin; options
// points a manager at it on the same clock.
type spikeReplay struct {
	origin   time.Time
	crossing time.Time // the first price above on-demand after start
	clk      *speedclock.Clock
	fx       *ec2fixture.Server
	url      string
}

func newSpikeReplay(t *testing.T, start time.Time) *spikeReplay {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	hs, err := file.ReadFile(filepath.Join(root, spikeTrace))
	if err != nil {
		t.Fatal(err)
	}
	r := &spikeReplay{origin: time.Now()}
	for _, p := range hs[0].Points {
		if p.Time.After(start) && p.Price > hs[0].OnDemand {
			r.crossing = p.Time
			break
		}
	}
	if r.clk, err = speedclock.New(r.origin, spikeSpeed); err != nil {
		t.Fatal(err)
	}
	r.fx = &ec2fixture.Server{Region: "us-east-1", Offset: r.origin.Sub(start), Now: r.clk.Now}
	r.fx.AddHistories(hs)
	srv := httptest.NewServer(r.fx) // 127.0.0.1 only
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// options sets the manager's clock and EC2 source to the replay's.
func (r *spikeReplay) options(o *manager.Options) {
	o.Clock = r.clk
	o.EC2Region, o.EC2Endpoint = "us-east-1", r.url
	// The client the manager builds from those, with static credentials
	// instead of the SDK's chain (t.Setenv and t.Parallel don't mix).
	o.EC2 = ec2.NewClient("us-east-1", r.url, credentials.NewStaticCredentialsProvider("AKIDE2E", "secret", ""), ec2.RetryOptions{MaxAttempts: 2, MaxBackoff: time.Millisecond})
	// Periods in the clock's time: 0.6 s of wall time each.
	o.PricePeriod, o.PlacerPeriod, o.DecisionPeriod = 5*time.Minute, 5*time.Minute, 5*time.Minute
}

// traceAt is the trace time at wall time w; trace is the trace time now.
func (r *spikeReplay) traceAt(w time.Time) time.Time { return r.clk.At(w).Add(-r.fx.Offset) }
func (r *spikeReplay) trace() string                 { return r.traceAt(time.Now()).Format("01-02 15:04") }

// TestPlacerSpikeMovesOutAndBack replays the recorded spike through the
// EC2-protocol fixture on a clock sped up 480 times, the manager's clock
// the same one (Options.Clock; its tickers, budgets, backoffs, settle time
// and the forecaster's hysteresis all read it): a batch Deployment of 4
// pods on spot with a PDB allowing one down, and a critical Deployment
// pinned to spot. When the forecaster takes the market off spot — ahead of
// the first crossing — the Decision's capacity turns on-demand and the
// first batch pod is evicted, both before the price crosses (in trace
// time); the rest follow one at a time within the PDB, their replacements
// placed on the on-demand node by the webhook; the manager is restarted
// mid-move and no pod is evicted twice; when the market is back, they
// return to spot, the PDB refusing the first eviction (429, retried); the
// critical pods never move.
func TestPlacerSpikeMovesOutAndBack(t *testing.T) {
	t.Parallel()
	s := newPlacerScene(t, []string{"spot-a", "spot-b"}, []string{"od"})
	spotA, spotB, od := s.node("spot-a"), s.node("spot-b"), s.node("od")

	r := newSpikeReplay(t, spikeTraceStart)
	origin, crossing, fx := r.origin, r.crossing, r.fx
	traceAt, trace := r.traceAt, r.trace
	wall := func() string { return fmt.Sprintf("%5.1fs", time.Since(origin).Seconds()) }
	placer := r.options
	m1 := s.startPlacer(placer)
	// Log each change of etl's outlook and capacity, in trace time, and
	// note a flap: the capacity back on spot while the outlook is off.
	watchDone := make(chan struct{})
	watchStopped := make(chan struct{})
	var flaps []string
	var onDemandAt time.Time // wall time the watcher first saw the capacity on-demand
	go func() {
		defer close(watchStopped)
		last, wentOnDemand := "", false
		for {
			select {
			case <-watchDone:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var d v1alpha1.Decision
			if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.e.namespace, Name: "etl"}, &d); err != nil || d.Status.Placement == nil || d.Status.Placement.Outlook == nil || d.Status.Capacity == nil {
				continue
			}
			o := d.Status.Placement.Outlook
			at := func(t *metav1.Time) string {
				if t == nil {
					return "-"
				}
				return t.Add(-fx.Offset).UTC().Format("01-02 15:04")
			}
			rest := d.Status.Capacity.Rest
			if rest == "on-demand" && !wentOnDemand {
				onDemandAt = time.Now()
			}
			wentOnDemand = wentOnDemand || rest == "on-demand"
			if wentOnDemand && o.OffSpot && rest == "spot" {
				flaps = append(flaps, fmt.Sprintf("trace %s: capacity spot while the outlook is off (%s)", trace(), o.Reason))
			}
			state := fmt.Sprintf("outlook off=%v, capacity %s", o.OffSpot, rest)
			if state != last {
				t.Logf("%s trace %s: %s (since %s, earliest back %s)", wall(), trace(), state, at(o.Since), at(o.EarliestBack))
			}
			last = state
		}
	}()
	s.workload("etl", 4, policy(config.AnnotationClass, "batch", config.AnnotationMode, "enforce"))
	s.workload("api", 2, policy(config.AnnotationClass, "critical", config.AnnotationMode, "enforce", config.AnnotationCapacity, "spot"))
	s.waitPods("etl", 60*time.Second, 4, spotA, spotB)
	api := s.waitPods("api", 60*time.Second, 2, spotA, spotB)
	t.Logf("%s trace %s: etl and api running on spot", wall(), trace())
	if traceAt(time.Now()).After(crossing.Add(-time.Hour)) {
		t.Fatalf("trace %s: the set-up took until less than an hour before the crossing (%s); the test cannot tell a move ahead from a reaction", trace(), crossing.Format("15:04"))
	}

	// Ahead of the crossing: the capacity turns on-demand and the first
	// eviction is accepted (etl's PDB allows one pod down).
	eventually(t, 90*time.Second, func() error {
		d := s.decision("etl")
		if d == nil || d.Status.Capacity == nil || d.Status.Capacity.Rest != "on-demand" {
			return fmt.Errorf("trace %s: etl's capacity %+v, waiting for the market to go off spot", trace(), d)
		}
		t.Logf("%s trace %s: etl's capacity: %s", wall(), trace(), d.Status.Capacity.Reason)
		return nil
	})
	var first evictionReq
	eventually(t, 60*time.Second, func() error {
		if r, ok := s.evicts.firstAccepted(); ok {
			first = r
			return nil
		}
		return fmt.Errorf("trace %s: no eviction accepted yet", trace())
	})
	// Hold further evictions for the restart below; one may have gone
	// meanwhile.
	s.setMaxUnavailable("etl", 0)
	evicted := traceAt(first.at)
	t.Logf("%s trace %s: first eviction (%s) accepted at trace %s, %.0f min before the price crossed on-demand at %s",
		wall(), trace(), first.pod, evicted.Format("15:04:05"), crossing.Sub(evicted).Minutes(), crossing.Format("15:04:05"))
	if !evicted.Before(crossing) {
		t.Errorf("first eviction accepted at trace %s, want it before the first crossing at %s", evicted.Format("15:04:05"), crossing.Format("15:04:05"))
	}

	// Restart mid-move: once the first pod's replacement is admitted
	// (through m1's webhook), stop m1 and start m2. Until the namespace is
	// moved to m2's webhook (startPlacer waits for it), a replacement pod
	// would be admitted by nobody: m2's placer can evict from its first
	// round, before that. The PDB holds evictions (429) until then.
	eventually(t, 60*time.Second, func() error {
		byNode, notLive := s.pods("etl")
		if n := len(uids(byNode)) + notLive; n < 4 {
			return fmt.Errorf("trace %s: %d etl pods, waiting for the replacement", trace(), n)
		}
		return nil
	})
	m1.stop()
	acc, _, _ := s.evicts.counts()
	t.Logf("%s trace %s: manager stopped after %d eviction(s)", wall(), trace(), len(acc))
	s.startPlacer(placer)
	s.setMaxUnavailable("etl", 1)
	t.Logf("%s trace %s: manager restarted", wall(), trace())

	out := s.waitPods("etl", 90*time.Second, 4, od)
	t.Logf("%s trace %s: all etl pods on on-demand (the price crosses at %s)", wall(), trace(), crossing.Format("15:04"))
	for _, ps := range out {
		for _, p := range ps {
			if p.Labels[config.Prefix+"placement"] != "on-demand" || !strings.Contains(p.Annotations[config.AnnotationDecision], "off spot") {
				t.Errorf("pod %s on %s: placement %q, decision %q; want on-demand through the webhook, off spot", p.Name, p.Spec.NodeName, p.Labels[config.Prefix+"placement"], p.Annotations[config.AnnotationDecision])
			}
		}
	}
	outAcc, outTooMany, _ := s.evicts.counts()

	// The move back: the PDB refuses the first eviction (a 429 on a quiet
	// machine too), then allows one pod down; the refused pod is retried.
	s.setMaxUnavailable("etl", 0)
	eventually(t, 150*time.Second, func() error {
		d := s.decision("etl")
		if d == nil || d.Status.Capacity == nil || d.Status.Capacity.Rest != "spot" {
			return fmt.Errorf("trace %s: etl's capacity still %+v", trace(), d.Status.Capacity)
		}
		t.Logf("%s trace %s: etl's capacity back: %s", wall(), trace(), d.Status.Capacity.Reason)
		return nil
	})
	eventually(t, 60*time.Second, func() error {
		if _, tooMany, _ := s.evicts.counts(); tooMany <= outTooMany {
			return fmt.Errorf("trace %s: no eviction refused on the way back yet", trace())
		}
		return nil
	})
	s.setMaxUnavailable("etl", 1)
	s.waitPods("etl", 90*time.Second, 4, spotA, spotB)
	t.Logf("%s trace %s: all etl pods back on spot", wall(), trace())

	close(watchDone)
	<-watchStopped
	// The watcher saw the capacity turn on-demand (polling every 100 ms,
	// so at most that late): before the crossing too.
	flipped := traceAt(onDemandAt)
	t.Logf("capacity on-demand at trace %s, %.0f min before the crossing", flipped.Format("15:04:05"), crossing.Sub(flipped).Minutes())
	if onDemandAt.IsZero() || !flipped.Before(crossing) {
		t.Errorf("capacity on-demand at trace %s, want it before the first crossing at %s", flipped.Format("15:04:05"), crossing.Format("15:04:05"))
	}
	// A flap was a real bug: a node tainted not-ready for a moment (kwok
	// renewing its lease late at load) dropped the workload's market from
	// its exposure, so its outlook, and then its capacity, went to spot.
	for _, f := range flaps {
		t.Errorf("flap: %s", f)
	}
	accepted, tooMany, other := s.evicts.counts()
	t.Logf("evictions accepted: %d moving out (%d answers 429), %d in all (%d answers 429); other answers %v", len(outAcc), outTooMany, len(accepted), tooMany, other)
	for pod, n := range accepted {
		if n != 1 {
			t.Errorf("pod %s evicted %d times", pod, n)
		}
	}
	if len(outAcc) < 4 || len(accepted) < 8 {
		t.Errorf("%d pods evicted moving out, %d in all; want the 4 batch pods out and their 4 replacements back", len(outAcc), len(accepted))
	}
	if tooMany == 0 {
		t.Errorf("no 429: the PDB allowed no eviction at first on the way back")
	}
	if now, _ := s.pods("api"); fmt.Sprint(uids(now)) != fmt.Sprint(uids(api)) {
		t.Errorf("critical pods changed: %s then %s", where(api), where(now))
	}
}
