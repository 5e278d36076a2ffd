package replicasim

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// surgeTrace is two days of flat load (3% noise) with a 40× surge from
// 09:00 to 10:00 each day. No target serves the surge's first minutes, and
// below ~10% upstream's whole-percent utilization reads the quiet hours'
// dips as a drop and scales the fleet down before it: overload minutes
// are not monotone in the target (3.25 at 38-39%, 5.25 from 37% down to
// 20%, 2 at 2% and 1%).
func surgeTrace() Trace {
	rng := rand.New(rand.NewPCG(9, 9))
	tr := Trace{Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Step: time.Minute, Values: make([]float64, 2*1440)}
	for i := range tr.Values {
		v := 100.0
		if (i%1440)/60 == 9 {
			v *= 40
		}
		tr.Values[i] = v * (1 + 0.03*rng.NormFloat64())
	}
	return tr
}

// bisect is the search hpa-matched used to run: a binary search for the
// highest target whose overload is at most want, assuming overload falls
// as the target falls, over a grid of overload minutes by percent; ok
// false and the lowest target tried when it found none.
func bisect(grid map[int32]float64, pct int32, want float64) (int32, bool) {
	if grid[pct] <= want {
		return pct, true
	}
	best, ok := pct, false
	lo, hi := int32(1), pct-1
	for lo <= hi {
		mid := (lo + hi) / 2
		if grid[mid] <= want {
			best, ok, lo = mid, true, mid+1
		} else {
			hi = mid - 1
			if !ok {
				best = mid
			}
		}
	}
	return best, ok
}

// TestHPAMatchedSearchesTheWholeGrid: on a trace whose overload is not
// monotone in the target, the search finds the highest target that
// overloads no more than trimtab where a binary search lands on a far
// costlier one, and when no target qualifies it says so.
func TestHPAMatchedSearchesTheWholeGrid(t *testing.T) {
	tr := surgeTrace()
	cfg := Defaults(tr, Config{StartupDelay: 90 * time.Second, MetricsDelay: time.Minute})
	n, from := cfg.syncs(tr), int(cfg.Warmup/cfg.Sync)
	pct := int32(math.Round(cfg.TargetUtilization * 100))
	base, err := runHPA(tr, cfg, pct)
	if err != nil {
		t.Fatal(err)
	}
	baseScore := score(tr, cfg, base, from, n, cfg.TargetUtilization)

	// Nothing overloads 0 minutes here: the search runs every target and
	// fails, reporting the one with the fewest overload minutes.
	none, err := matchHPA(tr, cfg, pct, 0, base, baseScore, from, n)
	if err != nil {
		t.Fatal(err)
	}
	grid := none.grid
	if len(grid) != int(pct) {
		t.Fatalf("the failed search ran %d targets, want all %d", len(grid), pct)
	}
	fewest := pct
	for p := pct; p >= 1; p-- {
		if grid[p] < grid[fewest] {
			fewest = p
		}
	}
	rising := false // some lower target overloads more than a higher one
	for p := int32(1); p < pct && !rising; p++ {
		rising = grid[p] > grid[p+1]
	}
	if !rising || grid[fewest] == 0 {
		t.Fatalf("the trace no longer exercises the search: overload by target %v", grid)
	}
	if none.ok || !strings.Contains(none.reason, "no HPA target from 1% to 70%") {
		t.Errorf("failed search: ok %v, reason %q", none.ok, none.reason)
	}
	if got := none.score.TargetUtilization; got != float64(fewest)/100 || none.score.OverloadMinutes != grid[fewest] {
		t.Errorf("failed search reports target %.2f (%.2f min), want the fewest overload: %d%% (%.2f min)",
			got, none.score.OverloadMinutes, fewest, grid[fewest])
	}

	// A want the binary search gets wrong: the highest qualifying target
	// lies above a run of lower targets that overload more.
	var want float64
	var expect int32
	values := slices.Sorted(func(yield func(float64) bool) {
		for _, v := range grid {
			if !yield(v) {
				return
			}
		}
	})
	for _, v := range slices.Compact(values) {
		hi := pct
		for grid[hi] > v {
			hi--
		}
		if b, ok := bisect(grid, pct, v); !ok || b != hi {
			want, expect = v, hi
			break
		}
	}
	if expect == 0 {
		t.Fatalf("a binary search finds the right target for every want on this grid %v", grid)
	}
	m, err := matchHPA(tr, cfg, pct, want, base, baseScore, from, n)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bisect(grid, pct, want)
	if !m.ok || m.reason != "" || m.score.TargetUtilization != float64(expect)/100 {
		t.Errorf("want ≤ %.2f overload min: ok %v, target %.2f, reason %q; the highest target that qualifies is %d%% (binary search: %d%%)",
			want, m.ok, m.score.TargetUtilization, m.reason, expect, b)
	}
	t.Logf("overload ≤ %.2f min: the highest target %d%% (binary search: %d%%); overload by target %v", want, expect, b, grid)
}

// TestCompareNullsAFailedMatch: when the search fails, the saving is null
// in the JSON with the reason beside it, and the other ratios stand.
func TestCompareNullsAFailedMatch(t *testing.T) {
	tt := Score{ReplicaHours: 100, OverloadMinutes: 1, ScaleEvents: 10}
	h := Score{ReplicaHours: 80, OverloadMinutes: 10, ScaleEvents: 20}
	for _, tc := range []struct {
		name string
		m    matchOutcome
		want string
	}{
		{"satisfied", matchOutcome{score: Score{ReplicaHours: 200, OverloadMinutes: 1}, ok: true},
			`"replica_hours_saved_vs_hpa_matched":0.5`},
		{"failed", matchOutcome{score: Score{ReplicaHours: 200, OverloadMinutes: 2}, reason: "no HPA target …"},
			`"replica_hours_saved_vs_hpa_matched":null`},
	} {
		b, err := json.Marshal(compare(tt, h, tc.m))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, w := range []string{tc.want, `"replica_hours_extra_vs_hpa":0.25`, `"overload_reduction_vs_hpa":0.9`,
			`"scale_events_ratio_vs_hpa":0.5`, `"hpa_matched_reason":`} {
			if !strings.Contains(s, w) {
				t.Errorf("%s: %s lacks %s", tc.name, s, w)
			}
		}
	}
}
