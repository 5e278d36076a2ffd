package replicas_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// pods returns n ready pods sharing load at utilization util (percent).
func pods(n int, util int64) []hpa.Pod {
	ps := make([]hpa.Pod, n)
	for i := range ps {
		ps[i] = hpa.Pod{Phase: hpa.Running, HasReady: true, Ready: true, Started: true, StartTime: t0.Add(-time.Hour),
			ReadySince: t0.Add(-time.Hour), Request: 1000, HasMetric: true, Value: util * 10, Timestamp: t0, Window: 30 * time.Second}
	}
	return ps
}

func cpu(n int, util int64) []replicas.Metric {
	return []replicas.Metric{{Name: "cpu", Kind: replicas.Utilization, Pods: pods(n, util), TargetUtilization: 70}}
}

func mustState(t *testing.T, p replicas.Config) *replicas.State {
	t.Helper()
	s, err := replicas.NewState(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecideCold(t *testing.T) {
	p := replicas.DefaultConfig(2, 50, 100)
	cases := []struct {
		name    string
		current int32
		metrics []replicas.Metric
		want    int32
		reason  string
	}{
		{"reactive scales out like the HPA", 4, cpu(4, 140), 8, "reactive 8 (cpu) > floor 2"},
		{"within tolerance holds", 4, cpu(4, 75), 4, "reactive 4"},
		{"floor wins", 2, cpu(2, 10), 2, "floor 2 (policy min)"},
		{"no metrics holds", 5, nil, 5, "hold 5 (no signal)"},
		{"failed metric never scales down", 5, []replicas.Metric{{Name: "qps", Kind: replicas.PodAverage, TargetAverage: 1000}}, 5, "reactive none"},
		{"business total per pod", 4, []replicas.Metric{{Name: "orders", Kind: replicas.TotalAverage, Total: 12000, TargetAverage: 1000}}, 8, "reactive 12 (orders)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustState(t, p)
			d, err := replicas.Decide(p, s, replicas.Inputs{Now: t0, CurrentReplicas: tc.current, Metrics: tc.metrics, Downstream: math.NaN(), Options: hpa.DefaultOptions})
			if err != nil {
				t.Fatal(err)
			}
			if d.Replicas != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("got %d %q, want %d containing %q", d.Replicas, d.Reason, tc.want, tc.reason)
			}
			if !strings.Contains(d.Reason, "proactive none (forecast cold)") {
				t.Errorf("cold model not explained: %q", d.Reason)
			}
		})
	}
}

// TestDecideProactive warms the forecaster on a synthetic week and checks
// that trimtab scales out ahead of the morning ramp, before the reactive
// path would, with the forecast in the reason.
func TestDecideProactive(t *testing.T) {
	tr := replicasim.Synth{Seed: 3, Days: 9, Step: time.Minute, Base: 1000, DailyAmp: 0.8, PeakHour: 12, Weekend: 1, Noise: 0.02}.Trace()
	p := replicas.DefaultConfig(1, 200, 100)
	p.LoadUnit = "rpm"
	s := mustState(t, p)
	day := 24 * 60
	for i := range 8 * day {
		s.Observe(tr.At(i), tr.Values[i])
	}
	// 07:00 on day 9: load is rising steeply toward noon.
	i := 8*day + 7*60
	now := tr.At(i)
	cur := int32(math.Ceil(tr.Values[i] / (100 * 0.7)))
	d, err := replicas.Decide(p, s, replicas.Inputs{Now: now, CurrentReplicas: cur, Metrics: cpu(int(cur), 70), Downstream: math.NaN(), Options: hpa.DefaultOptions})
	if err != nil {
		t.Fatal(err)
	}
	later := tr.Values[i+int((p.StartupDelay+p.SizeAhead)/time.Minute)]
	need := int32(math.Ceil(later / (100 * 0.7)))
	if d.Proactive < need || d.Replicas <= cur {
		t.Errorf("proactive %d, decided %d from %d; load at the end of the sized interval needs %d", d.Proactive, d.Replicas, cur, need)
	}
	if !strings.HasPrefix(d.Reason, "proactive ") || !strings.Contains(d.Reason, "rpm at ") || !strings.Contains(d.Reason, "p90") {
		t.Errorf("reason %q should lead with the forecast", d.Reason)
	}
}

func TestGuard(t *testing.T) {
	p := replicas.DefaultConfig(2, 50, 100)
	p.Guard = replicas.DefaultGuard("db-p95", 0.25)
	s := mustState(t, p)
	in := func(at time.Duration, cur int32, util int64, db float64) replicas.Inputs {
		return replicas.Inputs{Now: t0.Add(at), CurrentReplicas: cur, Metrics: cpu(int(cur), util), Downstream: db, Options: hpa.DefaultOptions}
	}
	steps := []struct {
		at           time.Duration
		cur          int32
		util         int64
		db           float64
		want         int32
		reasonSubstr string
	}{
		{0, 10, 140, 0.30, 10, "scale-out blocked"},              // over: no scale-out despite 140%
		{time.Minute, 10, 140, 0.24, 10, "scale-out blocked"},    // under the limit but not under the clear mark
		{2 * time.Minute, 10, 140, 0.30, 10, "blocked"},          // back over
		{3 * time.Minute, 10, 140, 0.30, 9, "stepping down 10%"}, // over for 3m: step down
		{3*time.Minute + 30*time.Second, 9, 140, 0.30, 9, "blocked"},
		{4 * time.Minute, 9, 140, 0.30, 8, "stepping down"},
		{5 * time.Minute, 8, 140, 0.20, 8, "recovering"}, // under the clear mark: still blocked
		{7 * time.Minute, 8, 140, 0.20, 16, "cleared"},   // 2m under: scale-out resumes
	}
	for i, st := range steps {
		d, err := replicas.Decide(p, s, in(st.at, st.cur, st.util, st.db))
		if err != nil {
			t.Fatal(err)
		}
		if d.Replicas != st.want || !strings.Contains(d.Reason, st.reasonSubstr) {
			t.Errorf("step %d: got %d %q, want %d containing %q", i, d.Replicas, d.Reason, st.want, st.reasonSubstr)
		}
	}
}

