package pricesim

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/internal/shareddata"
	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/prices/file"
)

// spotKnob is one constant of spot.DefaultConfig chosen by measurement
// (docs/prices.md, "Experiments"): its current value first.
type spotKnob struct {
	name   string
	labels []string
	set    func(c *spot.Config, i int)
}

func spotKnobs() []spotKnob {
	return []spotKnob{
		{"POut", []string{"0.15", "0.1", "0.2"}, func(c *spot.Config, i int) { c.POut = []float64{0.15, 0.1, 0.2}[i] }},
		{"CalmFor", []string{"6h", "1h", "12h"}, func(c *spot.Config, i int) { c.CalmFor = []time.Duration{6 * time.Hour, time.Hour, 12 * time.Hour}[i] }},
		{"PBack", []string{"0.02", "0.01", "0.05"}, func(c *spot.Config, i int) { c.PBack = []float64{0.02, 0.01, 0.05}[i] }},
		{"Horizon", []string{"15m", "5m", "30m"}, func(c *spot.Config, i int) {
			c.Horizon = []time.Duration{15 * time.Minute, 5 * time.Minute, 30 * time.Minute}[i]
		}},
	}
}

// half is trimtab's and always-spot's totals over some markets and time.
type half struct {
	cost, spotCost, caught, spikes float64
	falseMoves                     int
}

func (h half) inTime() float64 { return h.caught / h.spikes }

func (h half) String() string {
	return fmt.Sprintf("$%6.0f (%+5.1f%% vs always-spot $%6.0f) caught %5.1f%% of %3.0f, %3d false moves",
		h.cost, 100*(h.cost/h.spotCost-1), h.spotCost, 100*h.inTime(), h.spikes, h.falseMoves)
}

// better is TestEvaluateMarkets's rule: catching ≥ 80% of spikes ≥ 10 min
// ahead before not, then the cheaper (or, below 80%, the one catching more).
func (h half) better(b half) bool {
	if a, o := h.inTime() >= 0.8, b.inTime() >= 0.8; a != o {
		return a
	} else if a {
		return h.cost < b.cost
	}
	return h.inTime() > b.inTime()
}

func totals(r *Result, in func(prices.Market) bool) half {
	var h half
	for _, mr := range r.Markets {
		if !in(mr.Market) {
			continue
		}
		t, s := mr.Strategies[Trimtab], mr.Strategies[AlwaysSpot]
		h.cost, h.spotCost = h.cost+t.Cost, h.spotCost+s.Cost
		h.caught, h.spikes = h.caught+float64(*t.SpikesCaughtInTime), h.spikes+float64(t.Spikes)
		h.falseMoves += t.FalseMoves
	}
	return h
}

func minus(a, b half) half {
	return half{a.cost - b.cost, a.spotCost - b.spotCost, a.caught - b.caught, a.spikes - b.spikes, a.falseMoves - b.falseMoves}
}

// firstHalf cuts every history at mid.
func firstHalf(hs []prices.History, mid time.Time) []prices.History {
	out := make([]prices.History, len(hs))
	for i, h := range hs {
		out[i] = h
		out[i].Points = nil
		for _, p := range h.Points {
			if p.Time.Before(mid) {
				out[i].Points = append(out[i].Points, p)
			}
		}
	}
	return out
}

