package decision

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/decider/replicas"
)

// comparisonBucket is the resolution of the shadow comparison's window.
const comparisonBucket = 5 * time.Minute

// comparison sums, per bucket of a trailing window, what trimtab and an HPA
// on the same workload would each run and how long each would have left
// the load over its target: how a user decides to switch from the HPA.
type comparison struct {
	hpa     string // the HPA compared with; another one starts over
	buckets []sums // ring, indexed by bucket number mod len
}

type sums struct {
	n                    int64 // bucket number these sums are for
	trimtabRM, hpaRM     float64
	trimtabOver, hpaOver float64
}

// add accounts dt at now: each one's replicas, and whether the load
// exceeded what they serve at the target.
func (c *comparison) add(now time.Time, dt time.Duration, trimtab, hpa int32, load, perPodAtTarget float64) {
	n := now.Unix() / int64(comparisonBucket/time.Second)
	b := &c.buckets[n%int64(len(c.buckets))]
	if b.n != n {
		*b = sums{n: n}
	}
	min := dt.Minutes()
	b.trimtabRM += float64(trimtab) * min
	b.hpaRM += float64(hpa) * min
	if load > float64(trimtab)*perPodAtTarget {
		b.trimtabOver += min
	}
	if load > float64(hpa)*perPodAtTarget {
		b.hpaOver += min
	}
}

// total sums the buckets within window of now.
func (c *comparison) total(now time.Time) sums {
	n := now.Unix() / int64(comparisonBucket/time.Second)
	var t sums
	for _, b := range c.buckets {
		if b.n > n-int64(len(c.buckets)) && b.n <= n {
			t.trimtabRM += b.trimtabRM
			t.hpaRM += b.hpaRM
			t.trimtabOver += b.trimtabOver
			t.hpaOver += b.hpaOver
		}
	}
	return t
}

// compare records this sync in the workload's comparison with h and
// returns the status to show. The HPA's own decision is its status'
// desiredReplicas.
func (c *Controller) compare(w *workload, t *tracked, h *autoscalingv2.HorizontalPodAutoscaler, load float64, cfg replicas.Config, trimtab int32, now time.Time) *v1alpha1.HPAComparison {
	if t.shadow == nil || t.shadow.hpa != h.Name {
		t.shadow = &comparison{hpa: h.Name, buckets: make([]sums, max(int(c.ShadowWindow/comparisonBucket), 1))}
	}
	hpaWants := h.Status.DesiredReplicas
	t.shadow.add(now, c.Period, trimtab, hpaWants, load, cfg.CapacityPerPod*cfg.TargetUtilization)
	s := t.shadow.total(now)
	cmp := &v1alpha1.HPAComparison{Name: h.Name, DesiredReplicas: hpaWants, Window: metav1.Duration{Duration: c.ShadowWindow},
		TrimtabReplicaMinutes: int64(s.trimtabRM + 0.5), HPAReplicaMinutes: int64(s.hpaRM + 0.5),
		TrimtabMinutesOverTarget: int64(s.trimtabOver + 0.5), HPAMinutesOverTarget: int64(s.hpaOver + 0.5)}
	for _, who := range []struct {
		name     string
		rm, over float64
	}{{"trimtab", s.trimtabRM, s.trimtabOver}, {"hpa", s.hpaRM, s.hpaOver}} {
		shadowReplicaMinutes.WithLabelValues(w.key.Namespace, w.key.Kind, w.key.Name, who.name).Set(who.rm)
		shadowMinutesOverTarget.WithLabelValues(w.key.Namespace, w.key.Kind, w.key.Name, who.name).Set(who.over)
	}
	return cmp
}
