package hpa

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// The cases below port kubernetes/kubernetes
// pkg/controller/podautoscaler/horizontal_test.go (v1.37):
// TestConvertDesiredReplicasWithRules, TestCalculateScaleUp/DownLimit...,
// TestNormalizeDesiredReplicas, TestNormalizeDesiredReplicasWithBehavior and
// TestScalingWithRules.

func rules(pods, podsPeriod, percent, percentPeriod, window int32) *autoscalingv2.HPAScalingRules {
	sel := autoscalingv2.MaxChangePolicySelect
	r := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, SelectPolicy: &sel}
	if pods != 0 {
		r.Policies = append(r.Policies, autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: pods, PeriodSeconds: podsPeriod})
	}
	if percent != 0 {
		r.Policies = append(r.Policies, autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: percent, PeriodSeconds: percentPeriod})
	}
	return r
}

// uniform is upstream generateEventsUniformDistribution.
func uniform(now time.Time, changes []int32, periodSeconds int) []ScaleEvent {
	seg := float64(periodSeconds) / float64(len(changes))
	out := make([]ScaleEvent, len(changes))
	for i, c := range changes {
		back := time.Duration(float64(periodSeconds)-seg*float64(i+1)+seg/2) * time.Second
		out[i] = ScaleEvent{Change: c, At: now.Add(-back)}
	}
	return out
}

func TestConvertWithRules(t *testing.T) {
	cases := []struct {
		current, desired, minR, maxR, want int32
		limit                              Limit
	}{
		{5, 7, 3, 8, 7, WithinRange},
		{3, 1, 2, 8, 2, TooFew},
		{1, 0, 0, 10, 0, WithinRange},
		{20, 1000, 1, 10, 10, TooMany},
		{3, 1000, 1, 2000, 6, ScaleUpLimit},
	}
	for _, c := range cases {
		got, limit := convertWithRules(c.current, c.desired, c.minR, c.maxR)
		if got != c.want || limit != c.limit {
			t.Errorf("convert(%d→%d in %d..%d) = %d %s, want %d %s", c.current, c.desired, c.minR, c.maxR, got, limit, c.want, c.limit)
		}
	}
}

func TestScaleLimitsMinPolicy(t *testing.T) {
	sel := autoscalingv2.MinChangePolicySelect
	win := int32(300)
	r := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &win, SelectPolicy: &sel, Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PodsScalingPolicy, Value: 2, PeriodSeconds: 60},
		{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60},
	}}
	if got := scaleUpLimit(1, nil, nil, r, testNow); got != 2 {
		t.Errorf("scale-up limit from 1 = %d, want 2", got)
	}
	if got := scaleDownLimit(5, nil, nil, r, testNow); got != 3 {
		t.Errorf("scale-down limit from 5 = %d, want 3", got)
	}
	dis := autoscalingv2.DisabledPolicySelect
	r.SelectPolicy = &dis
	if got := scaleUpLimit(7, nil, nil, r, testNow); got != 7 {
		t.Errorf("disabled scale-up limit = %d, want 7", got)
	}
}

func TestStabilizeLegacy(t *testing.T) {
	now := testNow
	cases := []struct {
		name    string
		recs    []Recommendation
		desired int32
		want    int32
		wantLen int
	}{
		{"empty log", nil, 5, 5, 1},
		{"stabilize", []Recommendation{{4, now.Add(-2 * time.Minute)}, {5, now.Add(-time.Minute)}}, 3, 5, 3},
		{"no stabilize", []Recommendation{{1, now.Add(-2 * time.Minute)}, {2, now.Add(-time.Minute)}}, 3, 3, 3},
		{"no stabilize - old recommendations", []Recommendation{{10, now.Add(-10 * time.Minute)}, {9, now.Add(-9 * time.Minute)}}, 3, 3, 2},
		{"stabilize - old recommendations", []Recommendation{{10, now.Add(-10 * time.Minute)}, {4, now.Add(-time.Minute)}, {5, now.Add(-2 * time.Minute)}, {9, now.Add(-9 * time.Minute)}}, 3, 5, 4},
	}
	for _, c := range cases {
		s := State{Recommendations: c.recs}
		if got := s.stabilizeLegacy(c.desired, 5*time.Minute, now); got != c.want || len(s.Recommendations) != c.wantLen {
			t.Errorf("%s: got %d (log %d), want %d (log %d)", c.name, got, len(s.Recommendations), c.want, c.wantLen)
		}
	}
}

