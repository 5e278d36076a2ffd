package requestsim

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/internal/stats"
)

// Strategy names, in report order.
const (
	Trimtab = "trimtab"
	VPA     = "vpa"
	Static  = "static"
	Oracle  = "oracle"
)

// Names lists the strategies in report order.
var Names = []string{Trimtab, VPA, Static, Oracle}

// Options configure a replay.
type Options struct {
	// Warmup is learned but not scored; 0 means the first 7 days, or a
	// third of a shorter trace.
	Warmup time.Duration
	// LeakRate, in bytes per hour, adds a memory leak from LeakStart on
	// (zero LeakStart: the middle of the scored period).
	LeakRate  float64
	LeakStart time.Time
	// Policy bounds trimtab's and VPA's recommendations.
	Policy requests.Bounds
	// Trimtab and VPA are the two models' configurations; zero values mean
	// requests.DefaultConfig and requests.VPAConfig.
	Trimtab, VPA *requests.Config
	// Progress, when set, hears how far the replay has got, every
	// progressEvery samples: what runs (all four strategies, side by
	// side), and done and total samples.
	Progress func(what string, done, total int)
}

// progressEvery is how many samples pass between Progress calls.
const progressEvery = 1024

// Metrics score one strategy over the scored period. Every strategy has
// every field (docs/requests.md); a figure that does not apply is null.
type Metrics struct {
	CPUSlackMean          float64 `json:"cpu_slack_mean"`
	CPUSlackP50           float64 `json:"cpu_slack_p50"`
	MemSlackMean          float64 `json:"mem_slack_mean"`
	MemSlackP50           float64 `json:"mem_slack_p50"`
	CPUOverRequestMinutes float64 `json:"cpu_over_request_minutes"`
	OOMMinutes            float64 `json:"oom_minutes"`
	OOMKills              int     `json:"oom_kills"`
	RequestChanges        int     `json:"request_changes"`
	RequestChangesPerDay  float64 `json:"request_changes_per_day"`
	// LeakOOMAt is when the leak would have OOM-killed the container at
	// the memory request in force when it began (null: no leak, the leak
	// never reached that request, or the oracle, which knows the future).
	LeakOOMAt *time.Time `json:"leak_oom_at"`
	// LeakLeadMinutes is the time from the first memory raise after the
	// leak began to that OOM (negative: raised after it; null: never
	// raised, no leak, or the oracle).
	LeakLeadMinutes *float64 `json:"leak_lead_minutes"`
	// LeakCaught is whether memory was raised before that OOM and the
	// request then in force held the leaked usage (null: no leak, the
	// leak never reached the request, or the oracle).
	LeakCaught *bool `json:"leak_caught"`
	// LeakOOMMinutes are the OOM minutes after the leak began (null: no
	// leak).
	LeakOOMMinutes *float64 `json:"leak_oom_minutes"`
	// LeakRaises counts changes made because of a detected leak; without
	// an injected leak every one is a false alarm. A strategy without a
	// leak detector makes none.
	LeakRaises int `json:"leak_raises"`
	// LastChange is the reason of the last change (null: none, or the
	// oracle, which changes at each day's peak).
	LastChange *string `json:"last_change"`

	cpuSlack, memSlack []float64
}

// Result is a whole replay.
type Result struct {
	Start       time.Time          `json:"start"`
	ScoredFrom  time.Time          `json:"scored_from"`
	End         time.Time          `json:"end"`
	ScoredDays  float64            `json:"scored_days"`
	Provisioned requests.Resources `json:"provisioned"`
	// LeakRate and LeakStart describe the injected leak: 0 and null
	// without one.
	LeakRate   float64             `json:"leak_bytes_per_hour"`
	LeakStart  *time.Time          `json:"leak_start"`
	Strategies map[string]*Metrics `json:"strategies"`
	// Series is the scored period, for plotting.
	Series Series `json:"-"`
}

// Series holds usage and each strategy's requests at every scored sample.
type Series struct {
	Times    []time.Time
	Usage    []requests.Resources
	Requests map[string][]requests.Resources
}

