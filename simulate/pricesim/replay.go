package pricesim

import (
	"fmt"
	"time"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/prices"
)

// Strategy names, as they appear in the JSON report.
const (
	Trimtab        = "trimtab"
	AlwaysSpot     = "always-spot"
	AlwaysOnDemand = "always-on-demand"
	Reactive       = "reactive"
	// Oracle is not a usable strategy: it reads the future to leave spot
	// exactly LeadTarget (plus one tick) before each spike and return when
	// the spike ends. It bounds what a perfect short-warning signal (such as
	// a rebalance recommendation 10-20 minutes ahead) could achieve.
	Oracle = "oracle"
)

// Strategies lists the strategy names in report order.
var Strategies = []string{Trimtab, AlwaysSpot, AlwaysOnDemand, Reactive, Oracle}

// Config is the workload and the knobs of the replay.
type Config struct {
	Pods      int
	JobLength time.Duration // caps the work an interruption can lose
	LostWork  time.Duration // progress lost per pod per interruption
	MoveLoss  time.Duration // progress lost per pod per planned move
	Tick      time.Duration // forecaster step period (default 1m)
	// ReactiveCalm is how long the reactive mover waits below the
	// on-demand price before moving back to spot (default 1h).
	ReactiveCalm time.Duration
	SpikeMerge   time.Duration // default 15m
	LeadTarget   time.Duration // lead that counts as "caught in time" (default 10m)
	Forecast     spot.Config
	// Progress, when set, hears how far the replay has got, every
	// progressEvery ticks: how many markets, and done and total ticks over
	// their span.
	Progress func(what string, done, total int)
}

// progressEvery is how many ticks pass between Progress calls.
const progressEvery = 4096

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Pods <= 0:
		return fmt.Errorf("pods %d: want a positive count", c.Pods)
	case c.JobLength <= 0:
		return fmt.Errorf("job length %v: want a positive duration", c.JobLength)
	case c.LostWork < 0 || c.MoveLoss < 0:
		return fmt.Errorf("lost work %v, move loss %v: want non-negative durations", c.LostWork, c.MoveLoss)
	case c.Tick < 0 || c.ReactiveCalm < 0 || c.SpikeMerge < 0 || c.LeadTarget < 0:
		return fmt.Errorf("tick, reactive calm, spike merge and lead target must be non-negative")
	}
	return c.Forecast.Validate()
}

// WithDefaults returns c with its unset fields set as Run sets them, for a
// report that echoes the settings replayed.
func (c Config) WithDefaults() Config {
	c.defaults()
	return c
}

func (c *Config) defaults() {
	if c.Tick == 0 {
		c.Tick = time.Minute
	}
	if c.ReactiveCalm == 0 {
		c.ReactiveCalm = time.Hour
	}
	if c.SpikeMerge == 0 {
		c.SpikeMerge = 15 * time.Minute
	}
	if c.LeadTarget == 0 {
		c.LeadTarget = 10 * time.Minute
	}
}

// strat is one strategy's running state in one market.
type strat struct {
	name          string
	off           bool
	offStart      time.Time
	proactive     bool
	lastT         time.Time
	belowSince    time.Time
	cost          float64
	interruptions int
	moves         int
	offs          []interval
}

type run struct {
	h      prices.History
	next   int // index of the next point to apply
	price  float64
	st     []*strat
	trans  []Transition
	done   bool
	spikes []Spike
	nextSp int // first spike not yet ended, for the oracle
	// rule is the replayed batch workload's capacity rule, from its policy
	// through config.Policy.Inputs as the live path converts it.
	rule capacity.Rule
}

// Transition is a change of trimtab's placement in a market, for plots.
type Transition struct {
	Time   time.Time
	Off    bool
	Reason string
}

// Run replays the histories. Each history needs its on-demand price (from
// the trace or the table); a history without one is an error naming it.
func Run(hs []prices.History, cfg Config) (*Result, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("replay config: %w", err)
	}
	if len(hs) == 0 {
		return nil, fmt.Errorf("no price histories to replay")
	}
	fc, err := spot.New(cfg.Forecast)
	if err != nil {
		return nil, err
	}
	rule, err := batchRule()
	if err != nil {
		return nil, err
	}
	var runs []*run
	var start, end time.Time
	for _, h := range hs {
		if err := h.Validate(); err != nil {
			return nil, err
		}
		if h.OnDemand <= 0 {
			return nil, fmt.Errorf("market %s has no on-demand price; add it to the table or pass --on-demand %s/%s=PRICE", h.Market, prices.RegionOf(h.Market.Zone), h.Market.InstanceType)
		}
		if len(h.Points) < 2 {
			return nil, fmt.Errorf("market %s has %d price points; a replay needs at least 2", h.Market, len(h.Points))
		}
		if err := fc.Track(h.Market, h.OnDemand); err != nil {
			return nil, err
		}
		r := &run{h: h, spikes: Spikes(h, h.OnDemand, cfg.SpikeMerge), rule: rule}
		for _, name := range Strategies {
			r.st = append(r.st, &strat{name: name})
		}
		runs = append(runs, r)
		if first := h.Points[0].Time; start.IsZero() || first.Before(start) {
			start = first
		}
		if last := h.Points[len(h.Points)-1].Time; last.After(end) {
			end = last
		}
	}
	total := int(end.Sub(start) / cfg.Tick)
	for i, tick := 0, start.Truncate(cfg.Tick).Add(cfg.Tick); ; i, tick = i+1, tick.Add(cfg.Tick) {
		if tick.After(end) {
			tick = end
		}
		if cfg.Progress != nil && i%progressEvery == 0 {
			what := fmt.Sprintf("%d markets", len(runs))
			if len(runs) == 1 {
				what = "1 market"
			}
			cfg.Progress(what, i, total)
		}
		for _, r := range runs {
			if err := r.events(tick, fc, cfg); err != nil {
				return nil, err
			}
		}
		for _, r := range runs {
			if err := r.step(tick, fc, cfg); err != nil {
				return nil, err
			}
		}
		if !tick.Before(end) {
			break
		}
	}
	return summarize(runs, cfg), nil
}

