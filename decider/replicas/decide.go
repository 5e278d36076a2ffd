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
func NewState(p Policy) (*State, error) {
	m, err := forecast.New(p.Forecast)
	if err != nil {
		return nil, fmt.Errorf("creating forecaster: %w", err)
	}
	return &State{Forecast: m}, nil
}

// Observe feeds the workload's load signal (in the policy's load unit) at t.
func (s *State) Observe(t time.Time, load float64) { s.Forecast.Observe(t, load) }

// Decision is one cycle's answer and why.
type Decision struct {
	Replicas int32
	// Components (-1 when a path had no answer).
	Proactive, Reactive, Floor int32
	// Forecast at the binding time (zero when cold).
	ForecastAt           time.Time
	Forecast, ForecastHi float64
	Guard                string
	Reason               string
}

// Decide computes the replica target. It updates s (stabilization history,
// scale events, guard) and is otherwise pure.
func Decide(p Policy, s *State, in Inputs) (Decision, error) {
	if err := p.Validate(); err != nil {
		return Decision{}, fmt.Errorf("policy: %w", err)
	}
	d := Decision{Proactive: -1, Reactive: -1}
	var parts []part

	// Proactive: the forecast's upper quantile over [now, now+start-up+horizon]
	// must fit in TargetUtilization of ready capacity.
	if s.Forecast != nil && s.Forecast.Warm() {
		step := time.Minute
		var hi float64
		ahead := p.Horizon
		if p.SizeAhead > 0 && p.SizeAhead < ahead {
			ahead = p.SizeAhead
		}
		var tail float64
		for t := in.Now; !t.After(in.Now.Add(p.StartupDelay + ahead)); t = t.Add(step) {
			pt, up, ok := s.Forecast.Forecast(t, p.Quantile)
			if ok && up > hi {
				hi, d.Forecast, d.ForecastHi, d.ForecastAt = up, pt, up, t
			}
			if p.OverloadRisk > 0 {
				if _, up, ok := s.Forecast.Forecast(t, 1-p.OverloadRisk); ok && up > tail {
					tail = up
				}
			}
		}
		if hi > 0 {
			d.Proactive = ceil32(max(hi/(p.CapacityPerPod*p.TargetUtilization), tail/p.CapacityPerPod))
			how := ""
			if m, ok := s.Forecast.(interface{ Method() string }); ok {
				how = ", " + m.Method()
			}
			if tail/p.CapacityPerPod > hi/(p.CapacityPerPod*p.TargetUtilization) {
				how += fmt.Sprintf("; p%g tail %s at 100%%", 100*(1-p.OverloadRisk), human(tail))
			}
			parts = append(parts, part{d.Proactive, fmt.Sprintf("proactive %d (forecast %s %s at %s, p%.0f%s)", d.Proactive, human(d.ForecastHi), p.LoadUnit, d.ForecastAt.UTC().Format("15:04"), p.Quantile*100, how)})
		}
	}
	if d.Proactive < 0 {
		parts = append(parts, part{-1, "proactive none (forecast cold)"})
	}

	// Reactive: the HPA's calculator on each metric, multi-metric max.
	var props []hpa.Proposal
	for _, m := range in.Metrics {
		props = append(props, reactive(m, in, p.Tolerances))
	}
	if len(props) > 0 {
		best := int32(-1)
		var name string
		var firstErr error
		for _, pr := range props {
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
		// Like the HPA: a failed metric never lets the others scale down.
		if best >= 0 && (firstErr == nil || best >= in.CurrentReplicas) {
			d.Reactive = best
			parts = append(parts, part{best, fmt.Sprintf("reactive %d (%s)", best, name)})
		} else {
			parts = append(parts, part{-1, fmt.Sprintf("reactive none (%v)", firstErr)})
		}
	}

	floor, why := p.floor(in.Now)
	d.Floor = floor
	parts = append(parts, part{floor, fmt.Sprintf("floor %d (%s)", floor, why)})

	want := max(d.Proactive, d.Reactive, floor)
	if d.Proactive < 0 && d.Reactive < 0 {
		// Nothing measured: hold the current count (never scale on no data).
		want = max(in.CurrentReplicas, floor)
		parts = append(parts, part{want, fmt.Sprintf("hold %d (no signal)", want)})
	}

	// Guard: block scale-out; step down if it stays over.
	gv := guardVerdict{reason: "no guard"}
	if p.Guard != nil {
		gv = p.Guard.evaluate(&s.Guard, in.Downstream, in.Now)
	}
	d.Guard = gv.reason
	spec := hpa.Spec{MinReplicas: floor, MaxReplicas: p.MaxReplicas, Behavior: p.Behavior}
	if floor > p.MaxReplicas {
		spec.MinReplicas = p.MaxReplicas
	}
	if p.ForecastScaleDown && d.Proactive >= 0 && d.Reactive >= 0 {
		// The reactive component keeps upstream's scale-down window on its
		// own; the forecast component falls as soon as its upper bound does.
		rs := s.stabilizeReactive(d.Reactive, in.CurrentReplicas, downWindow(p), in.Now)
		want = max(d.Proactive, rs, floor)
		spec = withoutDownWindow(spec)
	}
	switch {
	case gv.stepDown:
		want = max(floor, int32(math.Floor(float64(in.CurrentReplicas)*(1-p.Guard.StepDownPercent/100))))
		want = min(want, in.CurrentReplicas)
		d.Replicas = want
		// Record it so the stabilization window sees the lower count.
		s.HPA.Recommendations = append(s.HPA.Recommendations[:0], hpa.Recommendation{Replicas: want, At: in.Now})
	default:
		if gv.blockUp && want > in.CurrentReplicas {
			want = max(in.CurrentReplicas, floor)
		}
		if want < in.CurrentReplicas && want >= floor && float64(want) >= float64(in.CurrentReplicas)*(1-p.ScaleDownDeadBand) {
			want = in.CurrentReplicas
		}
		if want > in.CurrentReplicas && d.Reactive <= in.CurrentReplicas && floor <= in.CurrentReplicas &&
			float64(want) <= float64(in.CurrentReplicas)*(1+p.ScaleUpDeadBand) {
			// Only the forecast asks for more, and by less than the band:
			// the pods running now serve the load, so wait for a step
			// worth a scale event.
			gv.reason += fmt.Sprintf("; %d within %g%% above %d, held", want, p.ScaleUpDeadBand*100, in.CurrentReplicas)
			want = in.CurrentReplicas
		}
		if in.CurrentReplicas == 0 {
			// The HPA leaves a target at zero alone; trimtab starts it from the floor.
			d.Replicas = min(max(want, 1), p.MaxReplicas)
			break
		}
		out, err := s.HPA.Reconcile(spec, in.CurrentReplicas, []hpa.Proposal{{Metric: "combined", Replicas: want}}, in.Now)
		if err != nil {
			return Decision{}, fmt.Errorf("normalizing %d replicas: %w", want, err)
		}
		d.Replicas = out.Replicas
		if out.Limit != "" && out.Limit != hpa.WithinRange {
			gv.reason += fmt.Sprintf("; %s %d→%d", out.Limit, want, out.Replicas)
		} else if out.Replicas != want {
			gv.reason += fmt.Sprintf("; stabilized %d→%d", want, out.Replicas)
		}
	}
	d.Reason = chain(parts) + "; " + gv.reason
	return d, nil
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
