package replicasim

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/internal/stats"
)

// tuneKnob is one constant chosen by measurement (docs/replicas.md,
// "Experiments"), with its current value first and a few values around it.
type tuneKnob struct {
	name   string
	values []tuneValue
}

type tuneValue struct {
	label string
	set   func(*replicas.Config)
}

// tuneKnobs are the decider's constants that were picked by replaying the
// whole dev traces. Each lists the current default first.
func tuneKnobs() []tuneKnob {
	f := func(name string, labels []string, set func(*replicas.Config, int)) tuneKnob {
		k := tuneKnob{name: name}
		for i, l := range labels {
			k.values = append(k.values, tuneValue{l, func(p *replicas.Config) { set(p, i) }})
		}
		return k
	}
	q := []float64{0.9, 0.85, 0.95}
	risk := []float64{0.01, 0.005, 0.02}
	down := []float64{0.1, 0.05, 0.2}
	up := []float64{0.1, 0.05, 0.2}
	profile := []float64{0.3, 0.2, 0.5}
	level := []float64{0.5, 0.3, 0.7}
	half := []float64{2880, 1440, 5760}
	trail := []time.Duration{15 * time.Minute, 10 * time.Minute, 30 * time.Minute}
	return []tuneKnob{
		f("quantile", []string{"0.9", "0.85", "0.95"}, func(p *replicas.Config, i int) { p.Quantile = q[i] }),
		f("overload-risk", []string{"0.01", "0.005", "0.02"}, func(p *replicas.Config, i int) { p.OverloadRisk = risk[i] }),
		f("scale-down-dead-band", []string{"0.1", "0.05", "0.2"}, func(p *replicas.Config, i int) { p.ScaleDownDeadBand = down[i] }),
		f("scale-up-dead-band", []string{"0.1", "0.05", "0.2"}, func(p *replicas.Config, i int) { p.ScaleUpDeadBand = up[i] }),
		f("profile-alpha", []string{"0.3", "0.2", "0.5"}, func(p *replicas.Config, i int) { p.Forecast.ProfileAlpha = profile[i] }),
		f("level-alpha", []string{"0.5", "0.3", "0.7"}, func(p *replicas.Config, i int) { p.Forecast.LevelAlpha = level[i] }),
		f("error-half-life", []string{"2880", "1440", "5760"}, func(p *replicas.Config, i int) { p.Forecast.ErrorHalfLife = half[i] }),
		f("trail-window", []string{"15m", "10m", "30m"}, func(p *replicas.Config, i int) { p.Forecast.TrailWindow = trail[i] }),
	}
}

// tuneScore is what a value is picked by: the median over the dev traces
// of the saving against the matched HPA on the first half of each
// evaluation window (a null saving is left out of the median, as in the
// summary). The matched HPA overloads no more than trimtab, so the
// saving prices overload and replica-hours together.
func tuneScore(cs []Comparison) float64 {
	var ok []float64
	for _, c := range cs {
		if v := float64(c.ReplicaHoursSavedVsHPAMatched); !math.IsNaN(v) && !math.IsInf(v, 0) {
			ok = append(ok, v)
		}
	}
	m, found := stats.Median(ok)
	if !found {
		return math.Inf(-1)
	}
	return m
}

// tuneRun is one policy replayed on the dev traces: per trace, the
// comparison on each half.
type tuneRun struct {
	first, second []Comparison
}

