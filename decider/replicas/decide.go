package replicas

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
)

// MetricKind says how a reactive metric is turned into replicas, matching the
// HPA's metric target types.
type MetricKind uint8

// Reactive metric kinds.
const (
	// Utilization: per-pod resource usage against requests (Resource/Utilization).
	Utilization MetricKind = iota
	// PodAverage: a per-pod metric against a per-pod target (Pods/AverageValue).
	PodAverage
	// TotalAverage: one total (a business metric like orders/s or queue
	// depth) against a per-pod target (External or Object/AverageValue).
	TotalAverage
)

// Metric is one reactive signal, as the HPA would read it.
type Metric struct {
	Name string
	Kind MetricKind
	// Pods carry per-pod samples for Utilization and PodAverage.
	Pods []hpa.Pod
	// TargetUtilization is the percent for Utilization.
	TargetUtilization int32
	// Total (milli-units) and TargetAverage (milli-units per pod) for
	// TotalAverage; TargetAverage also for PodAverage.
	Total, TargetAverage int64
}

// Inputs is one cycle's view of a workload.
type Inputs struct {
	Now             time.Time
	CurrentReplicas int32 // spec replicas of the scale target
	ReadyReplicas   int32
	Metrics         []Metric
	// Downstream is the guarded signal's current value (NaN: missing).
	Downstream float64
	// HPA options for the reactive calculator.
	Options hpa.Options
}

// Forecaster predicts a workload's load signal. *forecast.Model is the one
// trimtab runs; the interface lets a replay put another model (or a
// clairvoyant bound) behind the same decision code.
type Forecaster interface {
	// Observe feeds the load sample that covers t.
	Observe(t time.Time, v float64)
	// Warm says the model has learned enough to forecast.
	Warm() bool
	// Forecast returns the expected load at t and its q-quantile upper bound.
	Forecast(t time.Time, q float64) (point, upper float64, ok bool)
	// Method names what the forecast now rests on, for reasons, e.g.
	// "recent mean".
	Method() string
}

// State is one workload's memory between cycles.
type State struct {
	Forecast Forecaster
	HPA      hpa.State
	Guard    GuardState
	// Reactive holds the reactive component's recommendations within the
	// scale-down window (used with Policy.ForecastScaleDown).
	Reactive []hpa.Recommendation
}

// NewState returns a fresh state for the policy.
func NewState(p Config) (*State, error) {
	m, err := forecast.New(p.Forecast)
	if err != nil {
		return nil, fmt.Errorf("creating forecaster: %w", err)
	}
	return &State{Forecast: m}, nil
}

// Observe feeds the workload's load signal (in the policy's load unit) at t.
func (s *State) Observe(t time.Time, load float64) { s.Forecast.Observe(t, load) }

// Target is one cycle's answer and why.
type Target struct {
	Replicas int32
	// Components (-1 when a path had no answer).
	Proactive, Reactive, Floor int32
	// Forecast at the binding time (zero when cold).
	ForecastAt           time.Time
	Forecast, ForecastHi float64
	// Method is what the forecast rests on, e.g. "recent mean".
	Method string
	Guard  string
	// Limit is what held the target from the combined components, as the
	// HPA's ScalingLimited reasons name it (hpa.WithinRange when nothing).
	Limit hpa.Limit
	// Guarded says the downstream guard blocked scale-out or stepped down.
	Guarded bool
	Reason  string
}

// Decide computes the replica target: the largest of the proactive,
// reactive and floor components, held while nothing was measured, limited
// by the downstream guard and normalized like the HPA (rate limits,
// stabilization window, bounds). It updates s (stabilization history, scale
// events, guard) and is otherwise pure.
func Decide(c Config, s *State, in Inputs) (Target, error) {
	if err := c.Validate(); err != nil {
		return Target{}, fmt.Errorf("replicas config: %w", err)
	}
	d := Target{Proactive: -1, Reactive: -1}
	parts := []part{c.proactive(s, in.Now, &d)}
	if len(in.Metrics) > 0 {
		parts = append(parts, reactiveComponent(c, in, &d))
	}
	floor, why := c.floor(in.Now)
	d.Floor = floor
	parts = append(parts, part{floor, fmt.Sprintf("floor %d (%s)", floor, why)})

	want := max(d.Proactive, d.Reactive, floor)
	if d.Proactive < 0 && d.Reactive < 0 {
		// Nothing measured: hold the current count (never scale on no data).
		want = max(in.CurrentReplicas, floor)
		parts = append(parts, part{want, fmt.Sprintf("hold %d (no signal)", want)})
	}
	gv := guardVerdict{reason: "no guard"}
	if c.Guard != nil {
		gv = c.Guard.evaluate(&s.Guard, in.Downstream, in.Now)
	}
	replicas, limit, note, err := c.normalize(s, in, d, want, gv)
	if err != nil {
		return Target{}, err
	}
	d.Replicas, d.Guard, d.Limit = replicas, gv.reason, limit
	d.Guarded = gv.stepDown || (gv.blockUp && want > in.CurrentReplicas)
	d.Reason = chain(parts) + "; " + gv.reason + note
	return d, nil
}