func TestWindows(t *testing.T) {
	w, err := replicas.ParseWindow("mon-fri 08:00-18:00 Europe/Paris 5")
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	cases := []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 2, 8, 0, 0, 0, paris), true},   // Monday 08:00 local
		{time.Date(2026, 3, 2, 7, 59, 0, 0, paris), false}, // before
		{time.Date(2026, 3, 2, 18, 0, 0, 0, paris), false}, // end exclusive
		{time.Date(2026, 3, 7, 12, 0, 0, 0, paris), false}, // Saturday
		{time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC), true},
	}
	for _, c := range cases {
		if got := w.Active(c.at); got != c.want {
			t.Errorf("Active(%s) = %v, want %v", c.at, got, c.want)
		}
	}
	night, err := replicas.ParseWindow("fri 22:00-02:00 UTC 3")
	if err != nil {
		t.Fatal(err)
	}
	if !night.Active(time.Date(2026, 3, 7, 1, 0, 0, 0, time.UTC)) || night.Active(time.Date(2026, 3, 6, 1, 0, 0, 0, time.UTC)) {
		t.Error("wrapping window: Saturday 01:00 belongs to Friday's window, Friday 01:00 does not")
	}
	p := replicas.DefaultConfig(2, 50, 100)
	p.Floors = []replicas.Window{w}
	s := mustState(t, p)
	d, _ := replicas.Decide(p, s, replicas.Inputs{Now: time.Date(2026, 3, 2, 9, 0, 0, 0, paris), CurrentReplicas: 2, Metrics: cpu(2, 10), Downstream: math.NaN(), Options: hpa.DefaultOptions})
	if d.Replicas != 5 || !strings.Contains(d.Reason, "floor 5 (window") {
		t.Errorf("floor window: got %d %q", d.Replicas, d.Reason)
	}
	for _, bad := range []string{"", "mon-fri 08:00-18:00 UTC", "funday 08:00-18:00 UTC 2", "mon 8-18 UTC 2", "mon 08:00-18:00 Mars/Olympus 2", "mon 08:00-18:00 UTC -1"} {
		if _, err := replicas.ParseWindow(bad); err == nil {
			t.Errorf("replicas.ParseWindow(%q): want an error", bad)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	mut := []func(*replicas.Config){
		func(p *replicas.Config) { p.MinReplicas = 5; p.MaxReplicas = 2 },
		func(p *replicas.Config) { p.TargetUtilization = 0 },
		func(p *replicas.Config) { p.TargetUtilization = 1.5 },
		func(p *replicas.Config) { p.CapacityPerPod = 0 },
		func(p *replicas.Config) { p.Quantile = 1 },
		func(p *replicas.Config) { p.ScaleDownDeadBand = 1 },
		func(p *replicas.Config) { p.ScaleUpDeadBand = -0.1 },
		func(p *replicas.Config) { p.Guard = &replicas.Guard{Name: "db", Limit: 0} },
	}
	for i, m := range mut {
		p := replicas.DefaultConfig(1, 10, 100)
		m(&p)
		if _, err := replicas.Decide(p, &replicas.State{}, replicas.Inputs{Now: t0, CurrentReplicas: 1}); err == nil {
			t.Errorf("case %d: want a policy error", i)
		}
	}
}

// TestScaleUpDeadBand: a forecast asking for a little more than is running,
// while the load now is served, holds; a larger step, or a reactive need,
// scales.
func TestScaleUpDeadBand(t *testing.T) {
	tr := replicasim.Synth{Seed: 3, Days: 9, Step: time.Minute, Base: 1000, DailyAmp: 0.8, PeakHour: 12, Weekend: 1, Noise: 0.02}.Trace()
	day := 24 * 60
	i := 8*day + 7*60
	now := tr.At(i)
	decide := func(band float64, cur int32, util int64) replicas.Target {
		t.Helper()
		p := replicas.DefaultConfig(1, 200, 100)
		p.ScaleUpDeadBand = band
		s := mustState(t, p)
		for k := range 8 * day {
			s.Observe(tr.At(k), tr.Values[k])
		}
		d, err := replicas.Decide(p, s, replicas.Inputs{Now: now, CurrentReplicas: cur, Metrics: cpu(int(cur), util), Downstream: math.NaN(), Options: hpa.DefaultOptions})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := decide(0, 1, 70).Proactive
	cur := int32(math.Ceil(float64(want) / 1.08))
	if want <= cur || float64(want) > float64(cur)*1.1 {
		t.Fatalf("proactive %d, running %d: the case needs a step within 10%%", want, cur)
	}
	if d := decide(0.1, cur, 70); d.Replicas != cur || !strings.Contains(d.Reason, "held") {
		t.Errorf("step %d -> %d within the band: got %d %q, want a hold", cur, want, d.Replicas, d.Reason)
	}
	if d := decide(0, cur, 70); d.Replicas != want {
		t.Errorf("band off: got %d, want %d", d.Replicas, want)
	}
	if d := decide(0.1, cur, 90); d.Replicas <= cur {
		t.Errorf("reactive needs more than %d: got %d %q", cur, d.Replicas, d.Reason)
	}
	if d := decide(0.1, want/2, 70); d.Replicas <= want/2 {
		t.Errorf("step %d -> %d is beyond the band: got %d", want/2, want, d.Replicas)
	}
}