// TestTuneFirstHalf re-picks the forecaster's tuned constants on the first
// half (in time) of the five 2015 markets only, one constant at a time
// around its current value, by TestEvaluateMarkets's rule (the cheapest
// catching ≥ 80% of spikes ≥ 10 min ahead). The first half is a replay of
// the histories cut at the midpoint; the replay is causal, so the second
// half is the whole replay minus it (a spike or move straddling the cut
// may be counted on either side). It prints the grid, the picks, and the
// second half per market under the current constants and the picks
// together, and the 2020 eu-west-3a markets (never tuned on, no spikes:
// moves and cost against always-spot). Set TRIMTAB_EVAL=1 to run it (a
// few minutes).
func TestTuneFirstHalf(t *testing.T) {
	if os.Getenv("TRIMTAB_EVAL") == "" {
		t.Skip("set TRIMTAB_EVAL=1 to run the spot tuning sweep")
	}
	hs, err := file.ReadFiles(shareddata.Glob(t, "prices", "aws-spot-2015-us-east-1a-*.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var start, end time.Time
	for _, h := range hs {
		if f := h.Points[0].Time; start.IsZero() || f.Before(start) {
			start = f
		}
		if l := h.Points[len(h.Points)-1].Time; l.After(end) {
			end = l
		}
	}
	mid := start.Add(end.Sub(start) / 2)
	firsts := firstHalf(hs, mid)
	all := func(prices.Market) bool { return true }
	replay := func(fc spot.Config) (first, second half, whole *Result) {
		cfg := evalConfig(knob{fc.POut, fc.CalmFor})
		cfg.Forecast = fc
		f, err := Run(firsts, cfg)
		if err != nil {
			t.Fatal(err)
		}
		w, err := Run(hs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		first = totals(f, all)
		return first, minus(totals(w, all), first), w
	}
	fmt.Printf("first half: %s to %s; second half to %s\n", start.Format(time.DateOnly), mid.Format(time.DateOnly), end.Format(time.DateOnly))
	curFirst, curSecond, curWhole := replay(spot.DefaultConfig())
	fmt.Printf("%-8s %-5s | 1st half (tune): %s | 2nd half (report): %s\n", "current", "", curFirst, curSecond)
	picked := spot.DefaultConfig()
	var picks []string
	for _, k := range spotKnobs() {
		best, bestFirst := 0, curFirst
		for v := 1; v < len(k.labels); v++ {
			fc := spot.DefaultConfig()
			k.set(&fc, v)
			if err := fc.Validate(); err != nil {
				t.Fatalf("%s=%s: %v", k.name, k.labels[v], err)
			}
			first, second, _ := replay(fc)
			fmt.Printf("%-8s %-5s | 1st half (tune): %s | 2nd half (report): %s\n", k.name, k.labels[v], first, second)
			if first.better(bestFirst) {
				best, bestFirst = v, first
			}
		}
		fmt.Printf("%-8s pick %s (current %s)\n", k.name, k.labels[best], k.labels[0])
		if best != 0 {
			k.set(&picked, best)
			picks = append(picks, k.name+"="+k.labels[best])
		}
	}
	fmt.Printf("first-half picks that differ from the current constants: %s\n", strings.Join(picks, ", "))
	if len(picks) == 0 {
		return
	}
	if err := picked.Validate(); err != nil {
		t.Fatalf("the picks together: %v", err)
	}
	pkFirst, pkSecond, pkWhole := replay(picked)
	curF, pkF := mustRun(t, firsts, spot.DefaultConfig()), mustRun(t, firsts, picked)
	fmt.Printf("\n%-22s | %-80s | %s\n", "2nd half", "current constants", "first-half picks")
	for _, mr := range curWhole.Markets {
		one := func(m prices.Market) bool { return m == mr.Market }
		cur := minus(totals(curWhole, one), totals(curF, one))
		pk := minus(totals(pkWhole, one), totals(pkF, one))
		fmt.Printf("%-22s | %-80s | %s\n", marketName(mr.Market), cur, pk)
	}
	fmt.Printf("%-22s | %-80s | %s\n", "all five", curSecond, pkSecond)
	fmt.Printf("%-22s | %-80s | %s\n", "(1st half, tuned)", curFirst, pkFirst)

	// The 2020 markets: no spikes, so moves and cost are what can differ.
	h20, err := file.ReadFiles(shareddata.Glob(t, "prices", "aws-spot-eu-west-3a-2020.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Linux markets, with the shipped on-demand table, as the CLI reads them.
	var linux []prices.History
	for _, h := range h20 {
		if h.Market.Product != prices.NormalizeProduct(prices.ProductLinux) {
			continue
		}
		if h.OnDemand == 0 {
			h.OnDemand, _ = prices.DefaultOnDemand.Lookup(h.Market)
		}
		linux = append(linux, h)
	}
	h20 = linux
	for _, c := range []struct {
		name string
		fc   spot.Config
	}{{"current", spot.DefaultConfig()}, {"picks", picked}} {
		r := mustRun(t, h20, c.fc)
		tt, sp := r.Strategies[Trimtab], r.Strategies[AlwaysSpot]
		fmt.Printf("2020 eu-west-3a, %-7s: %d moves in %d markets, cost %+.2f%% vs always-spot\n", c.name, tt.Moves, len(h20), 100*(tt.Cost/sp.Cost-1))
	}
}

func mustRun(t *testing.T, hs []prices.History, fc spot.Config) *Result {
	cfg := evalConfig(knob{fc.POut, fc.CalmFor})
	cfg.Forecast = fc
	r, err := Run(hs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
