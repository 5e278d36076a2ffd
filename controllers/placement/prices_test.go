package placement

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/prices/ec2"
	"github.com/trimtab-dev/trimtab/prices/file"
	"github.com/trimtab-dev/trimtab/test/apitest"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/test/ec2fixture"
	"github.com/trimtab-dev/trimtab/webhook/mutating"
)

// The recorded traces (test/testdata/prices/README.md): c3.xlarge in
// us-east-1a, whose on-demand price (0.21) is the forecaster's threshold.
//
// June: after a week with spikes to 1.0 (the last on 06-09) and three calm
// days, on 06-12 the price climbs to 0.21 at 18:10, falls back, and first
// rises above it at 19:25 (0.25). With that week as its only history the
// replay moves out at 18:30 on a crossing forecast.
//
// March: on 03-17, after a calm night (0.032), the price rises from 13:35
// (0.069, 0.1, 0.11, 0.128) and crosses at 14:16 with 0.231, with no
// forecast ahead of it in the replay (it counts an interruption): the
// reactive case.
var (
	juneTrace  = "test/testdata/prices/c3.xlarge-2015-06-05-to-13.csv.gz"
	juneStart  = time.Date(2015, 6, 12, 17, 0, 0, 0, time.UTC)
	marchTrace = "test/testdata/prices/c3.xlarge-2015-03-11-to-19.csv.gz"
	marchStart = time.Date(2015, 3, 17, 13, 0, 0, 0, time.UTC)
	wallStart  = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	c3         = prices.Market{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: prices.ProductLinux}
)

// firstCrossing is the first time after start the trace's price is above
// the market's on-demand price.
func firstCrossing(t *testing.T, h prices.History, start time.Time) time.Time {
	t.Helper()
	for _, p := range h.Points {
		if p.Time.After(start) && p.Price > h.OnDemand {
			return p.Time
		}
	}
	t.Fatalf("%s never crosses %.4f after %s", h.Market, h.OnDemand, start)
	return time.Time{}
}

// priceScene is an apiserver (envtest), the EC2-protocol fixture serving
// the trace on the test's clock, a spot node in the trace's market and an
// on-demand node, a batch Deployment with two pods on the spot node and a
// critical one with one, each with its Decision, and the controller with
// its price side.
type priceScene struct {
	t    *testing.T
	c    client.Client
	cc   *counting
	clk  *clocktesting.FakeClock
	ec2  *ec2fixture.Server
	ctrl *Controller
	outs *Outlooks
	rec  events.EventRecorder
	ns   string
	// crossing is when the trace's price first rises above on-demand
	// after the scene's start (trace time).
	crossing time.Time
}

