package replicasim

import (
	"math"
	"testing"
	"time"
)

// TestTimeSplit: with Config.TimeSplit a replay also compares on each half
// of its evaluation window, each half with its own hpa-matched search,
// and the whole-window figures are those of a replay without it. Each
// half's search run together with the others equals a search on that
// half alone.
func TestTimeSplit(t *testing.T) {
	tr := Synth{Seed: 9, Days: 5, Step: 5 * time.Minute, Base: 500, DailyAmp: 0.6, PeakHour: 15, Weekend: 1, Noise: 0.15, Surges: 3}.Trace()
	cfg := Config{StartupDelay: 90 * time.Second, MetricsDelay: time.Minute}
	plain, _, err := Simulate(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TimeSplit = true
	split, _, err := Simulate(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !same(plain.Comparison, split.Comparison) {
		t.Errorf("whole window with the split %+v, without %+v", split.Comparison, plain.Comparison)
	}
	if len(split.Halves) != 2 || len(plain.Halves) != 0 {
		t.Fatalf("%d halves with the split, %d without", len(split.Halves), len(plain.Halves))
	}

	c := Defaults(tr, cfg)
	p, err := c.TrimtabConfig()
	if err != nil {
		t.Fatal(err)
	}
	c.Policy = &p
	tt, err := runTrimtab(tr, c, false)
	if err != nil {
		t.Fatal(err)
	}
	hp, err := runHPA(tr, c, 70)
	if err != nil {
		t.Fatal(err)
	}
	from, n := int(c.Warmup/c.Sync), c.syncs(tr)
	mid := from + (n-from)/2
	for i, h := range [][2]int{{from, mid}, {mid, n}} {
		ts, hs := score(tr, c, tt, h[0], h[1], 0.7), score(tr, c, hp, h[0], h[1], 0.7)
		m, err := matchHPA(tr, c, 70, ts.OverloadMinutes, hp, hs, h[0], h[1])
		if err != nil {
			t.Fatal(err)
		}
		if want := compare(ts, hs, m); !same(want, split.Halves[i]) {
			t.Errorf("half %d: %+v, searched alone %+v", i+1, split.Halves[i], want)
		}
	}
}

func same(a, b Comparison) bool {
	eq := func(x, y Float) bool {
		return x == y || math.IsNaN(float64(x)) && math.IsNaN(float64(y))
	}
	return eq(a.ReplicaHoursSavedVsHPAMatched, b.ReplicaHoursSavedVsHPAMatched) && eq(a.ReplicaHoursExtraVsHPA, b.ReplicaHoursExtraVsHPA) &&
		eq(a.OverloadReductionVsHPA, b.OverloadReductionVsHPA) && eq(a.ScaleEventsRatioVsHPA, b.ScaleEventsRatioVsHPA) &&
		a.HPAMatchedSearchSatisfied == b.HPAMatchedSearchSatisfied && a.HPAMatchedReason == b.HPAMatchedReason
}

// TestHPAMemo: replays sharing an hpaScores memo (the tuning sweep)
// compare exactly as replays without it, whole window and halves, for
// policies whose matched searches stop at different targets.
func TestHPAMemo(t *testing.T) {
	tr := Synth{Seed: 11, Days: 4, Step: 5 * time.Minute, Base: 400, DailyAmp: 0.6, PeakHour: 12, Weekend: 1, Noise: 0.2, Surges: 2}.Trace()
	memo := newHPAScores()
	for _, q := range []float64{0.95, 0.6, 0.9} {
		cfg := Config{StartupDelay: 90 * time.Second, MetricsDelay: time.Minute, Quantile: q, TimeSplit: true}
		plain, _, err := Simulate(tr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.hpaMemo = memo
		memoized, _, err := Simulate(tr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !same(plain.Comparison, memoized.Comparison) {
			t.Errorf("q%g: with the memo %+v, without %+v", q, memoized.Comparison, plain.Comparison)
		}
		for i := range plain.Halves {
			if !same(plain.Halves[i], memoized.Halves[i]) {
				t.Errorf("q%g half %d: with the memo %+v, without %+v", q, i+1, memoized.Halves[i], plain.Halves[i])
			}
		}
	}
	if len(memo.m) == 0 {
		t.Error("the memo holds no score: every search stopped at the shared target, so this test checks nothing")
	}
}