// TestTuneFirstHalf re-picks each constant of tuneKnobs on the dev
// traces' first halves only: one constant at a time around its current
// value, the others at theirs, by tuneScore. It prints the grid (first
// and second half of each value), the picks, and then the untuned splits
// (held-out, held-out-30m, families) and the dev second half under the
// current constants and under the first-half picks together, side by
// side. The rule (docs/replicas.md): a pick replaces the current value
// only if the untuned figures improve. Set TRIMTAB_EVAL=1 to run it (about
// 25 minutes on two shared cores; TRIMTAB_TUNE_KNOB=<name> sweeps one constant,
// TRIMTAB_TUNE_SKIP_UNTUNED=1 stops after the picks, and
// TRIMTAB_TUNE_PICKS=<name>=<value>,... skips the sweep and compares
// those values with the current ones, e.g. one pick alone).
func TestTuneFirstHalf(t *testing.T) {
	if os.Getenv("TRIMTAB_EVAL") == "" {
		t.Skip("set TRIMTAB_EVAL=1 to run the first-half tuning sweep")
	}
	start := time.Now()
	dev := make([]Trace, len(devTraces))
	memos := make([]*hpaScores, len(devTraces))
	for i, e := range devTraces {
		dev[i], memos[i] = e.load(t), newHPAScores()
	}
	replay := func(set func(*replicas.Config)) tuneRun {
		r := tuneRun{first: make([]Comparison, len(dev)), second: make([]Comparison, len(dev))}
		var wg sync.WaitGroup
		sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
		for i, tr := range dev {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				rep, _, err := Simulate(tr, tuneConfig(tr, set, memos[i], true))
				if err != nil {
					t.Errorf("%s: %v", devTraces[i].name, err)
					return
				}
				r.first[i], r.second[i] = rep.Halves[0], rep.Halves[1]
			}()
		}
		wg.Wait()
		return r
	}
	only := os.Getenv("TRIMTAB_TUNE_KNOB")
	current := replay(func(*replicas.Config) {})
	fmt.Printf("%-22s %-6s | %-58s | %s\n", "constant", "value", "dev 1st half (tune): median saved / overload cut / extra / events", "dev 2nd half (report)")
	printTuneRow("current", "", current)
	var picks []tuneValue
	var pickNames []string
	given := map[string]string{} // TRIMTAB_TUNE_PICKS: knob=value, no sweep
	if g := os.Getenv("TRIMTAB_TUNE_PICKS"); g != "" {
		for _, kv := range strings.Split(g, ",") {
			k, v, _ := strings.Cut(kv, "=")
			given[k] = v
		}
	}
	fixed := len(given) > 0
	for _, k := range tuneKnobs() {
		if only != "" && only != k.name {
			continue
		}
		if fixed {
			label, ok := given[k.name]
			if !ok {
				continue
			}
			delete(given, k.name)
			i := slices.IndexFunc(k.values, func(v tuneValue) bool { return v.label == label })
			if i < 0 {
				t.Fatalf("TRIMTAB_TUNE_PICKS: %s=%s: not a value of the grid", k.name, label)
			}
			picks = append(picks, k.values[i])
			pickNames = append(pickNames, k.name+"="+label)
			continue
		}
		best, bestScore := 0, tuneScore(current.first)
		for i, v := range k.values[1:] {
			r := replay(v.set)
			printTuneRow(k.name, v.label, r)
			if s := tuneScore(r.first); s > bestScore {
				best, bestScore = i+1, s
			}
		}
		fmt.Printf("%-22s pick %s (current %s)\n", k.name, k.values[best].label, k.values[0].label)
		if best != 0 {
			picks = append(picks, k.values[best])
			pickNames = append(pickNames, k.name+"="+k.values[best].label)
		}
	}
	for k := range given {
		t.Fatalf("TRIMTAB_TUNE_PICKS: no constant %q in the grid", k)
	}
	fmt.Printf("first-half picks that differ from the current constants: %s (%.0f s)\n", strings.Join(pickNames, ", "), time.Since(start).Seconds())
	if len(picks) == 0 || os.Getenv("TRIMTAB_TUNE_SKIP_UNTUNED") != "" {
		return
	}
	setPicks := func(p *replicas.Config) {
		for _, v := range picks {
			v.set(p)
		}
	}
	picked := replay(setPicks)
	fmt.Printf("\n%-24s | %-14s | %-34s | %s\n", "figure", "split", "current constants: median (traces)", "first-half picks: median (traces)")
	rows := map[string][2][]Comparison{"dev-2nd-half": {current.second, picked.second}, "dev-1st-half": {current.first, picked.first}}
	for _, sp := range evalSplits[:3] {
		var cur, pk []Comparison
		for _, e := range sp.traces {
			tr := e.load(t)
			memo := newHPAScores()
			for j, set := range []func(*replicas.Config){func(*replicas.Config) {}, setPicks} {
				rep, _, err := Simulate(tr, tuneConfig(tr, set, memo, false))
				if err != nil {
					t.Fatalf("%s: %v", e.name, err)
				}
				if j == 0 {
					cur = append(cur, rep.Comparison)
				} else {
					pk = append(pk, rep.Comparison)
				}
			}
		}
		rows[sp.split] = [2][]Comparison{cur, pk}
	}
	fmt.Print(tuneSideBySide(rows, []string{"held-out", "held-out-30m", "families", "dev-2nd-half", "dev-1st-half"}))
	fmt.Printf("(%.0f s)\n", time.Since(start).Seconds())
}