func newPriceScene(t *testing.T, trace string, traceStart time.Time) *priceScene {
	cfg, c := apitest.Own(t)
	ctx := context.Background()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	hs, err := file.ReadFile(filepath.Join(root, trace))
	if err != nil {
		t.Fatal(err)
	}
	s := &priceScene{t: t, c: c, cc: &counting{Client: c}, clk: clocktesting.NewFakeClock(wallStart), ns: "batch", crossing: firstCrossing(t, hs[0], traceStart)}
	s.ec2 = &ec2fixture.Server{Region: "us-east-1", Offset: wallStart.Sub(traceStart), Now: s.clk.Now}
	s.ec2.AddHistories(hs)
	srv := httptest.NewServer(s.ec2) // 127.0.0.1 only
	t.Cleanup(srv.Close)
	api := ec2.NewClient("us-east-1", srv.URL, credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), ec2.RetryOptions{MaxAttempts: 2, MaxBackoff: time.Millisecond})

	cs := kubernetes.NewForConfigOrDie(cfg)
	bc := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	stop := make(chan struct{})
	bc.StartRecordingToSink(stop)
	t.Cleanup(func() { close(stop); bc.Shutdown() })
	s.rec = bc.NewRecorder(c.Scheme(), "trimtab-placer")

	st := config.DefaultSettings()
	node := func(name, capType, typ string) {
		var taints []corev1.Taint
		if capType == st.SpotValue {
			taints = []corev1.Taint{st.SpotTaint}
		}
		createReadyNode(t, c, name, capType, typ, taints...)
	}
	node("spot-c3", st.SpotValue, "c3.xlarge")
	node("od-m3", st.OnDemandValue, "m3.large")
	for _, name := range []string{s.ns, "trimtab-system"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{config.NamespaceLabel: "true"}}}); err != nil {
			t.Fatal(err)
		}
	}
	workload := func(name string, class config.Class, pods int) {
		labels := map[string]string{"app": name}
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name,
			Annotations: map[string]string{config.AnnotationClass: string(class), config.AnnotationMode: string(config.ModeEnforce)}},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(pods)), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
		if err := c.Create(ctx, dep); err != nil {
			t.Fatal(err)
		}
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name + "-rs", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: dep.UID, Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Selector: dep.Spec.Selector, Template: dep.Spec.Template}}
		if err := c.Create(ctx, rs); err != nil {
			t.Fatal(err)
		}
		d := &v1alpha1.Decision{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name},
			Spec: v1alpha1.DecisionSpec{WorkloadRef: v1alpha1.WorkloadReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name}}}
		if err := c.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		for i := range pods {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: fmt.Sprintf("%s-%d", name, i), Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-rs", UID: "rs-uid", Controller: ptr.To(true)}}},
				Spec: corev1.PodSpec{NodeName: "spot-c3", Containers: []corev1.Container{{Name: "c", Image: "busybox",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}},
					Tolerations: []corev1.Toleration{{Key: st.SpotTaint.Key, Operator: corev1.TolerationOpEqual, Value: st.SpotTaint.Value, Effect: st.SpotTaint.Effect}}}}
			if err := c.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
			if err := c.Status().Update(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	workload("etl", config.ClassBatch, 2)
	workload("web", config.ClassCritical, 1)
	s.outs = &Outlooks{}
	s.ctrl = s.newController(api)
	return s
}

// newController is the controller as the manager builds it (a restart
// builds a new one: same checkpoint, empty memory).
func (s *priceScene) newController(api ec2.EC2API) *Controller {
	return &Controller{Client: s.cc, Recorder: s.rec, Settings: config.DefaultSettings(), Placer: config.DefaultPlacerSettings(), Clock: s.clk,
		Outlooks: s.outs,
		Prices: &Prices{API: api, Period: 5 * time.Minute, Forecaster: spot.DefaultConfig(),
			Checkpoint: client.ObjectKey{Namespace: "trimtab-system", Name: "trimtab-spot-forecaster"}}}
}

func (s *priceScene) sync() {
	s.t.Helper()
	if _, err := s.ctrl.Sync(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

func (s *priceScene) decision(name string) *v1alpha1.Decision {
	s.t.Helper()
	var d v1alpha1.Decision
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, &d); err != nil {
		s.t.Fatal(err)
	}
	return &d
}

// decide writes the Decision's capacity as the decision controller does:
// its policy's rule with the placer's outlook (controllers/decision
// capacitySplit; TestCapacityFollowsThePlacersOutlook there checks it
// takes the outlook for batch workloads only).
func (s *priceScene) decide(name string) capacity.Split {
	s.t.Helper()
	d := s.decision(name)
	split, err := capacity.Decide(capacity.Rule{}, s.outs.Outlook(s.ns, "Deployment", name))
	if err != nil {
		s.t.Fatal(err)
	}
	next := d.DeepCopy()
	next.Status.Capacity = &v1alpha1.CapacityStatus{OnDemandBase: split.OnDemandBase, Rest: string(split.Rest), RestRequired: split.RestRequired, Reason: split.Reason}
	if err := s.c.Status().Patch(context.Background(), next, client.MergeFrom(d)); err != nil {
		s.t.Fatal(err)
	}
	return split
}

func (s *priceScene) gone(name string) bool {
	var p corev1.Pod
	err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, &p)
	return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil)
}

