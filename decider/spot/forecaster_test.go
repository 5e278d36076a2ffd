package spot

import (
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

var (
	mkt = prices.Market{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: prices.ProductLinux}
	t0  = time.Date(2015, 3, 11, 0, 0, 0, 0, time.UTC)
)

func newF(t testing.TB, cfg Config) *Forecaster {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Track(mkt, 1.0); err != nil {
		t.Fatal(err)
	}
	return f
}

// drive feeds price changes (minute offset → price) and steps every minute
// up to end, returning the assessments.
func drive(t *testing.T, f *Forecaster, changes map[int]float64, end int) []Assessment {
	t.Helper()
	var out []Assessment
	for i := 0; i <= end; i++ {
		now := t0.Add(time.Duration(i) * time.Minute)
		if p, ok := changes[i]; ok {
			if err := f.Observe(mkt, now, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Confirm(mkt, now); err != nil {
			t.Fatal(err)
		}
		a, err := f.Step(mkt, now)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func TestStepDecisions(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name    string
		changes map[int]float64
		end     int
		check   func(t *testing.T, as []Assessment)
	}{
		{"cheap and flat stays on spot", map[int]float64{0: 0.1}, 600, func(t *testing.T, as []Assessment) {
			for _, a := range as {
				if a.Off || a.Action != Stay {
					t.Fatalf("%v", a)
				}
			}
		}},
		{"above threshold moves out at once", map[int]float64{0: 0.1, 30: 1.5}, 30, func(t *testing.T, as []Assessment) {
			if a := as[30]; a.Action != MoveOut || a.Reason != ReasonAbove || a.P != 1 {
				t.Fatalf("%v", a)
			}
		}},
		{"back only after calm and min off", map[int]float64{0: 0.1, 30: 1.5, 40: 0.1}, 30 + 40 + 6*60 + 30, func(t *testing.T, as []Assessment) {
			back := -1
			for i, a := range as {
				if a.Action == MoveBack {
					back = i
					if a.Reason != ReasonCalm {
						t.Errorf("%v", a)
					}
				}
			}
			// last above at minute 40; calm 6h after that.
			if back < 40+6*60 {
				t.Fatalf("moved back at minute %d, before 6h of calm after minute 40", back)
			}
		}},
		{"near on-demand for an hour moves out", map[int]float64{0: 0.1, 10: 0.95}, 10 + 61, func(t *testing.T, as []Assessment) {
			if as[69].Off || !as[70].Off || as[70].Reason != ReasonNear {
				t.Fatalf("minute 69: %v; minute 70: %v", as[69], as[70])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, drive(t, newF(t, cfg), tc.changes, tc.end)) })
	}
}

func TestStaleDataHolds(t *testing.T) {
	f := newF(t, DefaultConfig())
	if a, _ := f.Step(mkt, t0); a.Action != Hold || a.Reason != ReasonNoData {
		t.Fatalf("no data: %v", a)
	}
	if err := f.Observe(mkt, t0, 0.1); err != nil {
		t.Fatal(err)
	}
	// Three hours without a confirming refresh, even with a price above the
	// threshold observed late, must not move.
	late := t0.Add(3 * time.Hour)
	a, err := f.Step(mkt, late)
	if err != nil || a.Action != Hold || a.Reason != ReasonStale || a.Off {
		t.Fatalf("stale: %v %v", a, err)
	}
	if !strings.Contains(a.String(), "stale price data") {
		t.Errorf("String() = %q", a.String())
	}
}

func TestRejectsBadInput(t *testing.T) {
	f := newF(t, DefaultConfig())
	other := prices.Market{InstanceType: "x1.huge", Zone: "us-east-1a", Product: prices.ProductLinux}
	for name, err := range map[string]error{
		"untracked observe": f.Observe(other, t0, 1),
		"negative":          f.Observe(mkt, t0, -1),
		"nan":               f.Observe(mkt, t0, math.NaN()),
		"bad od":            f.Track(other, math.Inf(1)),
		"twice":             f.Track(mkt, 1),
	} {
		if err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if err := f.Observe(mkt, t0.Add(time.Hour), 0.1); err != nil {
		t.Fatal(err)
	}
	if err := f.Observe(mkt, t0, 0.1); err == nil || !strings.Contains(err.Error(), "before the previous") {
		t.Errorf("out of order: %v", err)
	}
	if _, err := f.Step(mkt, t0); err == nil {
		t.Error("step before last observation: want an error")
	}
	bad := DefaultConfig()
	bad.PBack = bad.POut
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "PBack") {
		t.Errorf("PBack >= POut: %v", err)
	}
}

// synth generates a trace in the 2015 market's shape: a cheap noisy baseline
// with a daily cycle, and clusters of spikes (2-6 spikes 20-120 minutes
// apart) arriving every 1-5 days, each spike jumping straight above the
// threshold without warning.
func synth(seed int64, days int) (changes map[int]float64, spikeStarts []int) {
	r := rand.New(rand.NewSource(seed))
	changes = map[int]float64{}
	n := days * 24 * 60
	for i := 0; i < n; i += 5 + r.Intn(10) {
		changes[i] = 0.1 * (1 + 0.2*math.Sin(2*math.Pi*float64(i)/1440) + 0.1*r.Float64())
	}
	for c := 600 + r.Intn(1440); c < n-1440; c += 1440 + r.Intn(4*1440) {
		at := c
		for k := 2 + r.Intn(5); k > 0 && at < n-200; k-- {
			spikeStarts = append(spikeStarts, at)
			for j := at; j < at+5+r.Intn(40); j++ {
				delete(changes, j)
			}
			changes[at] = 1.5 + r.Float64()
			changes[at+5+r.Intn(30)] = 0.1
			at += 20 + r.Intn(100)
		}
	}
	return changes, spikeStarts
}

func TestSyntheticClusteredSpikesAndDrift(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		changes, starts := synth(seed, 60)
		as := drive(t, newF(t, DefaultConfig()), changes, 60*24*60)
		caught := 0
		for _, s := range starts {
			// off spot 10 minutes before the spike began
			if as[s-10].Off && as[s-1].Off {
				caught++
			}
		}
		moves := 0
		for _, a := range as {
			if a.Action == MoveOut || a.Action == MoveBack {
				moves++
			}
		}
		t.Logf("seed %d: caught %d of %d synthetic spikes >= 10 min ahead, %d moves", seed, caught, len(starts), moves)
		// The first spike of each cluster comes without warning; the rest
		// (most of them) should be caught because the forecaster learned that
		// spikes cluster. Moves stay bounded: about two per cluster.
		if frac := float64(caught) / float64(len(starts)); frac < 0.5 {
			t.Errorf("seed %d: caught %d of %d spikes 10 min ahead", seed, caught, len(starts))
		}
		if moves > 4*len(starts) {
			t.Errorf("seed %d: %d moves for %d spikes: thrashing", seed, moves, len(starts))
		}
	}
	// A slow drift that approaches but never crosses: at most one move (near
	// on-demand), never back and forth.
	drift := map[int]float64{}
	for i := 0; i < 30*24*60; i += 60 {
		drift[i] = 0.3 + 0.55*float64(i)/float64(30*24*60) + 0.02*math.Sin(float64(i)/300)
	}
	as := drive(t, newF(t, DefaultConfig()), drift, 30*24*60)
	moves := 0
	for _, a := range as {
		if a.Action == MoveOut || a.Action == MoveBack {
			moves++
		}
	}
	if moves > 1 {
		t.Errorf("slow drift: %d moves, want at most one", moves)
	}
}

func BenchmarkStep(b *testing.B) {
	f, _ := New(DefaultConfig())
	ms := make([]prices.Market, 8)
	for i := range ms {
		ms[i] = prices.Market{InstanceType: []string{"c3", "r3", "m3", "g2"}[i%4] + ".large", Zone: []string{"us-east-1a", "us-east-1b"}[i/4], Product: prices.ProductLinux}
		f.Track(ms[i], 1)
	}
	r := rand.New(rand.NewSource(1))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := t0.Add(time.Duration(i) * time.Minute)
		m := ms[i%len(ms)]
		if i%3 == 0 {
			p := 0.1
			if r.Intn(200) == 0 {
				p = 1.5
			}
			f.Observe(m, now, p)
		}
		f.Confirm(m, now)
		if _, err := f.Step(m, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineReactive is the cheapest possible per-step decision (a
// threshold comparison, as the reactive mover does), the yardstick for the
// forecaster's cost per step.
func BenchmarkBaselineReactive(b *testing.B) {
	h := prices.History{Market: mkt, OnDemand: 1, Points: []prices.Point{{Time: t0, Price: 0.1}}}
	off := false
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p, _ := h.At(t0.Add(time.Duration(i) * time.Minute))
		off = p > h.OnDemand
	}
	_ = off
}
