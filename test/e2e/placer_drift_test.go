package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
)

// TestPlacerDriftRepairsTheBase: a batch Deployment of 4 pods with an
// on-demand base of 2 whose pods were admitted while trimtab was down —
// no webhook placed them, and only spot capacity could take them (the
// on-demand node cordoned), so all 4 run on spot. Then the manager starts
// with --placer and no price source. The policy's split is the only
// capacity signal, and a shortfall is always safe to repair: the placer
// evicts spot pods within the PDB (refused first: a 429, retried after the
// backoff) and the workload budget until 2 run on on-demand, placed there
// by the webhook for the base; then it evicts nothing more (no churn). The
// Decision's moves and the Evicted Events say why.
func TestPlacerDriftRepairsTheBase(t *testing.T) {
	t.Parallel()
	s := newPlacerScene(t, []string{"spot-a", "spot-b"}, []string{"od"})
	spotA, spotB, od := s.node("spot-a"), s.node("spot-b"), s.node("od")
	ctx := context.Background()
	cordon := func(on bool) {
		patch := fmt.Sprintf(`{"spec":{"unschedulable":%v}}`, on)
		if _, err := s.e.cs.CoreV1().Nodes().Patch(ctx, od, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// While trimtab is down: the namespace is routed to no manager, so no
	// webhook sees the pods; the template tolerates spot itself.
	cordon(true)
	start := time.Now()
	s.workload("etl", 4, policy(config.AnnotationClass, "batch", config.AnnotationMode, "enforce", config.AnnotationOnDemandBase, "2"),
		func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Tolerations = append(d.Spec.Template.Spec.Tolerations, corev1.Toleration{Key: s.settings.SpotTaint.Key,
				Operator: corev1.TolerationOpEqual, Value: s.settings.SpotTaint.Value, Effect: s.settings.SpotTaint.Effect})
		})
	s.setMaxUnavailable("etl", 0) // refuse the first eviction (a 429 on a quiet machine too)
	before := s.waitPods("etl", 90*time.Second, 4, spotA, spotB)
	for _, ps := range before {
		for _, p := range ps {
			if _, ok := p.Annotations[config.AnnotationDecision]; ok {
				t.Fatalf("pod %s was placed although no manager ran", p.Name)
			}
		}
	}
	cordon(false)
	t.Logf("%.0fs: 4 pods on spot, admitted with no manager: %s", time.Since(start).Seconds(), where(before))

	s.startPlacer() // no EC2 region or endpoint: no price source
	started := time.Now()
	eventually(t, 60*time.Second, func() error {
		if _, tooMany, _ := s.evicts.counts(); tooMany == 0 {
			return fmt.Errorf("no eviction refused yet")
		}
		return nil
	})
	s.setMaxUnavailable("etl", 1)
	var after map[string][]corev1.Pod
	seen := map[string]v1alpha1.PodMove{} // the moves the Decision showed, by pod
	eventually(t, 120*time.Second, func() error {
		if d := s.decision("etl"); d != nil && d.Status.Placement != nil {
			for _, m := range d.Status.Placement.Moves {
				seen[m.Pod] = m
			}
		}
		var notLive int
		after, notLive = s.pods("etl")
		if n := len(after[od]); n != 2 || notLive > 0 || len(uids(after)) != 4 {
			return fmt.Errorf("%d pods on on-demand, want the base of 2, and all 4 live (%d not); live: %s", n, notLive, where(after))
		}
		return nil
	})
	repaired := time.Since(started)
	for _, p := range after[od] {
		if p.Labels[config.Prefix+"placement"] != "on-demand" || !strings.Contains(p.Annotations[config.AnnotationDecision], "on-demand base") {
			t.Errorf("pod %s on %s: placement %q, decision %q; want placed on on-demand by the webhook for the base", p.Name, od, p.Labels[config.Prefix+"placement"], p.Annotations[config.AnnotationDecision])
		}
	}

	// No churn: a few more rounds (2 s each) move nothing.
	time.Sleep(8 * time.Second)
	if again, _ := s.pods("etl"); fmt.Sprint(uids(again)) != fmt.Sprint(uids(after)) {
		t.Errorf("etl's pods changed after the base held: %s then %s", where(after), where(again))
	}
	accepted, tooMany, other := s.evicts.counts()
	t.Logf("base held %.1fs after the manager started; evictions accepted %v, 429s %d, other answers %v", repaired.Seconds(), accepted, tooMany, other)
	if len(accepted) != 2 {
		t.Errorf("%d pods evicted, want 2 (the base's shortfall)", len(accepted))
	}
	for pod, n := range accepted {
		if n != 1 {
			t.Errorf("pod %s evicted %d times", pod, n)
		}
	}

	// Why, on the Decision and in its Events.
	d := s.decision("etl")
	if d == nil || d.Status.Placement == nil {
		t.Fatalf("etl's Decision has no placement: %+v", d)
	}
	if d.Status.Placement.Outlook != nil {
		t.Errorf("etl has an outlook %+v: the manager found a price source (is AWS_REGION set?); this test runs without one", d.Status.Placement.Outlook)
	}
	for _, m := range d.Status.Placement.Moves {
		seen[m.Pod] = m
	}
	if len(seen) == 0 {
		t.Errorf("the Decision never showed a move")
	}
	for _, m := range seen {
		t.Logf("move: %s %s %s: %s", m.Pod, m.Kind, m.State, m.Reason)
		if m.Kind != v1alpha1.MoveBaseShortfall || !strings.Contains(m.Reason, "for an on-demand base of 2") {
			t.Errorf("move %+v, want a BaseShortfall for the base of 2", m)
		}
	}
	eventually(t, 30*time.Second, func() error {
		evs, err := s.e.cs.EventsV1().Events(s.e.namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		var evicted, blocked int
		for _, ev := range evs.Items {
			if ev.Regarding.Kind != "Decision" || ev.Regarding.Name != "etl" {
				continue
			}
			switch {
			case ev.Reason == "Evicted" && strings.Contains(ev.Note, "BaseShortfall") && strings.Contains(ev.Note, "admitted while trimtab was down"):
				evicted++
			case ev.Reason == "EvictionBlocked":
				blocked++
			}
		}
		if evicted < 2 || blocked == 0 {
			return fmt.Errorf("Events on Decision etl: %d Evicted for the base, %d EvictionBlocked; want 2 and at least 1", evicted, blocked)
		}
		return nil
	})
}