// TestPredictedSpikeFlipsCapacityAndMovesOut replays the June trace from
// 17:00 on 2015-06-12 in 5-minute rounds (prices refreshed every round
// from the fixture, the forecaster warmed on the week its first refresh
// reaches back, then fed and stepped). Until the forecaster moves
// c3.xlarge/us-east-1a out, the batch workload's outlook is spot and
// nothing moves; it moves out ahead of the first crossing (19:25), as the
// replay on the same history does (18:30, a crossing forecast): its
// outlook is off spot with the market, the probability, since when and
// the earliest time back in words, the Decision's capacity (written from
// it) sends new pods to on-demand, and the next rounds evict both batch
// pods from the spot node (their replacements simulated onto the
// on-demand node), still before the crossing, never the critical pod. A
// new controller (a restart) restores the forecaster from its ConfigMap
// and still has the market off at once. Once the forecaster lets the
// market back (never before the earliest time back it announced), the
// capacity returns to spot and a batch pod on on-demand moves back.
func TestPredictedSpikeFlipsCapacityAndMovesOut(t *testing.T) {
	s := newPriceScene(t, juneTrace, juneStart)
	ctx := context.Background()
	var offAt time.Time
	for range 48 {
		s.sync()
		split := s.decide("etl")
		if split.Rest == capacity.OnDemand {
			offAt = s.clk.Now()
			break
		}
		if got := s.cc.requests(); len(got) != 0 {
			t.Fatalf("evictions %v at trace %s before any spike was predicted", got, s.trace(s.clk.Now()))
		}
		s.clk.Step(5 * time.Minute)
	}
	if offAt.IsZero() {
		t.Fatalf("the forecaster never moved the market out by trace %s", s.trace(s.clk.Now()))
	}
	trace := offAt.Add(-s.ec2.Offset)
	t.Logf("capacity on-demand at trace %s, %v before the first crossing at %s", s.trace(offAt), s.crossing.Sub(trace), s.crossing.Format("15:04:05"))
	// The replay (simulate/pricesim, this history, 5-minute ticks) moves
	// out at 18:30 on a crossing forecast; the live rounds must agree.
	if want := time.Date(2015, 6, 12, 18, 30, 0, 0, time.UTC); !trace.Equal(want) {
		t.Errorf("moved out at trace %s, the replay on the same history at %s", s.trace(offAt), want.Format("15:04"))
	}
	if s.crossing.Sub(trace) < 10*time.Minute {
		t.Errorf("moved out at trace %s, less than 10 min before the first crossing at %s", s.trace(offAt), s.crossing.Format("15:04:05"))
	}
	if r := s.decision("etl").Status.Capacity.Reason; !strings.Contains(r, "crossing forecast") {
		t.Errorf("capacity reason %q, want the forecast named", r)
	}
	d := s.decision("etl")
	o := d.Status.Placement.Outlook
	if o == nil || !o.OffSpot || len(o.Markets) != 1 || o.Markets[0] != "c3.xlarge/us-east-1a" || o.Since == nil || o.EarliestBack == nil ||
		!strings.Contains(o.Reason, "c3.xlarge/us-east-1a") || !strings.Contains(o.Reason, "P(cross)=") || !strings.Contains(o.Reason, "back to spot no earlier than") {
		t.Fatalf("etl's outlook %+v", o)
	}
	if c := meta.FindStatusCondition(d.Status.Placement.Conditions, v1alpha1.PricesFresh); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("PricesFresh %+v, want True", c)
	}
	t.Logf("Decision capacity reason: %s", d.Status.Capacity.Reason)
	if w := s.decision("web"); w.Status.Placement != nil && w.Status.Placement.Outlook != nil {
		t.Errorf("the critical workload got an outlook: %+v", w.Status.Placement.Outlook)
	}
	if got := s.outs.Outlook(s.ns, "Deployment", "web"); got.OffSpot {
		t.Errorf("the critical workload's capacity would follow the outlook: %+v", got)
	}

	// The pod webhook, reading the Decision, sends a new batch pod to
	// on-demand at once, saying why; a critical pod keeps its policy's.
	for name, want := range map[string]string{"etl": "on-demand (required)", "web": "on-demand (required): on-demand base 2, 0 placed"} {
		pod := s.admit(name)
		got := pod.Annotations[config.AnnotationDecision]
		if !strings.HasPrefix(got, want) {
			t.Errorf("new %s pod: %s %q, want it to start %q", name, config.AnnotationDecision, got, want)
		}
		if name == "web" && strings.Contains(got, "off spot") {
			t.Errorf("the critical pod's placement follows the outlook: %q", got)
		}
		t.Logf("new %s pod: %s", name, got)
		if name == "etl" && !strings.Contains(pod.Annotations[config.AnnotationDecisionJSON], "c3.xlarge/us-east-1a") {
			t.Errorf("new etl pod's decision does not name the market: %s", pod.Annotations[config.AnnotationDecisionJSON])
		}
	}

	// The Decision now sends new pods to on-demand; after the settle time
	// the plan moves the spot pods out.
	var firstGone time.Time
	for range 3 {
		s.clk.Step(15 * time.Second)
		s.sync()
		if firstGone.IsZero() && (s.gone("etl-0") || s.gone("etl-1")) {
			firstGone = s.clk.Now()
		}
	}
	if firstGone.IsZero() || !firstGone.Add(-s.ec2.Offset).Before(s.crossing) {
		t.Errorf("first eviction accepted at trace %s, want it before the first crossing at %s", s.trace(firstGone), s.crossing.Format("15:04:05"))
	}
	t.Logf("first eviction accepted at trace %s", s.trace(firstGone))
	if got := s.cc.requests(); len(got) != 2 || !s.gone("etl-0") || !s.gone("etl-1") || s.gone("web-0") {
		t.Fatalf("evictions %v; etl-0 gone %v, etl-1 %v, web-0 %v: want both batch pods moved out, the critical one kept", got, s.gone("etl-0"), s.gone("etl-1"), s.gone("web-0"))
	}
	for _, m := range s.decision("etl").Status.Placement.Moves {
		if m.Kind != v1alpha1.MoveOut {
			t.Errorf("move %+v, want a move out", m)
		}
		t.Logf("move: %s %s: %s", m.Pod, m.State, m.Reason)
	}

	// A restart: the forecaster comes back from its ConfigMap with the
	// market still off.
	var cm corev1.ConfigMap
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: "trimtab-system", Name: "trimtab-spot-forecaster"}, &cm); err != nil {
		t.Fatalf("the forecaster's checkpoint: %v", err)
	}
	t.Logf("checkpoint: %d bytes", len(cm.BinaryData[CheckpointKey]))
	restarted := s.newController(s.ctrl.Prices.API)
	rep, err := restarted.Prices.Round(ctx, s.c, nil, s.clk.Now(), placer.Nodes(s.nodes(), config.DefaultSettings(), config.DefaultPlacerSettings(), prices.ProductLinux))
	if err != nil {
		t.Fatal(err)
	}
	if ms := rep.Markets[c3]; !ms.Off || !ms.Since.Equal(o.Since.Time) {
		t.Errorf("after a restart the market is %+v, want off since %s", ms, o.Since)
	}

	// After the spike, with the forecaster's hysteresis (at least MinOff
	// off, calm for CalmFor), the market goes back and so does the
	// capacity: never before the earliest time back it announced.
	var backAt time.Time
	for range 12 * 48 {
		s.clk.Step(5 * time.Minute)
		s.sync()
		if split := s.decide("etl"); split.Rest == capacity.Spot {
			backAt = s.clk.Now()
			break
		}
	}
	if backAt.IsZero() {
		t.Fatalf("still off spot at trace %s", s.trace(s.clk.Now()))
	}
	t.Logf("back on spot at trace %s (%v off)", s.trace(backAt), backAt.Sub(offAt))
	if backAt.Before(o.EarliestBack.Time) {
		t.Errorf("back at %s, before the earliest time back %s", backAt, o.EarliestBack)
	}
	if d := s.decision("etl"); d.Status.Placement.Outlook.OffSpot {
		t.Errorf("outlook still off spot after the move back: %+v", d.Status.Placement.Outlook)
	}

	// A batch pod that ran on on-demand through the spike (as the
	// ReplicaSet's replacements would) moves back to spot. The evicted
	// pods are gone by now (envtest has no kubelet to finish them: delete
	// them as it would; see docs/placer.md on pods left terminating).
	for _, name := range []string{"etl-0", "etl-1"} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}}
		if err := s.c.Delete(ctx, p, client.GracePeriodSeconds(0)); client.IgnoreNotFound(err) != nil {
			t.Fatal(err)
		}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "etl-od", Labels: map[string]string{"app": "etl"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "etl-rs", UID: "rs-uid", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: "od-m3", Containers: []corev1.Container{{Name: "c", Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}}}}
	if err := s.c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	for range 6 { // past the workload budget's minute
		s.clk.Step(15 * time.Second)
		s.sync()
	}
	if got := s.cc.requests(); len(got) != 3 || got[2] != "etl-od" || !s.gone("etl-od") || s.gone("web-0") {
		t.Logf("placement %+v", s.decision("etl").Status.Placement)
		t.Fatalf("evictions %v after the move back; want etl-od moved back, web-0 kept", got)
	}
	for _, m := range s.decision("etl").Status.Placement.Moves {
		t.Logf("move: %s %s %s: %s", m.Pod, m.Kind, m.State, m.Reason)
	}
}

