package replicasim

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// The hpa-matched baseline is the HPA as someone would tune it to overload
// no more than trimtab: the same algorithm at a lower target utilization,
// the highest whole-percent target whose overload minutes are at most
// trimtab's. Overload is not monotone in the target: with upstream's
// whole-percent utilization a target of a few percent reads a small dip as
// 0% and scales to the minimum, so overload climbs again below some target
// (on one trace it bottoms out near 10% and triples at 1%). A binary search
// that assumes it falls as the target falls can step over every target
// that qualifies and end on the lowest it tried. So the search walks the
// grid down from the shared target one percent at a time, to 1% if need
// be; when no target qualifies the comparison says so instead of measuring
// against a baseline that overloads more than trimtab.

// matchOutcome is the hpa-matched search's answer.
type matchOutcome struct {
	run   run
	score Score
	// ok: some target overloads no more than trimtab; run and score are
	// the highest such. Otherwise they are the target with the fewest
	// overload minutes, and reason says so.
	ok     bool
	reason string
	// grid is the overload minutes of every target run, by percent.
	grid map[int32]float64
}

// matchHPA walks targets pct, pct−1, …, 1 (pct is the shared target,
// whose run and score are given) for the highest whose overload minutes
// are at most want. Runs are independent, so each round runs as many
// targets as the machine has cores.
func matchHPA(tr Trace, cfg Config, pct int32, want float64, base run, baseScore Score, from, n int) (matchOutcome, error) {
	out := matchOutcome{grid: map[int32]float64{pct: baseScore.OverloadMinutes}}
	if baseScore.OverloadMinutes <= want {
		out.run, out.score, out.ok = base, baseScore, true
		return out, nil
	}
	// The progress hook is not safe for concurrent use: serialize it.
	var mu sync.Mutex
	if p := cfg.Progress; p != nil {
		cfg.Progress = func(what string, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			p(what, done, total)
		}
	}
	fewest, fewestScore, fewestRun := pct, baseScore, base
	workers := int32(max(runtime.GOMAXPROCS(0), 1))
	for hi := pct - 1; hi >= 1; hi -= workers {
		lo := max(hi-workers+1, 1)
		runs := make([]run, hi-lo+1)
		scores := make([]Score, hi-lo+1)
		errs := make([]error, hi-lo+1)
		var wg sync.WaitGroup
		for p := lo; p <= hi; p++ {
			wg.Add(1)
			go func(i int, p int32) {
				defer wg.Done()
				runs[i], errs[i] = runHPA(tr, cfg, p)
				if errs[i] == nil {
					scores[i] = score(tr, cfg, runs[i], from, n, float64(p)/100)
				}
			}(int(hi-p), p)
		}
		wg.Wait()
		for i := range runs { // highest target first
			p := hi - int32(i)
			if errs[i] != nil {
				return matchOutcome{}, fmt.Errorf("the HPA at a %d%% target: %w", p, errs[i])
			}
			s := scores[i]
			out.grid[p] = s.OverloadMinutes
			if s.OverloadMinutes <= want {
				out.run, out.score, out.ok = runs[i], s, true
				return out, nil
			}
			if s.OverloadMinutes < fewestScore.OverloadMinutes {
				fewest, fewestScore, fewestRun = p, s, runs[i]
			}
		}
	}
	out.run, out.score = fewestRun, fewestScore
	out.reason = fmt.Sprintf("no HPA target from 1%% to %d%% overloads %s min or less (trimtab's); the fewest is %s min, at %d%%",
		pct, minutes(want), minutes(fewestScore.OverloadMinutes), fewest)
	return out, nil
}

// minutes prints a minute count without a spurious fraction.
func minutes(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
