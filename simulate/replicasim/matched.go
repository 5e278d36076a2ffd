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
// are at most want, scored on syncs [from, n).
func matchHPA(tr Trace, cfg Config, pct int32, want float64, base run, baseScore Score, from, n int) (matchOutcome, error) {
	out, err := matchHPAWindows(tr, cfg, pct, base, []matchWindow{{from: from, to: n, want: want, base: baseScore}})
	if err != nil {
		return matchOutcome{}, err
	}
	return out[0], nil
}

// matchWindow is one scoring window of a search: syncs [from, to),
// trimtab's overload minutes there (want) and the shared target's score
// there (base).
type matchWindow struct {
	from, to int
	want     float64
	base     Score
}

// matchHPAWindows runs the search for several scoring windows of the same
// replay at once (the evaluation's time split): each target is replayed
// once and scored on every window still searching. Runs are independent,
// so each round runs as many targets as the machine has cores.
func matchHPAWindows(tr Trace, cfg Config, pct int32, base run, ws []matchWindow) ([]matchOutcome, error) {
	outs := make([]matchOutcome, len(ws))
	type fewest struct {
		pct   int32
		score Score
		run   run
	}
	few := make([]fewest, len(ws))
	searching := 0
	for i, w := range ws {
		outs[i].grid = map[int32]float64{pct: w.base.OverloadMinutes}
		few[i] = fewest{pct, w.base, base}
		if w.base.OverloadMinutes <= w.want {
			outs[i].run, outs[i].score, outs[i].ok = base, w.base, true
			continue
		}
		searching++
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
	workers := int32(max(runtime.GOMAXPROCS(0), 1))
	for hi := pct - 1; hi >= 1 && searching > 0; hi -= workers {
		lo := max(hi-workers+1, 1)
		runs := make([]run, hi-lo+1)
		errs := make([]error, hi-lo+1)
		var wg sync.WaitGroup
		var open []matchWindow // the windows still searching
		for j, w := range ws {
			if !outs[j].ok {
				open = append(open, w)
			}
		}
		for p := lo; p <= hi; p++ {
			if cfg.hpaMemo.has(p, open) {
				continue
			}
			wg.Add(1)
			go func(i int, p int32) {
				defer wg.Done()
				runs[i], errs[i] = runHPA(tr, cfg, p)
			}(int(hi-p), p)
		}
		wg.Wait()
		for i := range runs { // highest target first
			p := hi - int32(i)
			if errs[i] != nil {
				return nil, fmt.Errorf("the HPA at a %d%% target: %w", p, errs[i])
			}
			for j, w := range ws {
				if outs[j].ok {
					continue
				}
				s, memo := cfg.hpaMemo.get(p, w)
				if !memo {
					s = score(tr, cfg, runs[i], w.from, w.to, float64(p)/100)
					cfg.hpaMemo.put(p, w, s)
				}
				outs[j].grid[p] = s.OverloadMinutes
				if s.OverloadMinutes <= w.want {
					outs[j].run, outs[j].score, outs[j].ok = runs[i], s, true
					searching--
					continue
				}
				if s.OverloadMinutes < few[j].score.OverloadMinutes {
					few[j] = fewest{p, s, runs[i]}
				}
			}
		}
	}
	for j, w := range ws {
		if outs[j].ok {
			continue
		}
		outs[j].run, outs[j].score = few[j].run, few[j].score
		outs[j].reason = fmt.Sprintf("no HPA target from 1%% to %d%% overloads %s min or less (trimtab's); the fewest is %s min, at %d%%",
			pct, minutes(w.want), minutes(few[j].score.OverloadMinutes), few[j].pct)
	}
	return outs, nil
}

// minutes prints a minute count without a spurious fraction.
func minutes(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// hpaScores memoizes the HPA's score at each target and scoring window
// across replays of one trace that differ only in trimtab's policy (the
// first-half tuning sweep, eval_test.go): the HPA's runs do not depend on
// it, and the matched search is most of a replay's time. A memoized
// search keeps scores, not runs, so the hpa-matched steps of such a
// replay are empty. Nil: no memo.
type hpaScores struct {
	mu sync.Mutex
	m  map[hpaKey]Score
}

type hpaKey struct {
	pct      int32
	from, to int
}

func newHPAScores() *hpaScores { return &hpaScores{m: map[hpaKey]Score{}} }

// has reports whether every window of ws is memoized at target p.
func (h *hpaScores) has(p int32, ws []matchWindow) bool {
	if h == nil {
		return false
	}
	for _, w := range ws {
		if _, ok := h.get(p, w); !ok {
			return false
		}
	}
	return true
}

func (h *hpaScores) get(p int32, w matchWindow) (Score, bool) {
	if h == nil {
		return Score{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.m[hpaKey{p, w.from, w.to}]
	return s, ok
}

func (h *hpaScores) put(p int32, w matchWindow, s Score) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m[hpaKey{p, w.from, w.to}] = s
}