// trace is the trace time of wall time w.
func (s *priceScene) trace(w time.Time) string {
	return w.Add(-s.ec2.Offset).Format("01-02 15:04:05")
}

// TestUnforecastSpikeMovesOutAtTheCrossing replays the March trace from
// 13:00 on 2015-03-17: the replay on the same history has no forecast
// ahead of the 14:16 crossing (it counts an interruption there), and the
// live rounds agree: on spot, nothing evicted, until the first round after
// the crossing, which moves the market out.
func TestUnforecastSpikeMovesOutAtTheCrossing(t *testing.T) {
	s := newPriceScene(t, marchTrace, marchStart)
	for range 24 {
		s.sync()
		if split := s.decide("etl"); split.Rest == capacity.OnDemand {
			break
		}
		if got := s.cc.requests(); len(got) != 0 {
			t.Fatalf("evictions %v at trace %s before the market moved out", got, s.trace(s.clk.Now()))
		}
		s.clk.Step(5 * time.Minute)
	}
	off := s.clk.Now().Add(-s.ec2.Offset)
	t.Logf("capacity on-demand at trace %s; first crossing %s", s.trace(s.clk.Now()), s.crossing.Format("15:04:05"))
	if off.Before(s.crossing) || off.Sub(s.crossing) > 5*time.Minute {
		t.Errorf("moved out at trace %s, want the first round after the crossing at %s", s.trace(s.clk.Now()), s.crossing.Format("15:04:05"))
	}
}

