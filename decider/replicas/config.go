package replicas

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
)

// Config is the replica decision's configuration for one workload: its
// bounds and capacity, from the workload's policy (config.Policy.Inputs),
// and the model's constants, from DefaultConfig.
type Config struct {
	MinReplicas, MaxReplicas int32
	// TargetUtilization is the share of ready capacity the forecast upper
	// bound may use (default 0.7); the reactive path uses it as its target.
	TargetUtilization float64
	// CapacityPerPod is the load (in the load signal's unit) one pod serves
	// at 100% utilization.
	CapacityPerPod float64
	// LoadUnit names the load signal's unit in reasons, e.g. "rpm".
	LoadUnit string
	// Horizon is how far past the start-up delay the forecast must be
	// covered (default 10m); StartupDelay is the time from scale-out to a
	// ready pod (default 90s).
	Horizon, StartupDelay time.Duration
	// SizeAhead is how far past the start-up delay the proactive component
	// sizes for (0: the whole horizon; capped at the horizon). Sizing past
	// the time the reactive backstop can correct a forecast miss (metrics
	// delay + sync + start-up: 165 s by default) only buys capacity early.
	SizeAhead time.Duration
	// Quantile is the forecast quantile sized for (default 0.9).
	Quantile float64
	// OverloadRisk, when > 0, also sizes ready capacity at 100% for the
	// forecast's 1-OverloadRisk quantile: on traffic with heavy minute-level
	// tails the target utilization alone leaves more than that share of
	// minutes over capacity.
	OverloadRisk float64
	// Tolerances and Behavior configure the reactive path and the final
	// normalization exactly as the HPA's fields do; nil Behavior means
	// upstream's defaults.
	Tolerances hpa.Tolerances
	Behavior   *autoscalingv2.HorizontalPodAutoscalerBehavior
	// ScaleDownDeadBand keeps the current count while the combined target is
	// within this fraction below it (like the HPA's tolerance), so a forecast
	// drifting down a pod at a time does not scale every cycle.
	ScaleDownDeadBand float64
	// ScaleUpDeadBand keeps the current count while the combined target is
	// within this fraction above it and only the forecast asks for more
	// (the reactive path and the floor are met by the current count): the
	// HPA's tolerance on the way up. Without it a forecast rising a pod at
	// a time scales every cycle (2× the HPA's events on 5-minute data).
	ScaleUpDeadBand float64
	// ForecastScaleDown lets the combined target fall as soon as the
	// forecast upper bound and the window-stabilized reactive component allow:
	// only the reactive component pays the scale-down stabilization window.
	ForecastScaleDown bool
	// Floors raise the minimum during cron windows.
	Floors []Window
	// Guard, when set, watches a downstream signal.
	Guard *Guard
	// Forecast configures the forecaster.
	Forecast forecast.Config
}

// DefaultOverloadRisk is the share of minutes the proactive path lets the
// forecast's tail run over ready capacity (see Config.OverloadRisk).
const DefaultOverloadRisk = 0.01

// DefaultTargetUtilization is the share of ready capacity the forecast's
// upper bound may use, and the reactive path's target.
const DefaultTargetUtilization = 0.7

// Timing is the control loop's delays, which the proactive sizing and the
// forecaster's error bands are measured against.
type Timing struct {
	// MetricsDelay is the age of the newest load the reactive path sees
	// (scrape interval and rate window); Sync is the decision period;
	// StartupDelay the time from scale-out to a ready pod; Horizon how far
	// past the start-up delay the forecast must stay covered.
	MetricsDelay, Sync, StartupDelay, Horizon time.Duration
}

// DefaultTiming is upstream's HPA with a 60 s metrics pipeline, its 15 s
// sync and a 90 s pod start-up, and a 10-minute horizon.
var DefaultTiming = Timing{MetricsDelay: time.Minute, Sync: 15 * time.Second, StartupDelay: 90 * time.Second, Horizon: 10 * time.Minute}

// SetTiming sets t's delays and everything derived from them, so that no
// caller derives them differently:
//
//   - SizeAhead = MetricsDelay + Sync + StartupDelay, the reactive path's
//     reaction time (165 s by default): sizing further ahead than the
//     reactive backstop can correct a forecast miss only buys capacity early;
//   - the forecaster's scoring lead = StartupDelay + Horizon, the furthest
//     time a decision sizes for;
//   - the nowcast's lag = StartupDelay + SizeAhead, the age of the recent
//     mean when the capacity it sized becomes ready.
func (c *Config) SetTiming(t Timing) {
	c.StartupDelay, c.Horizon = t.StartupDelay, t.Horizon
	c.SizeAhead = t.MetricsDelay + t.Sync + t.StartupDelay
	c.Forecast.Lead = t.StartupDelay + t.Horizon
	c.Forecast.TrailLag = t.StartupDelay + c.SizeAhead
}

// DefaultConfig returns the documented defaults for the given bounds and
// per-pod capacity (the load one pod serves at 100%): the configuration
// the replays measure and the live controller runs.
func DefaultConfig(minR, maxR int32, capacityPerPod float64) Config {
	c := Config{MinReplicas: minR, MaxReplicas: maxR, TargetUtilization: DefaultTargetUtilization, CapacityPerPod: capacityPerPod,
		Quantile: 0.9, OverloadRisk: DefaultOverloadRisk, Tolerances: hpa.DefaultTolerances,
		// behavior: {}, upstream's defaulted rules: the same rate limits
		// and 300 s scale-down window as an HPA created today.
		Behavior:          &autoscalingv2.HorizontalPodAutoscalerBehavior{},
		ScaleDownDeadBand: 0.1, ScaleUpDeadBand: 0.1, Forecast: forecast.DefaultConfig()}
	c.SetTiming(DefaultTiming)
	return c
}