// Run replays tr.
func Run(tr Trace, opt Options) (Result, error) {
	if len(tr.Samples) < 2 {
		return Result{}, fmt.Errorf("replay needs at least two samples, got %d", len(tr.Samples))
	}
	start, end := tr.Samples[0].Time, tr.Samples[len(tr.Samples)-1].Time
	warm := opt.Warmup
	if warm < 0 {
		return Result{}, fmt.Errorf("warm-up %s: must be >= 0 (0: the first 7 days, or a third of a shorter trace)", warm)
	}
	if warm == 0 {
		warm = defaultWarmup(start, end)
	}
	scoredFrom := start.Add(warm)
	if !scoredFrom.Before(end) {
		return Result{}, fmt.Errorf("warm-up %s covers the whole trace (%s): nothing left to score", warm, end.Sub(start))
	}
	res := Result{Start: start, ScoredFrom: scoredFrom, End: end, ScoredDays: end.Sub(scoredFrom).Hours() / 24,
		Provisioned: tr.Provisioned, Strategies: map[string]*Metrics{}}
	samples, leakStart, err := injectLeak(tr.Samples, opt, scoredFrom, end)
	if err != nil {
		return Result{}, err
	}
	if !leakStart.IsZero() {
		res.LeakRate, res.LeakStart = opt.LeakRate, &leakStart
	}
	r, err := newReplay(tr, samples, opt, scoredFrom, &res)
	if err != nil {
		return Result{}, err
	}
	r.leakStart = leakStart
	step := medianStep(samples)
	started := false
	for i, s := range samples {
		if opt.Progress != nil && i%progressEvery == 0 {
			opt.Progress("four strategies", i, len(samples))
		}
		dt := step
		if i+1 < len(samples) {
			dt = min(samples[i+1].Time.Sub(s.Time), 2*step)
		}
		scored := !s.Time.Before(scoredFrom)
		if scored && !started { // first decision at the end of the warm-up
			started = true
			for _, n := range []string{Trimtab, VPA, Static} {
				r.current[n], _ = r.strategies[n].decide(s.Time)
			}
		}
		if scored {
			r.current[Oracle], _ = r.oracle.decide(s.Time)
			res.Series.Times = append(res.Series.Times, s.Time)
			res.Series.Usage = append(res.Series.Usage, requests.Resources{CPU: s.CPU, Memory: s.Memory})
		}
		for _, n := range Names {
			if err := r.sample(n, s, tr.Samples[i].Memory, dt, scored); err != nil {
				return Result{}, fmt.Errorf("%s: %w", n, err)
			}
		}
	}
	for n, sc := range r.scores {
		sc.finish(res.ScoredDays, len(r.oracle.peaks))
		if !leakStart.IsZero() {
			sc.m.LeakOOMMinutes = &sc.leakOOM
			if n != Oracle { // the oracle knows the future; lead means nothing
				sc.leakResult()
			}
		}
	}
	// The oracle changes once per day whose peak differs from the day before.
	res.Strategies[Oracle].RequestChanges = oracleChanges(r.oracle, scoredFrom, end)
	res.Strategies[Oracle].RequestChangesPerDay = float64(res.Strategies[Oracle].RequestChanges) / res.ScoredDays
	return res, nil
}

// injectLeak returns the samples with opt's leak added from its start (by
// default the middle of the scored period) and that start; with no leak,
// a copy of the samples and a zero time.
func injectLeak(in []requests.Sample, opt Options, scoredFrom, end time.Time) ([]requests.Sample, time.Time, error) {
	samples := slices.Clone(in)
	if opt.LeakRate == 0 {
		return samples, time.Time{}, nil
	}
	if !(opt.LeakRate > 0) || math.IsInf(opt.LeakRate, 0) {
		return nil, time.Time{}, fmt.Errorf("leak rate %v bytes/h: must be positive and finite", opt.LeakRate)
	}
	leakStart := opt.LeakStart
	if leakStart.IsZero() {
		leakStart = scoredFrom.Add(end.Sub(scoredFrom) / 2)
	}
	for i := range samples {
		if d := samples[i].Time.Sub(leakStart); d > 0 {
			samples[i].Memory += opt.LeakRate * d.Hours()
		}
	}
	return samples, leakStart, nil
}

// replay holds the four strategies of one Run, their scores and the
// requests each runs with now.
type replay struct {
	strategies map[string]strategy
	oracle     *oracle
	scores     map[string]*scorer
	current    map[string]requests.Resources
	res        *Result
	leakStart  time.Time
}