// proactive sizes ready capacity so that the forecast's Quantile upper
// bound over [now, now + start-up + size-ahead] stays within
// TargetUtilization of it, and the 1-OverloadRisk tail within all of it.
// It records the binding forecast on d; a cold forecaster gives no answer.
func (c Config) proactive(s *State, now time.Time, d *Target) part {
	if s.Forecast == nil || !s.Forecast.Warm() {
		return part{-1, "proactive none (forecast cold)"}
	}
	ahead := c.Horizon
	if c.SizeAhead > 0 && c.SizeAhead < ahead {
		ahead = c.SizeAhead
	}
	var hi, tail float64
	for t := now; !t.After(now.Add(c.StartupDelay + ahead)); t = t.Add(time.Minute) {
		pt, up, ok := s.Forecast.Forecast(t, c.Quantile)
		if ok && up > hi {
			hi, d.Forecast, d.ForecastHi, d.ForecastAt = up, pt, up, t
		}
		if c.OverloadRisk > 0 {
			if _, up, ok := s.Forecast.Forecast(t, 1-c.OverloadRisk); ok && up > tail {
				tail = up
			}
		}
	}
	if hi <= 0 {
		return part{-1, "proactive none (forecast cold)"}
	}
	d.Proactive = ceil32(max(hi/(c.CapacityPerPod*c.TargetUtilization), tail/c.CapacityPerPod))
	d.Method = s.Forecast.Method()
	how := ", " + d.Method
	if tail/c.CapacityPerPod > hi/(c.CapacityPerPod*c.TargetUtilization) {
		how += fmt.Sprintf("; p%g tail %s at 100%%", 100*(1-c.OverloadRisk), human(tail))
	}
	return part{d.Proactive, fmt.Sprintf("proactive %d (forecast %s %s at %s, p%.0f%s)",
		d.Proactive, human(d.ForecastHi), c.LoadUnit, d.ForecastAt.UTC().Format("15:04"), c.Quantile*100, how)}
}

// reactiveComponent runs the HPA's calculator on each metric and keeps the
// largest answer, as the HPA does with several metrics; like the HPA, a
// failed metric never lets the others scale down.
func reactiveComponent(c Config, in Inputs, d *Target) part {
	best := int32(-1)
	var name string
	var firstErr error
	for _, m := range in.Metrics {
		pr := reactive(m, in, c.Tolerances)
		if pr.Err != nil {
			if firstErr == nil {
				firstErr = pr.Err
			}
			continue
		}
		if pr.Replicas > best {
			best, name = pr.Replicas, pr.Metric
		}
	}
	if best < 0 || (firstErr != nil && best < in.CurrentReplicas) {
		return part{-1, fmt.Sprintf("reactive none (%v)", firstErr)}
	}
	d.Reactive = best
	return part{best, fmt.Sprintf("reactive %d (%s)", best, name)}
}

