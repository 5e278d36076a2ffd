package requestsim

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/internal/shareddata"
)

// devVMs are the VMs every constant of the requests decider was tuned on
// (three months each); the eight other VMs of ../shared/data/usage were
// added to check that it generalises and are the held-out split, printed
// first. Do not tune on them.
var devVMs = []string{"vm1", "vm198", "vm306", "vm386"}

// vmSplit is the split of a usage file: "dev" or "held-out".
func vmSplit(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), ".csv")
	for _, vm := range devVMs {
		if strings.HasSuffix(base, "-"+vm) {
			return "dev"
		}
	}
	return "held-out"
}

// TestEvaluate replays every recorded VM, the held-out split first, under trimtab's configuration and
// the variants named in TRIMTAB_EVAL_VARIANTS (comma-separated, or "all"),
// without a leak and with 40 MiB/h and 10 MiB/h leaks (each from four
// start times, leakStarts), and prints one line
// per variant: the mean cut of memory and CPU slack against VPA, OOM and
// CPU over-request minutes, request changes and leaks caught. Beside the
// memory cut it prints two clairvoyant bounds: the best cut of a request
// held to VPA's change count (budgetedOracle), and the mean ratio to the
// per-day oracle of a request fixed for the whole scored period at its
// peak (knows the month's maximum, never changes, never OOMs). Set
// TRIMTAB_EVAL=1 to run it (about five seconds per variant).
func TestEvaluate(t *testing.T) {
	if os.Getenv("TRIMTAB_EVAL") == "" {
		t.Skip("set TRIMTAB_EVAL=1 to replay every VM")
	}
	files := shareddata.Glob(t, "usage", "*.csv")
	traces := make([]Trace, len(files))
	for i, f := range files {
		traces[i] = parseFile(t, f)
	}
	want := os.Getenv("TRIMTAB_EVAL_VARIANTS")
	for _, v := range requestVariants() {
		if v.name != "default" && want != "all" && !strings.Contains(","+want+",", ","+v.name+",") {
			continue
		}
		cfg := requests.DefaultConfig()
		v.set(&cfg)
		for _, split := range []string{"held-out", "dev"} {
			var memCut, cpuCut, memX, cpuX, memBound, constX float64
			var oom, vOOM, over, vOver float64
			var changes, vChanges, alarms int
			caught := map[float64][2]int{}
			leakOOM := map[float64][2]float64{} // trimtab, VPA
			leakChanges := map[float64][2]int{} // trimtab, VPA
			n := 0
			for i, tr := range traces {
				if vmSplit(files[i]) != split {
					continue
				}
				n++
				runs := []Options{{}}
				for _, rate := range []float64{40 * requests.MiB, 10 * requests.MiB} {
					for _, at := range leakStarts(tr) {
						runs = append(runs, Options{LeakRate: rate, LeakStart: at})
					}
				}
				for _, opt := range runs {
					opt.Trimtab = &cfg
					rate := opt.LeakRate
					r, err := Run(tr, opt)
					if err != nil {
						t.Fatal(err)
					}
					tt, vp, o := r.Strategies[Trimtab], r.Strategies[VPA], r.Strategies[Oracle]
					if rate > 0 {
						c := caught[rate]
						tallyCatch(&c, tt, opt, filepath.Base(files[i]))
						caught[rate] = c
						lo, lc := leakOOM[rate], leakChanges[rate]
						lo[0], lo[1] = lo[0]+*tt.LeakOOMMinutes, lo[1]+*vp.LeakOOMMinutes
						lc[0], lc[1] = lc[0]+tt.RequestChanges, lc[1]+vp.RequestChanges
						leakOOM[rate], leakChanges[rate] = lo, lc
						continue
					}
					memCut += 1 - tt.MemSlackMean/vp.MemSlackMean
					bound := budgetedOracle(r.Series, vp.RequestChanges)
					memBound += 1 - bound/vp.MemSlackMean
					constX += budgetedOracle(r.Series, 0) / o.MemSlackMean
					cpuCut += 1 - tt.CPUSlackMean/vp.CPUSlackMean
					memX += tt.MemSlackMean / o.MemSlackMean
					cpuX += tt.CPUSlackMean / o.CPUSlackMean
					oom, vOOM = oom+tt.OOMMinutes, vOOM+vp.OOMMinutes
					over, vOver = over+tt.CPUOverRequestMinutes, vOver+vp.CPUOverRequestMinutes
					changes, vChanges = changes+tt.RequestChanges, vChanges+vp.RequestChanges
					alarms += tt.LeakRaises
					if os.Getenv("TRIMTAB_EVAL_PER_VM") != "" {
						fmt.Printf("  %-34s budgeted oracle %.3f (max cut %.0f%%) mem slack %.3f/%.3f/%.3f cpu slack %.3f/%.3f/%.3f cpu>req %.0f/%.0f changes %d/%d OOM %.0f/%.0f alarms %d\n", filepath.Base(files[i]), bound, 100*(1-bound/vp.MemSlackMean),
							tt.MemSlackMean, vp.MemSlackMean, o.MemSlackMean, tt.CPUSlackMean, vp.CPUSlackMean, o.CPUSlackMean,
							tt.CPUOverRequestMinutes, vp.CPUOverRequestMinutes, tt.RequestChanges, vp.RequestChanges, tt.OOMMinutes, vp.OOMMinutes, tt.LeakRaises)
					}
				}
			}
			fmt.Printf("%-8s %-16s mem cut %5.1f%% (bound %4.1f%%, x oracle %.2f, constant bound %.2f)  cpu cut %5.1f%% (x oracle %.2f)  OOM min %.0f/%.0f  cpu>req min %.0f/%.0f  changes %d/%d  false alarms %d  leaks caught 40MiB/h %d/%d 10MiB/h %d/%d\n",
				split, v.name, 100*memCut/float64(n), 100*memBound/float64(n), memX/float64(n), constX/float64(n), 100*cpuCut/float64(n), cpuX/float64(n), oom, vOOM, over, vOver, changes, vChanges, alarms,
				caught[40*requests.MiB][0], caught[40*requests.MiB][1], caught[10*requests.MiB][0], caught[10*requests.MiB][1])
			for _, rate := range []float64{40 * requests.MiB, 10 * requests.MiB} {
				fmt.Printf("  with %2.0f MiB/h leaks: leak OOM min %.0f/%.0f, changes %d/%d\n", rate/requests.MiB,
					leakOOM[rate][0], leakOOM[rate][1], leakChanges[rate][0], leakChanges[rate][1])
			}
		}
		evaluateSyntheticLeaks(t, cfg)
	}
}