// events applies the price changes up to tick: cost up to each change, an
// interruption for every strategy on spot when the price crosses the
// on-demand price, and the observation for the forecaster.
func (r *run) events(tick time.Time, fc *spot.Forecaster, cfg Config) error {
	pts := r.h.Points
	for r.next < len(pts) && !pts[r.next].Time.After(tick) {
		p := pts[r.next]
		if r.next == 0 {
			for _, s := range r.st {
				s.lastT = p.Time
				if s.name == AlwaysOnDemand {
					s.off, s.offStart = true, p.Time
				}
			}
		}
		r.accrue(p.Time, cfg)
		r.price = p.Price
		if p.Price > r.h.OnDemand {
			for _, s := range r.st {
				if !s.off {
					s.interruptions++
					s.cost += float64(cfg.Pods) * min(cfg.LostWork, cfg.JobLength).Hours() * r.h.OnDemand
					s.off, s.offStart, s.proactive = true, p.Time, false
					if s.name == Trimtab {
						r.trans = append(r.trans, Transition{Time: p.Time, Off: true, Reason: "interrupted"})
					}
				}
			}
		}
		if err := fc.Observe(r.h.Market, p.Time, p.Price); err != nil {
			return err
		}
		r.next++
	}
	return nil
}

// accrue charges every strategy for the time since its last charge.
func (r *run) accrue(t time.Time, cfg Config) {
	for _, s := range r.st {
		if s.lastT.IsZero() || !t.After(s.lastT) {
			continue
		}
		rate := r.price
		if s.off {
			rate = r.h.OnDemand
		}
		s.cost += float64(cfg.Pods) * t.Sub(s.lastT).Hours() * rate
		s.lastT = t
	}
}

func (r *run) step(tick time.Time, fc *spot.Forecaster, cfg Config) error {
	if r.done || r.next == 0 {
		return nil
	}
	end := r.h.Points[len(r.h.Points)-1].Time
	if tick.After(end) {
		tick = end
	}
	r.accrue(tick, cfg)
	if !tick.Before(end) {
		r.done = true
		for _, s := range r.st {
			if s.off {
				s.offs = append(s.offs, interval{start: s.offStart, end: end.Add(time.Nanosecond), proactive: s.proactive})
			}
		}
		return nil
	}
	if err := fc.Confirm(r.h.Market, tick); err != nil {
		return err
	}
	a, err := fc.Step(r.h.Market, tick)
	if err != nil {
		return err
	}
	below := r.price <= r.h.OnDemand
	for _, s := range r.st {
		switch s.name {
		case AlwaysSpot:
			if s.off && below {
				s.goOn(tick, cfg, r.h.OnDemand)
			}
		case Reactive:
			if !below {
				s.belowSince = time.Time{}
			} else if s.off {
				if s.belowSince.IsZero() {
					s.belowSince = tick
				}
				if tick.Sub(s.belowSince) >= cfg.ReactiveCalm {
					s.goOn(tick, cfg, r.h.OnDemand)
				}
			}
		case Oracle:
			for r.nextSp < len(r.spikes) && !r.spikes[r.nextSp].End.After(tick) {
				r.nextSp++
			}
			want := r.nextSp < len(r.spikes) && !tick.Before(r.spikes[r.nextSp].Start.Add(-cfg.LeadTarget-cfg.Tick))
			if want && !s.off {
				s.moves++
				s.cost += float64(cfg.Pods) * cfg.MoveLoss.Hours() * r.h.OnDemand
				s.off, s.offStart, s.proactive = true, tick, true
			} else if !want && s.off && below {
				s.goOn(tick, cfg, r.h.OnDemand)
			}
		case Trimtab:
			if a.Action == spot.Hold {
				continue // nothing moves on data that cannot be trusted
			}
			// The capacity rule decides, as at admission: with the batch
			// policy's base of 0, off spot means every pod on on-demand.
			split, err := capacity.Decide(r.rule, capacity.OutlookOf(r.price, r.h.OnDemand, &a))
			if err != nil {
				return err
			}
			off := split.Rest == capacity.OnDemand
			if off == s.off {
				continue
			}
			if off {
				s.moves++
				s.cost += float64(cfg.Pods) * cfg.MoveLoss.Hours() * r.h.OnDemand
				s.off, s.offStart, s.proactive = true, tick, true
			} else {
				s.goOn(tick, cfg, r.h.OnDemand)
			}
			r.trans = append(r.trans, Transition{Time: tick, Off: off, Reason: a.Reason.String()})
		}
	}
	return nil
}

// batchRule is the capacity rule of the workload the replay prices: a batch
// workload with the default policy for its class.
func batchRule() (capacity.Rule, error) {
	p := config.DefaultPolicy()
	p.Class, p.OnDemandBase = config.ClassBatch, config.DefaultOnDemandBase(config.ClassBatch)
	in, err := p.Inputs()
	if err != nil {
		return capacity.Rule{}, fmt.Errorf("batch policy: %w", err)
	}
	return in.Capacity, nil
}

// goOn moves a strategy back to spot at t.
func (s *strat) goOn(t time.Time, cfg Config, onDemand float64) {
	s.offs = append(s.offs, interval{start: s.offStart, end: t, proactive: s.proactive})
	s.off = false
	s.moves++
	s.cost += float64(cfg.Pods) * cfg.MoveLoss.Hours() * onDemand
}