// normalize turns the combined want into the replica count to set: the
// guard's step-down or block, the dead bands around the current count, and
// the HPA's normalization (rate limits, stabilization window, bounds). note
// says what changed want, for the reason; limit names the HPA rule that held
// it, if any.
func (c Config) normalize(s *State, in Inputs, d Target, want int32, gv guardVerdict) (replicas int32, limit hpa.Limit, note string, err error) {
	floor := d.Floor
	spec := hpa.Spec{MinReplicas: floor, MaxReplicas: c.MaxReplicas, Behavior: c.Behavior}
	if floor > c.MaxReplicas {
		spec.MinReplicas = c.MaxReplicas
	}
	if c.ForecastScaleDown && d.Proactive >= 0 && d.Reactive >= 0 {
		// The reactive component keeps upstream's scale-down window on its
		// own; the forecast component falls as soon as its upper bound does.
		rs := s.stabilizeReactive(d.Reactive, in.CurrentReplicas, downWindow(c), in.Now)
		want = max(d.Proactive, rs, floor)
		spec = withoutDownWindow(spec)
	}
	if gv.stepDown {
		want = max(floor, int32(math.Floor(float64(in.CurrentReplicas)*(1-c.Guard.StepDownPercent/100))))
		want = min(want, in.CurrentReplicas)
		// Record it so the stabilization window sees the lower count.
		s.HPA.Recommendations = append(s.HPA.Recommendations[:0], hpa.Recommendation{Replicas: want, At: in.Now})
		return want, hpa.WithinRange, "", nil
	}
	if gv.blockUp && want > in.CurrentReplicas {
		want = max(in.CurrentReplicas, floor)
	}
	if want < in.CurrentReplicas && want >= floor && float64(want) >= float64(in.CurrentReplicas)*(1-c.ScaleDownDeadBand) {
		want = in.CurrentReplicas
	}
	if want > in.CurrentReplicas && d.Reactive <= in.CurrentReplicas && floor <= in.CurrentReplicas &&
		float64(want) <= float64(in.CurrentReplicas)*(1+c.ScaleUpDeadBand) {
		// Only the forecast asks for more, and by less than the band: the
		// pods running now serve the load, so wait for a step worth a
		// scale event.
		note = fmt.Sprintf("; %d within %g%% above %d, held", want, c.ScaleUpDeadBand*100, in.CurrentReplicas)
		want = in.CurrentReplicas
	}
	if in.CurrentReplicas == 0 {
		// The HPA leaves a target at zero alone; trimtab starts it from the floor.
		return min(max(want, 1), c.MaxReplicas), hpa.WithinRange, note, nil
	}
	out, err := s.HPA.Reconcile(spec, in.CurrentReplicas, []hpa.Proposal{{Metric: "combined", Replicas: want}}, in.Now)
	if err != nil {
		return 0, "", "", fmt.Errorf("normalizing %d replicas: %w", want, err)
	}
	if out.Limit != "" && out.Limit != hpa.WithinRange {
		note += fmt.Sprintf("; %s %d→%d", out.Limit, want, out.Replicas)
	} else if out.Replicas != want {
		note += fmt.Sprintf("; stabilized %d→%d", want, out.Replicas)
	}
	limit = out.Limit
	if limit == "" {
		limit = hpa.WithinRange
	}
	return out.Replicas, limit, note, nil
}

type part struct {
	n    int32
	text string
}

// chain orders the components by value: "a 14 (...) > b 11 > c 2".
func chain(ps []part) string {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].n > ps[j].n })
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.text
	}
	var b strings.Builder
	for i, x := range s {
		if i > 0 {
			if ps[i].n == ps[i-1].n {
				b.WriteString(" = ")
			} else {
				b.WriteString(" > ")
			}
		}
		b.WriteString(x)
	}
	return b.String()
}

func reactive(m Metric, in Inputs, tol hpa.Tolerances) hpa.Proposal {
	pr := hpa.Proposal{Metric: m.Name}
	switch m.Kind {
	case Utilization:
		r, err := hpa.ResourceReplicas(m.Pods, in.CurrentReplicas, m.TargetUtilization, tol, in.Options, in.Now)
		pr.Replicas, pr.Err = r.Replicas, err
	case PodAverage:
		o := in.Options
		o.CPU = false
		r, err := hpa.MetricReplicas(m.Pods, in.CurrentReplicas, m.TargetAverage, tol, o, in.Now)
		pr.Replicas, pr.Err = r.Replicas, err
	case TotalAverage:
		pr.Replicas, pr.Err = hpa.PerPodReplicas(max(in.CurrentReplicas, 1), m.Total, m.TargetAverage, tol)
	default:
		pr.Err = fmt.Errorf("metric %q: unknown kind %d", m.Name, m.Kind)
	}
	return pr
}

func ceil32(x float64) int32 {
	if x >= math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(math.Ceil(x - 1e-9))
}

// human prints 9800 as "9.8k".
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}