// evaluateSyntheticLeaks injects 40 and 10 MiB/h leaks from every
// leakStarts time into the four synthetic containers of
// TestSyntheticTraces (starts fall at four hours of their daily cycle)
// and prints the leaks caught, trimtab's and VPA's OOM minutes after the
// leak began, and leak raises without a leak.
func evaluateSyntheticLeaks(t *testing.T, cfg requests.Config) {
	var catches [2]int // caught, leaks that reached the request
	alarms := 0
	var oom, vOOM float64
	for i, c := range syntheticContainers {
		tr := synthetic(uint64(i), 28, c.base, c.amp)
		r, err := Run(tr, Options{Trimtab: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		alarms += r.Strategies[Trimtab].LeakRaises
		for _, rate := range []float64{40 * requests.MiB, 10 * requests.MiB} {
			for _, at := range leakStarts(tr) {
				r, err := Run(tr, Options{Trimtab: &cfg, LeakRate: rate, LeakStart: at})
				if err != nil {
					t.Fatal(err)
				}
				tt := r.Strategies[Trimtab]
				oom, vOOM = oom+*tt.LeakOOMMinutes, vOOM+*r.Strategies[VPA].LeakOOMMinutes
				tallyCatch(&catches, tt, Options{LeakRate: rate, LeakStart: at}, fmt.Sprintf("synthetic %d", i))
			}
		}
	}
	fmt.Printf("  synthetic: leaks caught %d/%d, leak OOM min %.0f/%.0f, false alarms %d\n", catches[0], catches[1], oom, vOOM, alarms)
}

// tallyCatch counts one injected leak into c (caught, leaks that reached
// the request) and, with TRIMTAB_EVAL_PER_VM set, names a miss. A leak
// that never reaches the request causes no OOM to catch (LeakCaught null).
func tallyCatch(c *[2]int, m *Metrics, opt Options, trace string) {
	if m.LeakCaught == nil {
		return
	}
	c[1]++
	if *m.LeakCaught {
		c[0]++
	} else if os.Getenv("TRIMTAB_EVAL_PER_VM") != "" {
		fmt.Printf("  missed %.0f MiB/h leak from %s on %s\n", opt.LeakRate/requests.MiB, opt.LeakStart.Format("01-02 15:04"), trace)
	}
}

// leakStarts are where TestEvaluate injects leaks: a quarter, half and
// three quarters into the scored period (Run's default is the half) and
// the middle of the whole trace, so that a leak caught is not an accident
// of one start hour.
func leakStarts(tr Trace) []time.Time {
	s0, s1 := tr.Samples[0].Time, tr.Samples[len(tr.Samples)-1].Time
	scored := s0.Add(defaultWarmup(s0, s1))
	return []time.Time{
		scored.Add(s1.Sub(scored) / 4), scored.Add(s1.Sub(scored) / 2), scored.Add(s1.Sub(scored) * 3 / 4),
		s0.Add(s1.Sub(s0) / 2),
	}
}

type requestVariant struct {
	name string
	set  func(*requests.Config)
}

// requestVariants are the alternatives compared in docs/requests.md. Each
// changes the current DefaultConfig; the doc's rows were measured against
// the defaults of their day (it says which), so rerunning an older row on
// today's defaults gives a different line.
func requestVariants() []requestVariant {
	return []requestVariant{
		{"default", func(*requests.Config) {}},
		{"cpu-p95+5", func(c *requests.Config) { c.CPUTarget, c.CPUMargin = 0.95, 0.05 }},
		{"cpu-p96+5", func(c *requests.Config) { c.CPUTarget, c.CPUMargin = 0.96, 0.05 }},
		{"cpu-p95+5-u99", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper = 0.95, 0.05, 0.99 }},
		{"cpu-p96+5-u99", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper = 0.96, 0.05, 0.99 }},
		{"cpu-p97+5-u99", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper = 0.97, 0.05, 0.99 }},
		{"cpu-p95+10-u99", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper = 0.95, 0.10, 0.99 }},
		{"cpu-p98+0-u995", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper = 0.98, 0, 0.995 }},
		{"cpu-p99+0-u100", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper = 0.99, 0, 1 }},
		{"cpu-p99-low15", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper, c.CPULowerFraction = 0.99, 0, 1, 0.15 }},
		{"cpu-p99-low20", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper, c.CPULowerFraction = 0.99, 0, 1, 0.2 }},
		{"cpu-p99-low40", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper, c.CPULowerFraction = 0.99, 0, 1, 0.4 }},
		{"cpu-p99-low30", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper, c.CPULowerFraction = 0.99, 0, 1, 0.3 }},
		{"cpu-p99-chg15", func(c *requests.Config) {
			c.CPUTarget, c.CPUMargin, c.CPUUpper, c.ChangeFraction, c.CPULowerFraction = 0.99, 0, 1, 0.15, 0.15
		}},
		{"cpucal-995", func(c *requests.Config) { c.CPUCalibration, c.CPUWithinBucket = 0.995, true }},
		{"cpucal-99-p98", func(c *requests.Config) { c.CPUCalibration, c.CPUWithinBucket, c.CPUTarget = 0.99, true, 0.98 }},
		{"cpucal-995-p98", func(c *requests.Config) { c.CPUCalibration, c.CPUWithinBucket, c.CPUTarget = 0.995, true, 0.98 }},
		{"cpucal-985", func(c *requests.Config) { c.CPUCalibration, c.CPUWithinBucket = 0.985, true }},
		{"cpucal-99-p995", func(c *requests.Config) { c.CPUCalibration, c.CPUWithinBucket, c.CPUTarget = 0.99, true, 0.995 }},
		{"cpucal-99-low45", func(c *requests.Config) { c.CPUCalibration, c.CPUWithinBucket, c.CPULowerFraction = 0.99, true, 0.45 }},
		{"cpucal-99-end", func(c *requests.Config) { c.CPUCalibration = 0.99 }},
		{"leak-remember0", func(c *requests.Config) { c.Leak.Remember = 0 }},
		{"leak-remember1d", func(c *requests.Config) { c.Leak.Remember = 24 * time.Hour }},
		{"leak-remember7d", func(c *requests.Config) { c.Leak.Remember = 7 * 24 * time.Hour }},
		{"leak-long0", func(c *requests.Config) { c.Leak.LongLookback = 0 }},
		{"leak-long18", func(c *requests.Config) { c.Leak.LongLookback = 18 }},
		{"leak-long24", func(c *requests.Config) { c.Leak.LongLookback = 24 }},
		{"leak-long36", func(c *requests.Config) { c.Leak.LongLookback = 36 }},
		{"leak-long48", func(c *requests.Config) { c.Leak.LongLookback = 48 }},
		{"no-envelope", func(c *requests.Config) { c.WeeklyAhead = 0 }},
		{"calib-p99", func(c *requests.Config) { c.CalibrationQuantile = 0.99 }},
		{"mem-p98", func(c *requests.Config) { c.MemoryTarget = 0.98 }},
		{"mem-lower10", func(c *requests.Config) { c.LowerFraction = 0.1 }},
		{"mem-margin3", func(c *requests.Config) { c.MemoryMargin = 0.03 }},
		{"halflife12h", func(c *requests.Config) { c.HalfLife = 12 * time.Hour }},
		{"cpu-p99-lower25", func(c *requests.Config) { c.CPUTarget, c.CPUMargin, c.CPUUpper, c.CPULower = 0.99, 0, 1, 0.25 }},
	}
}