// admit sends a new pod of the workload through the pod webhook as the
// manager wires it with --placer (DecisionSplits reading the Decision),
// and returns the pod as patched.
func (s *priceScene) admit(name string) *corev1.Pod {
	s.t.Helper()
	ctx := context.Background()
	var rs appsv1.ReplicaSet
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name + "-rs"}, &rs); err != nil {
		s.t.Fatal(err)
	}
	clk := clocktesting.NewFakePassiveClock(s.clk.Now())
	h := &mutating.Handler{Settings: config.DefaultSettings(), Resolver: mutating.Resolver{Cache: s.c, Live: s.c},
		Splits: mutating.DecisionSplits{Reader: s.c}, Ledger: mutating.NewLedger(clk, mutating.DefaultReservationTTL, nil), Clock: clk}
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-", Namespace: s.ns, Labels: map[string]string{"app": name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	raw, err := json.Marshal(pod)
	if err != nil {
		s.t.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: types.UID("admit-" + name), Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, Operation: admissionv1.Create, Namespace: s.ns, Object: runtime.RawExtension{Raw: raw}}}
	resp := h.Handle(ctx, req)
	if !resp.Allowed {
		s.t.Fatalf("admission denied: %+v", resp.Result)
	}
	ops, err := json.Marshal(resp.Patches)
	if err != nil {
		s.t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		s.t.Fatal(err)
	}
	if raw, err = patch.Apply(raw); err != nil {
		s.t.Fatal(err)
	}
	out := &corev1.Pod{}
	if err := json.Unmarshal(raw, out); err != nil {
		s.t.Fatal(err)
	}
	return out
}