func TestStabilizeWithBehavior(t *testing.T) {
	now := testNow
	cases := []struct {
		name             string
		recs             []Recommendation
		current, desired int32
		want             int32
		wantRecs         []int32
		upWin, downWin   int32
	}{
		{"empty recommendations for scaling down", nil, 100, 5, 5, []int32{5}, 0, 0},
		{"simple scale down stabilization", []Recommendation{{4, now.Add(-2 * time.Minute)}, {5, now.Add(-time.Minute)}}, 100, 3, 5, []int32{4, 5, 3}, 0, 180},
		{"simple scale up stabilization", []Recommendation{{4, now.Add(-2 * time.Minute)}, {5, now.Add(-time.Minute)}}, 1, 7, 4, []int32{4, 5, 7}, 300, 0},
		{"no scale down stabilization", []Recommendation{{1, now.Add(-2 * time.Minute)}, {2, now.Add(-time.Minute)}}, 100, 3, 3, []int32{1, 2, 3}, 300, 0},
		{"no scale up stabilization", []Recommendation{{4, now.Add(-2 * time.Minute)}, {5, now.Add(-time.Minute)}}, 1, 3, 3, []int32{4, 5, 3}, 0, 300},
		{"no scale down stabilization, reuse recommendation element", []Recommendation{{10, now.Add(-10 * time.Minute)}, {9, now.Add(-9 * time.Minute)}}, 100, 3, 3, []int32{10, 3}, 0, 0},
		{"no scale up stabilization, reuse recommendation element", []Recommendation{{10, now.Add(-10 * time.Minute)}, {9, now.Add(-9 * time.Minute)}}, 1, 100, 100, []int32{10, 100}, 0, 0},
	}
	for _, c := range cases {
		s := State{Recommendations: c.recs}
		got := s.stabilize(c.current, c.desired, rules(4, 15, 0, 0, c.upWin), rules(0, 0, 100, 15, c.downWin), now)
		var recs []int32
		for _, r := range s.Recommendations {
			recs = append(recs, r.Replicas)
		}
		if got != c.want || !equal(recs, c.wantRecs) {
			t.Errorf("%s: got %d %v, want %d %v", c.name, got, recs, c.want, c.wantRecs)
		}
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestScalingWithRules(t *testing.T) {
	now := testNow
	cases := []struct {
		name             string
		up, down         []ScaleEvent
		minR, maxR       int32
		upR, downR       *autoscalingv2.HPAScalingRules
		current, desired int32
		want             int32
		limit            Limit
	}{
		{"within range", nil, nil, 3, 8, nil, nil, 5, 7, 7, WithinRange},
		{"below min", nil, nil, 2, 8, nil, nil, 3, 1, 2, TooFew},
		{"zero within range when min is 0", nil, nil, 0, 10, nil, nil, 1, 0, 0, WithinRange},
		{"max below scale-up limit", nil, nil, 1, 10, nil, nil, 20, 1000, 10, TooMany},
		{"more than max", nil, nil, 100, 150, nil, nil, 100, 1000, 150, TooMany},
		{"user policy scale-up limit", nil, nil, 1, 2000, rules(0, 0, 1, 60, 0), nil, 3, 1000, 4, ScaleUpLimit},
		{"scaleUp with default behavior", nil, nil, 1, 1000, nil, nil, 10, 50, 20, ScaleUpLimit},
		{"pods policy larger than percent", nil, nil, 1, 1000, rules(100, 60, 100, 60, 0), nil, 10, 500, 110, ScaleUpLimit},
		{"percent policy larger than pods", nil, nil, 1, 1000, rules(2, 60, 100, 60, 0), nil, 10, 500, 20, ScaleUpLimit},
		{"large pod policy", nil, nil, 1, 1000, rules(100, 60, 0, 0, 0), nil, 10, 50, 50, WithinRange},
		{"pod policy limitation", nil, nil, 1, 1000, rules(30, 60, 0, 0, 0), nil, 10, 50, 40, ScaleUpLimit},
		{"percent policy limitation", nil, nil, 1, 1000, rules(0, 0, 200, 60, 0), nil, 10, 50, 30, ScaleUpLimit},
		{"scaleDown percent larger than pods", nil, nil, 1, 1000, nil, rules(20, 60, 1, 60, 300), 100, 2, 80, ScaleDownLimit},
		{"scaleDown pods larger than percent", nil, nil, 1, 1000, nil, rules(2, 60, 1, 60, 300), 100, 2, 98, ScaleDownLimit},
		{"scaleDown min with large pod policy", nil, nil, 1, 1000, nil, rules(100, 60, 0, 0, 300), 10, 0, 1, TooFew},
		{"scaleDown min with large percent policy", nil, nil, 5, 1000, nil, rules(0, 0, 100, 60, 300), 10, 2, 5, TooFew},
		{"scaleDown pod policy limitation", nil, nil, 1, 1000, nil, rules(5, 60, 0, 0, 300), 10, 2, 5, ScaleDownLimit},
		{"scaleDown percent policy limitation", nil, nil, 1, 1000, nil, rules(0, 0, 50, 60, 300), 10, 5, 5, WithinRange},
		{"max with large pod policy and events", uniform(now, []int32{1, 5, 9}, 120), nil, 1, 200, rules(300, 60, 0, 0, 0), nil, 100, 500, 200, TooMany},
		{"max with large percent policy and events", uniform(now, []int32{1, 5, 9}, 120), nil, 1, 200, rules(0, 0, 10000, 60, 0), nil, 100, 500, 200, TooMany},
		{"current limit with many recent scale-ups", uniform(now, []int32{1, 5, 9}, 120), nil, 1, 1000, rules(5, 120, 0, 0, 0), nil, 100, 500, 100, ScaleUpLimit},
		{"pod policy and previous scale-ups", uniform(now, []int32{1, 5, 9}, 120), nil, 1, 1000, rules(150, 120, 0, 0, 0), nil, 100, 500, 235, ScaleUpLimit},
		{"percent policy and previous scale-ups", uniform(now, []int32{1, 5, 9}, 120), nil, 1, 1000, rules(0, 0, 200, 120, 0), nil, 100, 500, 255, ScaleUpLimit},
		{"percent policy and previous ups and downs", uniform(now, []int32{4}, 120), uniform(now, []int32{2}, 120), 1, 1000, rules(0, 0, 300, 300, 0), nil, 6, 24, 16, ScaleUpLimit},
		{"scaleDown default policy and events", nil, uniform(now, []int32{1, 5, 9}, 120), 1, 1000, nil, nil, 10, 5, 5, WithinRange},
		{"scaleDown min=1 large pod policy and events", nil, uniform(now, []int32{1, 5, 9}, 120), 1, 1000, nil, rules(115, 120, 0, 0, 300), 100, 0, 1, TooFew},
		{"scaleDown min=5 large pod policy and events", nil, uniform(now, []int32{1, 5, 9}, 120), 5, 1000, nil, rules(130, 120, 0, 0, 300), 100, 0, 5, TooFew},
		{"scaleDown min large percent policy and events", nil, uniform(now, []int32{1, 5, 9}, 120), 5, 1000, nil, rules(0, 0, 100, 120, 300), 100, 2, 5, TooFew},
		{"scaleDown pod policy and events", nil, uniform(now, []int32{1, 5, 9}, 120), 1, 1000, nil, rules(5, 120, 0, 0, 300), 100, 2, 100, ScaleDownLimit},
		{"scaleDown percent policy and events", nil, uniform(now, []int32{2, 4, 6}, 120), 1, 1000, nil, rules(0, 0, 50, 120, 300), 100, 0, 56, ScaleDownLimit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := State{Up: c.up, Down: c.down}
			up := withDefaults(c.upR, DefaultScaleUpRules(), 0)
			down := withDefaults(c.downR, DefaultScaleDownRules(), DefaultDownscaleStabilization)
			stab := s.stabilize(c.current, c.desired, up, down, now)
			got, limit := s.convertWithBehavior(c.current, stab, c.minR, c.maxR, up, down, now)
			if got != c.want || limit != c.limit {
				t.Errorf("got %d %s, want %d %s", got, limit, c.want, c.limit)
			}
		})
	}
}

// TestReconcileSequence drives Reconcile over time the way the controller's
// 15 s loop does: a load spike scales up at the default rate, and the scale
// down waits out the 300 s window.
func TestReconcileSequence(t *testing.T) {
	var s State
	spec := Spec{MinReplicas: 1, MaxReplicas: 100, Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{}}
	now := testNow
	cur := int32(2)
	steps := []struct {
		proposal, want int32
	}{
		{40, 6},  // +4 pods beats +100% of 2
		{40, 12}, // +100% of 6
		{40, 24},
		{40, 40},
		{10, 40}, // scale-down window holds
	}
	for i, st := range steps {
		out, err := s.Reconcile(spec, cur, []Proposal{{Metric: "cpu", Replicas: st.proposal}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if out.Replicas != st.want {
			t.Fatalf("step %d: got %d, want %d (%+v)", i, out.Replicas, st.want, out)
		}
		cur = out.Replicas
		now = now.Add(15 * time.Second)
	}
	for range 20 { // 5 minutes later the window has passed
		out, _ := s.Reconcile(spec, cur, []Proposal{{Metric: "cpu", Replicas: 10}}, now)
		cur = out.Replicas
		now = now.Add(15 * time.Second)
	}
	if cur != 10 {
		t.Errorf("after the window: got %d, want 10", cur)
	}
	if len(s.Recommendations) > 25 || len(s.Up) > 4 || len(s.Down) > 4 {
		t.Errorf("state grew: %d recommendations, %d up, %d down events", len(s.Recommendations), len(s.Up), len(s.Down))
	}
}

func TestReconcileMultiMetricAndErrors(t *testing.T) {
	var s State
	spec := Spec{MinReplicas: 1, MaxReplicas: 10}
	out, err := s.Reconcile(spec, 3, []Proposal{{Metric: "cpu", Replicas: 4}, {Metric: "qps", Replicas: 5}}, testNow)
	if err != nil || out.Replicas != 5 || out.Metric != "qps" {
		t.Errorf("multi-metric max: got %+v %v, want 5 from qps", out, err)
	}
	if _, err := s.Reconcile(spec, 3, []Proposal{{Metric: "cpu", Replicas: 2}, {Metric: "qps", Err: ErrNoMetrics}}, testNow); err == nil {
		t.Error("an invalid metric and a scale-down: want an error")
	}
	out, err = s.Reconcile(spec, 3, []Proposal{{Metric: "cpu", Replicas: 6}, {Metric: "qps", Err: ErrNoMetrics}}, testNow)
	if err != nil || out.Replicas != 6 {
		t.Errorf("an invalid metric and a scale-up: got %+v %v, want 6", out, err)
	}
	out, _ = s.Reconcile(spec, 12, []Proposal{{Metric: "cpu", Replicas: 12}}, testNow)
	if out.Replicas != 10 {
		t.Errorf("above max: got %d, want 10", out.Replicas)
	}
	if _, err := s.Reconcile(Spec{MinReplicas: 5, MaxReplicas: 2}, 3, nil, testNow); err == nil {
		t.Error("min > max: want an error")
	}
}

// TestReconcileLegacy: an HPA without behavior scales up to max(2×, 4) per
// sync and holds scale-down for the controller's window (upstream
// normalizeDesiredReplicas), and records no scale events.
func TestReconcileLegacy(t *testing.T) {
	var s State
	spec := Spec{MinReplicas: 1, MaxReplicas: 100}
	now := testNow
	cur := int32(1)
	for i, want := range []int32{4, 8, 16, 32, 40} {
		out, err := s.Reconcile(spec, cur, []Proposal{{Metric: "cpu", Replicas: 40}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if out.Replicas != want {
			t.Fatalf("step %d: got %d, want %d", i, out.Replicas, want)
		}
		cur = out.Replicas
		now = now.Add(15 * time.Second)
	}
	out, _ := s.Reconcile(spec, cur, []Proposal{{Metric: "cpu", Replicas: 5}}, now)
	if out.Replicas != 40 || out.Stabilized != 40 {
		t.Errorf("scale-down inside the window: got %+v, want 40", out)
	}
	out, _ = s.Reconcile(spec, cur, []Proposal{{Metric: "cpu", Replicas: 5}}, now.Add(6*time.Minute))
	if out.Replicas != 5 {
		t.Errorf("scale-down after the window: got %d, want 5", out.Replicas)
	}
	if len(s.Up)+len(s.Down) != 0 {
		t.Errorf("legacy path recorded scale events: %v %v", s.Up, s.Down)
	}
}
