package replicasim

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/internal/shareddata"
)

func loadShared(t testing.TB, name string) Trace {
	f, err := os.Open(filepath.Join(shareddata.Dir(t, "traffic"), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := ParseTrace(f, "", "")
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	return tr
}

// unseen are synthetic traces with shapes no constant was tuned on.
func unseenSynth() map[string]Synth {
	return map[string]Synth{
		"synth-smooth": {Seed: 1, Days: 21, Step: time.Minute, Base: 600, DailyAmp: 0.7, PeakHour: 14, Weekend: 0.6, Noise: 0.03},
		"synth-noisy":  {Seed: 2, Days: 21, Step: time.Minute, Base: 80, DailyAmp: 0.6, PeakHour: 20, Weekend: 1.2, TrendPerDay: 0.01, Noise: 0.12, Surges: 6},
		"synth-5min":   {Seed: 3, Days: 28, Step: 5 * time.Minute, Base: 5000, DailyAmp: 0.8, PeakHour: 9, Weekend: 0.4, Noise: 0.05},
		"synth-growth": {Seed: 4, Days: 21, Step: time.Minute, Base: 300, DailyAmp: 0.5, PeakHour: 18, Weekend: 1, TrendPerDay: 0.04, Noise: 0.06, Surges: 3},
	}
}

func unseen() map[string]Trace {
	out := map[string]Trace{}
	for k, s := range unseenSynth() {
		out[k] = s.Trace()
	}
	return out
}

// TestEvaluate prints the replay table for every trace; set
// TRIMTAB_EVAL=1 to run it (it takes a minute or two).
func TestEvaluate(t *testing.T) {
	if os.Getenv("TRIMTAB_EVAL") == "" {
		t.Skip("set TRIMTAB_EVAL=1 to replay every trace")
	}
	traces := unseen()
	traces["nasa"] = loadShared(t, "nasa-http-1995-requests-per-minute.csv")
	traces["wc98"] = loadShared(t, "worldcup98-requests-per-minute.csv")
	for _, name := range []string{"synth-smooth", "synth-noisy", "synth-5min", "synth-growth", "nasa", "wc98"} {
		tr := traces[name]
		if only := os.Getenv("TRIMTAB_EVAL_ONLY"); only != "" && only != name {
			continue
		}
		for _, v := range variants(tr) {
			rep, _, err := Simulate(tr, v.cfg)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			name := name + "/" + v.name
			c := rep.Comparison
			s := rep.Strategies
			fmt.Printf("%-22s period=%-6s arm=%-11s saved-vs-matched=%5.1f%% overload-cut=%5.1f%% extra-rh-vs-hpa=%5.1f%% events=%.2fx lead=%v/%v overload t/h/m=%.0f/%.0f/%.0f matched-target=%.2f\n",
				name, rep.ForecastPeriod, rep.ForecastMethod, 100*float64(c.ReplicaHoursSavedVsHPAMatched), 100*float64(c.OverloadReductionVsHPA),
				100*float64(c.ReplicaHoursExtraVsHPA), float64(c.ScaleEventsRatioVsHPA),
				s[Trimtab].PeakLeadMinutesMedian, s[HPA].PeakLeadMinutesMedian,
				s[Trimtab].OverloadMinutes, s[HPA].OverloadMinutes, s[HPAMatched].OverloadMinutes, s[HPAMatched].TargetUtilization)
		}
	}
}

type variant struct {
	name string
	cfg  Config
}

// variants lists the configurations compared; TRIMTAB_EVAL_VARIANTS=all
// runs the alternatives tried, otherwise only the default.
func variants(tr Trace) []variant {
	base := Config{StartupDelay: 90 * time.Second, MetricsDelay: time.Minute}
	vs := []variant{{"default", base}}
	if os.Getenv("TRIMTAB_EVAL_VARIANTS") == "" {
		return vs
	}
	only := os.Getenv("TRIMTAB_EVAL_VARIANTS")
	with := func(name string, f func(*Config, *replicas.Config)) {
		c := Defaults(tr, base)
		p, err := c.TrimtabConfig()
		if err != nil {
			panic(err) // the shared defaults are valid
		}
		if only != "all" && only != name {
			return
		}
		f(&c, &p)
		c.Policy = &p
		vs = append(vs, variant{name, c})
	}
	with("q80", func(c *Config, p *replicas.Config) { p.Quantile = 0.8 })
	with("q95", func(c *Config, p *replicas.Config) { p.Quantile = 0.95 })
	with("q92", func(c *Config, p *replicas.Config) { p.Quantile = 0.92 })
	with("q93", func(c *Config, p *replicas.Config) { p.Quantile = 0.93 })
	with("q94", func(c *Config, p *replicas.Config) { p.Quantile = 0.94 })
	with("q95x", func(c *Config, p *replicas.Config) { p.Quantile = 0.95 })
	with("no-deadband", func(c *Config, p *replicas.Config) { p.ScaleDownDeadBand = 0 })
	with("down120s", func(c *Config, p *replicas.Config) {
		w := int32(120)
		p.Behavior.ScaleDown = &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &w}
	})
	with("reactive85", func(c *Config, p *replicas.Config) { c.ReactiveTarget = 0.85 })
	with("fast-down", func(c *Config, p *replicas.Config) { p.ForecastScaleDown = true })
	with("fast-down-horizon", func(c *Config, p *replicas.Config) { p.ForecastScaleDown = true; p.SizeAhead = 0 })
	with("fast-down-1m", func(c *Config, p *replicas.Config) { p.ForecastScaleDown = true; p.SizeAhead = time.Minute })
	with("size-horizon", func(c *Config, p *replicas.Config) { p.SizeAhead = 0 })
	with("size-1m", func(c *Config, p *replicas.Config) { p.SizeAhead = time.Minute })
	with("lead-short", func(c *Config, p *replicas.Config) { p.Forecast.Lead = c.StartupDelay + p.SizeAhead })
	with("naive", func(c *Config, p *replicas.Config) { p.Forecast.ProfileAlpha = 1 })
	for _, r := range []float64{0, 0.02, 0.005} {
		with(fmt.Sprintf("risk%g", r), func(c *Config, p *replicas.Config) { p.OverloadRisk = r })
	}
	with("no-seasonal-floor", func(c *Config, p *replicas.Config) { p.Forecast.SeasonalFloor = false })
	with("seasonal-only", func(c *Config, p *replicas.Config) { p.Forecast.TrailWindow = 0 })
	with("seasonal-only-norisk", func(c *Config, p *replicas.Config) { p.Forecast.TrailWindow = 0; p.OverloadRisk = 0 })
	// Clairvoyant bounds: what a perfect forecast of the 15-minute mean
	// would buy with the same sizing.
	for _, q := range []float64{0.9, 0.92, 0.95} {
		with(fmt.Sprintf("oracle-q%.0f", q*100), func(c *Config, p *replicas.Config) {
			p.Quantile = q
			c.Forecaster = newOracle(tr, 15*time.Minute)
		})
	}
	for _, w := range []int{5, 15, 30} {
		with(fmt.Sprintf("trailing-%dm", w), func(c *Config, p *replicas.Config) {
			c.Forecaster = newTrailing(tr, time.Duration(w)*time.Minute, 4*time.Minute)
		})
	}
	return vs
}