// tuneConfig is the replay configuration of TestEvaluate's default with
// set applied to the policy.
func tuneConfig(tr Trace, set func(*replicas.Config), memo *hpaScores, split bool) Config {
	c := Defaults(tr, Config{StartupDelay: 90 * time.Second, MetricsDelay: time.Minute})
	p, err := c.TrimtabConfig()
	if err != nil {
		panic(err) // the shared defaults are valid
	}
	set(&p)
	c.Policy, c.hpaMemo, c.TimeSplit = &p, memo, split
	return c
}

func printTuneRow(name, label string, r tuneRun) {
	fmt.Printf("%-22s %-6s | %-58s | %s\n", name, label, tuneMedians(r.first), tuneMedians(r.second))
}

// tuneMedians prints the medians of the four figures over cs.
func tuneMedians(cs []Comparison) string {
	med := func(get func(Comparison) Float) Float {
		var ok []float64
		for _, c := range cs {
			if v := float64(get(c)); !math.IsNaN(v) && !math.IsInf(v, 0) {
				ok = append(ok, v)
			}
		}
		m, found := stats.Median(ok)
		if !found {
			return Float(math.NaN())
		}
		return Float(m)
	}
	return fmt.Sprintf("%6s %6s %7s %6s",
		percent(med(func(c Comparison) Float { return c.ReplicaHoursSavedVsHPAMatched })),
		percent(med(func(c Comparison) Float { return c.OverloadReductionVsHPA })),
		percent(med(func(c Comparison) Float { return c.ReplicaHoursExtraVsHPA })),
		times(med(func(c Comparison) Float { return c.ScaleEventsRatioVsHPA })))
}

// tuneSideBySide prints, per figure and split, the median and per-trace
// values under the current constants and under the picks.
func tuneSideBySide(rows map[string][2][]Comparison, order []string) string {
	figures := []struct {
		name string
		get  func(Comparison) Float
		fmt  func(Float) string
	}{
		{"saved vs hpa-matched", func(c Comparison) Float { return c.ReplicaHoursSavedVsHPAMatched }, percent},
		{"overload cut vs hpa", func(c Comparison) Float { return c.OverloadReductionVsHPA }, percent},
		{"extra replica-h vs hpa", func(c Comparison) Float { return c.ReplicaHoursExtraVsHPA }, percent},
		{"scale events vs hpa", func(c Comparison) Float { return c.ScaleEventsRatioVsHPA }, times},
	}
	col := func(cs []Comparison, get func(Comparison) Float, f func(Float) string) string {
		var vals []string
		var ok []float64
		for _, c := range cs {
			v := get(c)
			vals = append(vals, f(v))
			if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
				ok = append(ok, float64(v))
			}
		}
		med := Float(math.NaN())
		if m, found := stats.Median(ok); found {
			med = Float(m)
		}
		return f(med) + " (" + strings.Join(vals, " ") + ")"
	}
	var b strings.Builder
	for _, f := range figures {
		for _, sp := range order {
			r, ok := rows[sp]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "%-24s | %-14s | %-34s | %s\n", f.name, sp, col(r[0], f.get, f.fmt), col(r[1], f.get, f.fmt))
		}
	}
	return b.String()
}