func (s *priceScene) nodes() []*corev1.Node {
	var l corev1.NodeList
	if err := s.c.List(context.Background(), &l); err != nil {
		s.t.Fatal(err)
	}
	var out []*corev1.Node
	for i := range l.Items {
		out = append(out, &l.Items[i])
	}
	return out
}

// TestStalePricesHold: the endpoint fails from 13:05 on the trace, before
// the price starts rising. The last known prices hold: for MaxStale the forecaster
// decides on them (on spot), then every round holds. Through the spike and
// hours past it, no move is planned, the capacity stays spot, the
// Decision's PricesFresh condition turns False, and a Warning PricesStale
// Event is recorded on the checkpoint ConfigMap.
func TestStalePricesHold(t *testing.T) {
	s := newPriceScene(t, marchTrace, marchStart)
	ctx := context.Background()
	s.sync()
	s.clk.Step(5 * time.Minute) // trace 13:05
	s.sync()
	s.ec2.Fail("500")
	for range 6 * 12 { // to trace 19:05
		s.clk.Step(5 * time.Minute)
		s.sync()
		if split := s.decide("etl"); split.Rest != capacity.Spot {
			t.Fatalf("capacity %v at trace %s on stale prices", split, s.clk.Now().Add(-s.ec2.Offset))
		}
	}
	if got := s.cc.requests(); len(got) != 0 {
		t.Fatalf("evictions %v on stale prices", got)
	}
	d := s.decision("etl")
	c := meta.FindStatusCondition(d.Status.Placement.Conditions, v1alpha1.PricesFresh)
	if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "c3.xlarge/us-east-1a") {
		t.Fatalf("PricesFresh %+v, want False naming the market", c)
	}
	t.Logf("PricesFresh: %s: %s", c.Reason, c.Message)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var evs eventsv1.EventList
		if err := s.c.List(ctx, &evs, client.InNamespace("trimtab-system")); err != nil {
			t.Fatal(err)
		}
		var found *eventsv1.Event
		for i := range evs.Items {
			if evs.Items[i].Reason == "PricesStale" && evs.Items[i].Regarding.Name == "trimtab-spot-forecaster" {
				found = &evs.Items[i]
			}
		}
		if found != nil {
			t.Logf("Event %s %s: %s", found.Type, found.Reason, found.Note)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PricesStale Event on the checkpoint ConfigMap: %d events", len(evs.Items))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The endpoint answers again: fresh prices, and the market is judged
	// on them.
	s.ec2.Fail("")
	s.clk.Step(5 * time.Minute)
	s.sync()
	d = s.decision("etl")
	if c := meta.FindStatusCondition(d.Status.Placement.Conditions, v1alpha1.PricesFresh); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("PricesFresh after the endpoint recovered: %+v", c)
	}
}
