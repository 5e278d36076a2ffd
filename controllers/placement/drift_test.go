package placement

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
)

// TestBaseDriftWithoutPrices: the placer with no price source (--placer,
// no EC2 region). Two batch workloads whose pods were admitted while
// trimtab was down: etl, with an on-demand base of 2, has its 3 pods on
// spot; report, with no base, has its 2 pods on on-demand. The policy's
// split is the only capacity signal: etl's shortfall is repaired (2 spot
// pods moved to on-demand), report's excess is moved to spot, each once,
// and the decision controller is told the outlooks are known (nothing
// against spot), so it does not hold their capacity waiting for prices.
func TestBaseDriftWithoutPrices(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	s := config.DefaultSettings()
	node := func(name, capType string, taints ...corev1.Taint) {
		createReadyNode(t, c, name, capType, "c3.xlarge", taints...)
	}
	node("spot-a", s.SpotValue, s.SpotTaint)
	node("od-1", s.OnDemandValue)
	ns := "shop"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{config.NamespaceLabel: "true"}}}); err != nil {
		t.Fatal(err)
	}
	workload := func(name, base, nodeName string, pods int) {
		labels := map[string]string{"app": name}
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{config.AnnotationClass: string(config.ClassBatch), config.AnnotationMode: string(config.ModeEnforce), config.AnnotationOnDemandBase: base}},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(pods)), Selector: &metav1.LabelSelector{MatchLabels: labels},
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
		// Admitted while trimtab was down: no placement label, no
		// decision annotation.
		for i := range pods {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", name, i), Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-rs", UID: "rs-uid", Controller: ptr.To(true)}}},
				Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "c", Image: "busybox",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}},
					Tolerations: []corev1.Toleration{{Key: s.SpotTaint.Key, Operator: corev1.TolerationOpEqual, Value: s.SpotTaint.Value, Effect: s.SpotTaint.Effect}}}}
			if err := c.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
			if err := c.Status().Update(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	workload("etl", "2", "spot-a", 3)
	workload("report", "0", "od-1", 2)

	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	cc := &counting{Client: c}
	outs := &Outlooks{}
	ctrl := &Controller{Client: cc, Settings: s, Placer: config.DefaultPlacerSettings(), Clock: clk, Outlooks: outs}
	gone := func(name string) bool {
		var p corev1.Pod
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p)
		return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil)
	}
	for range 4 { // the settle time, then the moves
		if _, err := ctrl.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Step(5 * time.Second)
	}
	t.Logf("eviction requests: %s", strings.Join(cc.requests(), " "))
	etlGone := 0
	for _, p := range []string{"etl-0", "etl-1", "etl-2"} {
		if gone(p) {
			etlGone++
		}
	}
	if len(cc.requests()) != 4 || !gone("report-0") || !gone("report-1") || etlGone != 2 {
		t.Fatalf("evictions %v; want 2 of etl's spot pods (its base of 2 on on-demand) and both of report's on-demand pods (no base)", cc.requests())
	}
	for _, name := range []string{"etl", "report"} {
		var d v1alpha1.Decision
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		for _, m := range d.Status.Placement.Moves {
			t.Logf("%s: %s %s %s: %s", name, m.Pod, m.Kind, m.State, m.Reason)
			want := v1alpha1.MoveBaseShortfall
			if name == "report" {
				want = v1alpha1.MoveBack
			}
			if m.Kind != want || m.State != v1alpha1.MoveEvicted {
				t.Errorf("%s: move %+v, want %s evicted", name, m, want)
			}
		}
		if !outs.Known(ns, "Deployment", name) || outs.Outlook(ns, "Deployment", name).OffSpot {
			t.Errorf("%s: outlook known %v, %+v; want known, nothing against spot", name, outs.Known(ns, "Deployment", name), outs.Outlook(ns, "Deployment", name))
		}
	}
	// More rounds ask for nothing more (envtest has no kubelet: the
	// evicted pods stay terminating, and are never asked for again).
	for range 6 {
		clk.Step(15 * time.Second)
		if _, err := ctrl.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cc.requests()); n != 4 {
		t.Errorf("later rounds asked for more: %v", cc.requests())
	}
}
