package hpa

import (
	"testing"
	"time"
)

// The cases below port kubernetes/kubernetes
// pkg/controller/podautoscaler/replica_calculator_test.go (v1.37): same pods,
// levels, targets and expected replicas. Upstream's fixture gives each pod
// two containers with equal requests and levels; the ratio is the same with
// one, so a pod here has request 1000m and value = the upstream level.

var (
	testNow  = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	testOpts = Options{CPUInitializationPeriod: 2 * time.Minute, InitialReadinessDelay: 10 * time.Second, CPU: true}
	hot      = testNow                       // upstream hotCPUCreationTime
	cool     = testNow.Add(-3 * time.Minute) // upstream coolCPUCreationTime
)

type podOpt func(*Pod)

func notReady(p *Pod)            { p.Ready = false }
func pending(p *Pod)             { p.Phase = Pending; p.Ready = false }
func failed(p *Pod)              { p.Phase = Failed; p.Ready = false }
func deleting(p *Pod)            { p.Deleting = true; p.Ready = false }
func noMetric(p *Pod)            { p.HasMetric = false }
func started(t time.Time) podOpt { return func(p *Pod) { p.StartTime = t } }

// pod builds upstream's fake pod: running, Ready, started at the zero time
// (upstream's default), a metric sample with a zero timestamp and 1m window.
func pod(level int64, opts ...podOpt) Pod {
	p := Pod{Phase: Running, HasReady: true, Ready: true, Started: true, Request: 1000,
		HasMetric: true, Value: level, Window: time.Minute}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func TestResourceReplicas(t *testing.T) {
	tol := DefaultTolerances
	cases := []struct {
		name     string
		current  int32
		pods     []Pod
		target   int32
		tol      *Tolerances
		want     int32
		wantUtil int64
	}{
		{"scale up", 3, []Pod{pod(300), pod(500), pod(700)}, 30, nil, 5, 50},
		{"scale up: unready pod scales less", 3, []Pod{pod(300, notReady), pod(500), pod(700)}, 30, nil, 4, 60},
		{"scale up: hot-CPU pod scales less", 3, []Pod{pod(300, started(hot)), pod(500, started(cool)), pod(700, started(cool))}, 30, nil, 4, 60},
		{"no scale: unready pods ignored", 3, []Pod{pod(400), pod(500, notReady), pod(700, notReady)}, 30, nil, 3, 40},
		{"no scale: hot-CPU pods ignored", 3, []Pod{pod(400, started(cool)), pod(500, notReady, started(hot)), pod(700, notReady, started(hot))}, 30, nil, 3, 40},
		{"scale up: failed pods ignored", 2, []Pod{pod(500), pod(700), pod(0, failed, noMetric), pod(0, failed, noMetric)}, 30, nil, 4, 60},
		{"scale up: pods being deleted are ignored", 2, []Pod{pod(500), pod(700), pod(0, deleting, noMetric), pod(0, deleting, noMetric)}, 30, nil, 4, 60},
		{"scale down", 5, []Pod{pod(100), pod(300), pod(500), pod(250), pod(250)}, 50, nil, 3, 28},
		{"scale down: exclude unready pods", 5, []Pod{pod(100), pod(300), pod(500), pod(250, notReady), pod(250, notReady)}, 50, nil, 2, 30},
		{"scale down: exclude unscheduled pods", 5, []Pod{pod(100), pod(0, pending, noMetric), pod(0, pending, noMetric), pod(0, pending, noMetric), pod(0, pending, noMetric)}, 50, nil, 1, 10},
		{"scale down: ignore hot-CPU pods", 5, []Pod{pod(100, started(cool)), pod(300, started(cool)), pod(500, started(cool)), pod(250, started(hot)), pod(250, started(hot))}, 50, nil, 2, 30},
		{"scale down: failed pods ignored", 5, []Pod{pod(100), pod(300), pod(500), pod(250), pod(250), pod(0, failed, noMetric), pod(0, failed, noMetric)}, 50, nil, 3, 28},
		{"scale down: still-running pods being deleted are ignored", 5, []Pod{pod(100), pod(300), pod(500), pod(250), pod(250), pod(0, deleting, noMetric), pod(0, deleting, noMetric)}, 50, nil, 3, 28},
		// TestReplicaCalcResourceTolerance
		{"within default tolerance", 3, []Pod{withReq(pod(1010), 900), pod(1030), withReq(pod(1020), 1100)}, 100, nil, 3, 102},
		{"outside 0% tolerance", 3, []Pod{withReq(pod(909), 900), pod(1010), withReq(pod(1111), 1100)}, 100, &Tolerances{0, 0}, 4, 101},
		{"within 200% scale-up tolerance", 3, []Pod{withReq(pod(1890), 900), pod(1910), withReq(pod(1900), 1100)}, 100, &Tolerances{0.1, 2}, 3, 190},
		{"outside 8% scale-up tolerance", 3, []Pod{withReq(pod(1100), 900), pod(1080), withReq(pod(1090), 1100)}, 100, &Tolerances{2, 0.08}, 4, 109},
		{"within 36% scale-down tolerance", 3, []Pod{withReq(pod(660), 900), pod(640), withReq(pod(650), 1100)}, 100, &Tolerances{0.36, 0.1}, 3, 65},
		{"outside 34% scale-down tolerance", 3, []Pod{withReq(pod(660), 900), pod(640), withReq(pod(650), 1100)}, 100, &Tolerances{0.34, 0.1}, 2, 65},
		// TestReplicaCalcResourceMissingMetrics
		{"superfluous metrics counted", 4, []Pod{pod(4000), pod(9500), pod(3000), pod(7000)}, 100, nil, 24, 587},
		{"some pods missing metrics scales down", 4, []Pod{pod(400), pod(95), pod(0, noMetric), pod(0, noMetric)}, 100, nil, 3, 24},
		{"no change: metric equal to target", 2, []Pod{pod(1000), pod(0, noMetric)}, 100, nil, 2, 100},
		{"no change: metric above target", 2, []Pod{pod(1900), pod(0, noMetric)}, 100, nil, 2, 190},
		{"no change: metric below target", 2, []Pod{pod(600), pod(0, noMetric)}, 100, nil, 2, 60},
		{"no change: unready pod metric missing", 3, []Pod{pod(100, notReady), pod(450), pod(0, noMetric)}, 50, nil, 3, 45},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := tol
			if tc.tol != nil {
				tl = *tc.tol
			}
			got, err := ResourceReplicas(tc.pods, tc.current, tc.target, tl, testOpts, testNow)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Replicas != tc.want || got.Average != tc.wantUtil {
				t.Errorf("got %d replicas at %d%%, want %d at %d%%", got.Replicas, got.Average, tc.want, tc.wantUtil)
			}
		})
	}
}