// budgetedOracle is the least mean memory slack of a clairvoyant request
// that is never under usage and changes only at UTC day boundaries, at most
// changes times (VPA's count): the bound for any method held to VPA's
// change budget, where the per-day oracle changes daily.
func budgetedOracle(s Series, changes int) float64 {
	var days [][]float64
	key := ""
	for i, t := range s.Times {
		if k := t.UTC().Format("2006-01-02"); k != key {
			days, key = append(days, nil), k
		}
		days[len(days)-1] = append(days[len(days)-1], s.Usage[i].Memory)
	}
	n := len(days)
	if n == 0 {
		return math.NaN()
	}
	// cost[i][j]: summed slack of days i..j under one request at their peak.
	cost := make([][]float64, n)
	total := 0
	for i := range days {
		total += len(days[i])
		cost[i] = make([]float64, n)
		peak := 0.0
		for j := i; j < n; j++ {
			for _, u := range days[j] {
				peak = math.Max(peak, u)
			}
			var c float64
			for k := i; k <= j; k++ {
				for _, u := range days[k] {
					c += (peak - u) / peak
				}
			}
			cost[i][j] = c
		}
	}
	dp := append([]float64(nil), cost[0]...) // one segment ending at day j
	best := dp[n-1]
	for seg := 2; seg <= min(changes+1, n); seg++ {
		next := make([]float64, n)
		for j := range next {
			next[j] = math.Inf(1)
			for i := 1; i <= j; i++ {
				next[j] = math.Min(next[j], dp[i-1]+cost[i][j])
			}
		}
		dp, best = next, math.Min(best, next[n-1])
	}
	return best / float64(total)
}