// newReplay builds the strategies: trimtab's model (the workload's requests
// configuration unless opt replaces it), the VPA recommender's, the static
// request and the per-day oracle, each with its scorer in res.
func newReplay(tr Trace, samples []requests.Sample, opt Options, scoredFrom time.Time, res *Result) (*replay, error) {
	tcfg, err := trimtabConfig()
	if err != nil {
		return nil, err
	}
	vcfg := requests.VPAConfig()
	if opt.Trimtab != nil {
		tcfg = *opt.Trimtab
	}
	if opt.VPA != nil {
		vcfg = *opt.VPA
	}
	tl, err := newLearner(tcfg, opt.Policy)
	if err != nil {
		return nil, fmt.Errorf("trimtab model: %w", err)
	}
	vl, err := newLearner(vcfg, opt.Policy)
	if err != nil {
		return nil, fmt.Errorf("vpa model: %w", err)
	}
	static := tr.Provisioned
	if static.CPU <= 0 || static.Memory <= 0 {
		static = staticGuess(samples, scoredFrom, static)
	}
	orc := newOracle(samples)
	r := &replay{
		strategies: map[string]strategy{Trimtab: tl, VPA: vl, Static: fixed{static}, Oracle: orc},
		oracle:     orc, scores: map[string]*scorer{}, current: map[string]requests.Resources{}, res: res,
	}
	for _, n := range Names {
		r.scores[n] = &scorer{m: &Metrics{}}
		res.Strategies[n] = r.scores[n].m
	}
	res.Series.Requests = map[string][]requests.Resources{}
	return r, nil
}

// sample runs strategy n over one sample s lasting dt: once scored, it
// scores the requests it runs with (an OOM kill caps what it observes at
// the limit) and tracks the leak (unleaked is the memory without it); then
// the strategy observes the sample and, once scored, decides its next
// requests, counting a change.
func (r *replay) sample(n string, s requests.Sample, unleaked float64, dt time.Duration, scored bool) error {
	st, sc := r.strategies[n], r.scores[n]
	obs := s
	if scored {
		req := r.current[n]
		r.res.Series.Requests[n] = append(r.res.Series.Requests[n], req)
		if killed := sc.score(s, req, dt); killed {
			obs.Memory = req.Memory // a killed container never uses more than its limit
			if err := st.oomKilled(s.Time, req.Memory); err != nil {
				return err
			}
		}
		if !r.leakStart.IsZero() {
			sc.trackLeak(s, unleaked, req, r.leakStart, dt)
		}
	}
	if err := st.observe(obs); err != nil {
		return err
	}
	if !scored || n == Oracle {
		return nil
	}
	next, why := st.decide(s.Time)
	if why != "" && next != r.current[n] {
		sc.m.RequestChanges++
		sc.m.LastChange = &why
		if st.leakRaise() {
			sc.m.LeakRaises++
		}
		if next.Memory > r.current[n].Memory {
			sc.raised(s.Time, r.leakStart)
		}
	}
	r.current[n] = next
	return nil
}

// defaultWarmup is the warm-up when Options.Warmup is zero: the first 7
// days, or a third of a shorter trace.
func defaultWarmup(start, end time.Time) time.Duration {
	return min(7*24*time.Hour, end.Sub(start)/3)
}

// staticGuess stands in for a provisioned value a trace does not record:
// 1.5x the warm-up peak, what a careful person would write by hand.
func staticGuess(samples []requests.Sample, scoredFrom time.Time, have requests.Resources) requests.Resources {
	var peak requests.Resources
	for _, s := range samples {
		if !s.Time.Before(scoredFrom) {
			break
		}
		peak.CPU, peak.Memory = max(peak.CPU, s.CPU), max(peak.Memory, s.Memory)
	}
	if have.CPU <= 0 {
		have.CPU = requests.RoundCPU(1.5 * peak.CPU)
	}
	if have.Memory <= 0 {
		have.Memory = requests.RoundMemory(1.5 * peak.Memory)
	}
	return have
}

// medianStep is the median (stats.Median) spacing of s, which has at
// least two samples.
func medianStep(s []requests.Sample) time.Duration {
	d := make([]time.Duration, 0, len(s)-1)
	for i := 1; i < len(s); i++ {
		d = append(d, s[i].Time.Sub(s[i-1].Time))
	}
	m, _ := stats.MedianInPlace(d)
	return m
}

// oracleChanges counts the days after from's, up to to's, whose peak
// differs from the day before (or whose day before has no samples). It
// visits the days that have samples, not every day in between: a trace may
// have gaps of any length.
func oracleChanges(o *oracle, from, to time.Time) int {
	n := 0
	for d, p := range o.peaks {
		if d > from.Unix()/86400 && d <= to.Unix()/86400 && p != o.peaks[d-1] {
			n++
		}
	}
	return n
}

// trimtabConfig is the request model's configuration of a workload with
// `trimtab.dev/requests: auto`, converted by config.Policy.Inputs as the
// live path converts it.
func trimtabConfig() (requests.Config, error) {
	p := config.DefaultPolicy()
	p.Requests = config.RequestsAuto
	in, err := p.Inputs()
	if err != nil {
		return requests.Config{}, fmt.Errorf("requests policy: %w", err)
	}
	return in.Requests.Config, nil
}