func withReq(p Pod, req int64) Pod { p.Request = req; return p }

func TestResourceReplicasErrors(t *testing.T) {
	cases := []struct {
		name string
		pods []Pod
	}{
		{"no pods", nil},
		{"all pods unready", []Pod{pod(100, notReady), pod(100, pending)}},
		{"all pods missing metrics", []Pod{pod(0, noMetric)}},
	}
	for _, tc := range cases {
		if _, err := ResourceReplicas(tc.pods, 3, 50, DefaultTolerances, testOpts, testNow); err == nil {
			t.Errorf("%s: want an error, got none", tc.name)
		}
	}
	if _, err := ResourceReplicas([]Pod{pod(1)}, 1, 0, DefaultTolerances, testOpts, testNow); err == nil {
		t.Error("target 0: want an error")
	}
}

// TestMetricReplicas ports TestReplicaCalcPodMetric. Pod metrics are not the
// cpu resource, but upstream still runs groupPods with resource "" — so only
// pending, failed, deleting and missing pods are told apart.
func TestMetricReplicas(t *testing.T) {
	o := testOpts
	o.CPU = false
	cases := []struct {
		name    string
		current int32
		pods    []Pod
		target  int64
		tol     Tolerances
		want    int32
		wantAvg int64
	}{
		{"scale up", 3, []Pod{pod(20000), pod(10000), pod(30000)}, 15000, DefaultTolerances, 4, 20000},
		{"scale down", 5, []Pod{pod(12000), pod(12000), pod(12000), pod(12000), pod(12000)}, 20000, DefaultTolerances, 3, 12000},
		{"within default tolerance", 3, []Pod{pod(20000), pod(21000), pod(21000)}, 20000, DefaultTolerances, 3, 20666},
		{"outside configurable 1% tolerance", 3, []Pod{pod(20000), pod(21000), pod(21000)}, 20000, Tolerances{0.1, 0.01}, 4, 20666},
		{"no change: missing metrics", 5, []Pod{pod(20000), pod(19000), pod(21000), pod(0, noMetric), pod(0, noMetric)}, 20000, DefaultTolerances, 5, 20000},
		{"scale up: unready hot-CPU pod scales less", 3, []Pod{pod(50000, started(cool)), pod(10000, started(cool)), pod(30000, notReady, started(hot))}, 15000, DefaultTolerances, 6, 30000},
		{"scale up: unready hot-CPU pods avoid scale-down", 3, []Pod{pod(50000, notReady, started(hot)), pod(15000, started(cool)), pod(30000, notReady, started(hot))}, 15000, DefaultTolerances, 7, 31666},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MetricReplicas(tc.pods, tc.current, tc.target, tc.tol, o, testNow)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got.Replicas != tc.want || got.Average != tc.wantAvg {
				t.Errorf("got %d replicas at %d, want %d at %d", got.Replicas, got.Average, tc.want, tc.wantAvg)
			}
		})
	}
}

// TestUsageRatioAndPerPod checks the Object/External formulas (upstream
// getUsageRatioReplicaCount and GetObjectPerPodMetricReplicas) by hand.
func TestUsageRatioAndPerPod(t *testing.T) {
	// 3 ready pods, usage 20000, target 10000 -> 6.
	if got, _ := UsageRatioReplicas(3, 3, 20000, 10000, DefaultTolerances); got != 6 {
		t.Errorf("object scale up: got %d, want 6", got)
	}
	// scale to zero / from zero: ceil(ratio).
	if got, _ := UsageRatioReplicas(0, 0, 25000, 10000, DefaultTolerances); got != 3 {
		t.Errorf("from zero: got %d, want 3", got)
	}
	// status 3, usage 20000, target avg 2000 -> 10.
	if got, _ := PerPodReplicas(3, 20000, 2000, DefaultTolerances); got != 10 {
		t.Errorf("per-pod scale up: got %d, want 10", got)
	}
	// usage 5900, 3 pods × 2000 -> keep 3.
	if got, _ := PerPodReplicas(3, 5900, 2000, DefaultTolerances); got != 3 {
		t.Errorf("per-pod within tolerance: got %d, want 3", got)
	}
}
