package requests

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/decider/requests/stamp"
)

func planPod(name, cpu, mem string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Spec:   corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "app", Resources: res(cpu, mem)}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

// Within bounds nothing is planned; outside, the container gets the target
// with the reason; an urgent memory raise goes before a farther plain one;
// a pending pod is not resized.
func TestPlanResize(t *testing.T) {
	rec := requests.Recommendation{Target: requests.Resources{CPU: 0.1, Memory: 300 << 20},
		Lower: requests.Resources{CPU: 0.05, Memory: 250 << 20}, Upper: requests.Resources{CPU: 0.5, Memory: 600 << 20}}
	recs := map[string]requests.Recommendation{"app": rec}
	pending := planPod("pending", "10m", "10Mi")
	pending.Status.Phase = corev1.PodPending
	plans := planResize([]*corev1.Pod{planPod("inside", "100m", "400Mi"), planPod("far", "4", "4Gi"), pending}, recs, stamp.Policy{})
	if len(plans) != 1 || plans[0].pod.Name != "far" || plans[0].grows || !strings.Contains(plans[0].change, "above the upper bound") {
		t.Fatalf("plans %+v: want only the pod above its bounds, lowered", plans)
	}
	urgent := rec
	urgent.Urgent, urgent.MemoryReason = true, "leak: OOM projected in 2 h"
	all := planResize([]*corev1.Pod{planPod("far", "4", "4Gi"), planPod("leaking", "100m", "200Mi")}, map[string]requests.Recommendation{"app": urgent}, stamp.Policy{})
	if all[0].pod.Name != "leaking" || !all[0].urgent || !all[0].grows || !strings.Contains(all[0].change, "OOM projected") {
		t.Errorf("first plan %+v: want the urgent raise first, with the leak's reason", all[0])
	}
}

// The kubelet's answer, read from the resize conditions at each age.
func TestResizeState(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	cond := func(typ corev1.PodConditionType, reason string) *corev1.Pod {
		p := planPod("p", "100m", "300Mi")
		if typ != "" {
			p.Status.Conditions = []corev1.PodCondition{{Type: typ, Status: corev1.ConditionTrue, Reason: reason}}
		}
		return p
	}
	lagging := planPod("p", "100m", "300Mi")
	lagging.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Resources: &corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi")}}}}
	for _, c := range []struct {
		pod  *corev1.Pod
		wait time.Duration
		want string
	}{
		{cond(corev1.PodResizePending, corev1.PodReasonInfeasible), 0, OutcomeInfeasible},
		{cond(corev1.PodResizePending, corev1.PodReasonDeferred), 4 * time.Minute, OutcomeInProgress},
		{cond(corev1.PodResizePending, corev1.PodReasonDeferred), 6 * time.Minute, OutcomeDeferred},
		{cond(corev1.PodResizeInProgress, ""), 30 * time.Minute, OutcomeInProgress},
		{cond(corev1.PodResizeInProgress, ""), 2 * time.Hour, OutcomeDeferred},
		{cond(corev1.PodResizeInProgress, corev1.PodReasonError), 0, OutcomeFailed},
		{cond("", ""), 0, OutcomeDone},
		{lagging, time.Minute, OutcomeInProgress},
		{lagging, 6 * time.Minute, OutcomeDeferred},
	} {
		if got, why := resizeState(c.pod, at, at.Add(c.wait), DefaultResizeDeferredFor, DefaultResizeInProgressFor); got != c.want || why == "" {
			t.Errorf("%+v after %s: %s (%q), want %s", c.pod.Status, c.wait, got, why, c.want)
		}
	}
}