// Validate names the first field that cannot work, its value and what is accepted.
func (p Config) Validate() error {
	switch {
	case p.MinReplicas < 0 || p.MaxReplicas < 1 || p.MinReplicas > p.MaxReplicas:
		return fmt.Errorf("replicas %d..%d: need 0 ≤ min ≤ max and max ≥ 1", p.MinReplicas, p.MaxReplicas)
	case !(p.TargetUtilization > 0 && p.TargetUtilization <= 1):
		return fmt.Errorf("target utilization %g: must be in (0, 1]", p.TargetUtilization)
	case !(p.CapacityPerPod > 0):
		return fmt.Errorf("capacity per pod %g: must be > 0", p.CapacityPerPod)
	case p.Horizon < 0 || p.StartupDelay < 0:
		return fmt.Errorf("horizon %s / start-up delay %s: must be ≥ 0", p.Horizon, p.StartupDelay)
	case p.SizeAhead < 0:
		return fmt.Errorf("size-ahead %s: must be ≥ 0 (0: the whole horizon)", p.SizeAhead)
	case !(p.Quantile >= 0.5 && p.Quantile < 1):
		return fmt.Errorf("quantile %g: must be in [0.5, 1)", p.Quantile)
	case !(p.OverloadRisk >= 0 && p.OverloadRisk < 0.5):
		return fmt.Errorf("overload risk %g: must be in [0, 0.5) (0: off)", p.OverloadRisk)
	case p.ScaleDownDeadBand < 0 || p.ScaleDownDeadBand >= 1:
		return fmt.Errorf("scale-down dead band %g: must be in [0, 1)", p.ScaleDownDeadBand)
	case !(p.ScaleUpDeadBand >= 0 && p.ScaleUpDeadBand <= 1):
		return fmt.Errorf("scale-up dead band %g: must be in [0, 1]", p.ScaleUpDeadBand)
	}
	for i, w := range p.Floors {
		if w.Min > p.MaxReplicas {
			return fmt.Errorf("floor window %d (%s): min %d above max replicas %d", i, w, w.Min, p.MaxReplicas)
		}
	}
	if p.Guard != nil {
		if err := p.Guard.Validate(); err != nil {
			return err
		}
	}
	return p.Forecast.Validate()
}

// Window raises the floor to Min on the given weekdays between From and To
// (minutes after local midnight, To exclusive; To < From wraps midnight).
type Window struct {
	Days     [7]bool // indexed by time.Weekday
	From, To int     // minutes of the day
	Location *time.Location
	Min      int32
}

// String prints the window as "HH:MM-HH:MM zone ≥min".
func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d %s ≥%d", w.From/60, w.From%60, w.To/60, w.To%60, w.Location, w.Min)
}

// Active reports whether t falls inside the window.
func (w Window) Active(t time.Time) bool {
	lt := t.In(w.Location)
	m := lt.Hour()*60 + lt.Minute()
	day := lt.Weekday()
	if w.From <= w.To {
		return w.Days[day] && m >= w.From && m < w.To
	}
	// Wrapping window: the part after midnight belongs to the previous day.
	if m >= w.From {
		return w.Days[day]
	}
	return m < w.To && w.Days[(day+6)%7]
}

var dayNames = map[string]time.Weekday{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// ParseWindow reads "DAYS HH:MM-HH:MM ZONE MIN", e.g.
// "mon-fri 08:00-18:00 Europe/Paris 5" or "sat,sun 10:00-14:00 UTC 3".
func ParseWindow(s string) (Window, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return Window{}, fmt.Errorf("floor window %q: want \"DAYS HH:MM-HH:MM ZONE MIN\", e.g. \"mon-fri 08:00-18:00 Europe/Paris 5\"", s)
	}
	var w Window
	for _, part := range strings.Split(strings.ToLower(f[0]), ",") {
		a, b, isRange := strings.Cut(part, "-")
		da, ok1 := dayNames[a]
		db, ok2 := dayNames[b]
		if !ok1 || (isRange && !ok2) {
			return Window{}, fmt.Errorf("floor window %q: days %q: want mon..sun, ranges (mon-fri) or lists (sat,sun)", s, f[0])
		}
		if !isRange {
			db = da
		}
		for d := da; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == db {
				break
			}
		}
	}
	from, to, ok := strings.Cut(f[1], "-")
	var err error
	if !ok {
		return Window{}, fmt.Errorf("floor window %q: time range %q: want HH:MM-HH:MM", s, f[1])
	}
	if w.From, err = clock(from); err == nil {
		w.To, err = clock(to)
	}
	if err != nil {
		return Window{}, fmt.Errorf("floor window %q: %w", s, err)
	}
	if w.Location, err = time.LoadLocation(f[2]); err != nil {
		return Window{}, fmt.Errorf("floor window %q: time zone %q: %w", s, f[2], err)
	}
	n, err := strconv.ParseInt(f[3], 10, 32)
	if err != nil || n < 0 {
		return Window{}, fmt.Errorf("floor window %q: min %q: want a whole number ≥ 0", s, f[3])
	}
	w.Min = int32(n)
	return w, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// floor is the policy minimum raised by active windows.
func (p Config) floor(now time.Time) (int32, string) {
	f, why := p.MinReplicas, "policy min"
	for _, w := range p.Floors {
		if w.Min > f && w.Active(now) {
			f, why = w.Min, "window "+w.String()
		}
	}
	return f, why
}
