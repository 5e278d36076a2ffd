package spot

import (
	"fmt"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// Action is what the placer should do for a market's batch pods.
type Action int

// Actions.
const (
	Stay     Action = iota // keep the current placement
	MoveOut                // move batch pods from spot to on-demand
	MoveBack               // move them back to spot
	Hold                   // data is stale or missing: change nothing
)

func (a Action) String() string {
	return [...]string{"stay", "move-out", "move-back", "hold"}[a]
}

// Reason says why a Step decided what it did.
type Reason int

// Reasons.
const (
	ReasonSteady   Reason = iota // nothing calls for a change
	ReasonAbove                  // the price is above the threshold now
	ReasonForecast               // crossing probability reached POut
	ReasonNear                   // spot near the threshold for NearFor
	ReasonCalm                   // calm long enough and low probability: back
	ReasonWaiting                // off spot, not yet calm enough to go back
	ReasonStale                  // data not confirmed for longer than MaxStale
	ReasonNoData                 // no observation yet
)

func (r Reason) String() string {
	return [...]string{"steady", "price above threshold", "crossing forecast", "spot near threshold",
		"calm, low crossing probability", "waiting for calm", "stale price data", "no price data"}[r]
}

// Assessment is one Step's outcome for a market.
type Assessment struct {
	Market    prices.Market
	Time      time.Time
	Price     float64
	Threshold float64
	// P is the estimated probability that the price exceeds Threshold
	// within the horizon (1 when it already does).
	P      float64
	Off    bool // batch pods should be off spot after this step
	Action Action
	Reason Reason
	// Since is when the market went off spot; zero while it is on spot.
	Since time.Time
	// EarliestBack is, while off spot, the earliest time the hysteresis
	// allows a move back (MinOff after Since, CalmFor after the price was
	// last above the threshold), if the market stays calm and the
	// probability low; zero while on spot.
	EarliestBack time.Time
}

// String explains the assessment in one line, for logs and events.
func (a Assessment) String() string {
	return fmt.Sprintf("%s: %s (%s): spot %.4f, threshold %.4f, P(cross in horizon)=%.2f, off-spot=%v",
		a.Market, a.Action, a.Reason, a.Price, a.Threshold, a.P, a.Off)
}

// Step assesses market m at now: it labels samples whose horizon has passed,
// files a new sample, estimates the crossing probability and decides with
// hysteresis. Call it on a period (the replay uses one minute) after feeding
// the price changes up to now through Observe.
func (f *Forecaster) Step(m prices.Market, now time.Time) (Assessment, error) {
	st := f.markets[m]
	if st == nil {
		return Assessment{}, fmt.Errorf("market %s is not tracked", m)
	}
	a, err := f.step(st, now)
	f.since(st, &a)
	return a, err
}

func (f *Forecaster) step(st *market, now time.Time) (Assessment, error) {
	m := st.m
	a := Assessment{Market: m, Time: now, Off: st.off, Action: Hold}
	if st.priceAt.IsZero() {
		a.Reason = ReasonNoData
		return a, nil
	}
	if now.Before(st.priceAt) {
		return a, fmt.Errorf("market %s: step at %s is before its last observation %s", m, now.Format(time.RFC3339), st.priceAt.Format(time.RFC3339))
	}
	f.advance(st, now)
	f.resolve(st, now)
	thr := f.threshold(st)
	a.Price, a.Threshold = st.price, thr
	if now.Sub(st.freshAt) > f.cfg.MaxStale {
		a.Reason = ReasonStale
		return a, nil
	}
	above := st.price > thr
	if above {
		a.P = 1
	} else {
		cell := f.cell(st, now, thr)
		a.P = f.estimate(st, cell)
		f.file(st, now, cell)
	}
	a.Action, a.Reason = f.decide(st, now, thr, a.P, above)
	switch a.Action {
	case MoveOut:
		st.off, st.offSince = true, now
	case MoveBack:
		st.off = false
	}
	a.Off = st.off
	return a, nil
}

// since fills the assessment's off-spot times from the market's state.
func (f *Forecaster) since(st *market, a *Assessment) {
	if !st.off {
		return
	}
	a.Since = st.offSince
	a.EarliestBack = st.offSince.Add(f.cfg.MinOff)
	if !st.lastAbove.IsZero() {
		if calm := st.lastAbove.Add(f.cfg.CalmFor); calm.After(a.EarliestBack) {
			a.EarliestBack = calm
		}
	}
}

func (f *Forecaster) decide(st *market, now time.Time, thr, p float64, above bool) (Action, Reason) {
	near := !st.nearSince.IsZero() && now.Sub(st.nearSince) >= f.cfg.NearFor
	if !st.off {
		switch {
		case above:
			return MoveOut, ReasonAbove
		case p >= f.cfg.POut:
			return MoveOut, ReasonForecast
		case near:
			return MoveOut, ReasonNear
		}
		return Stay, ReasonSteady
	}
	calm := now.Sub(st.lastAbove) >= f.cfg.CalmFor
	if !above && now.Sub(st.offSince) >= f.cfg.MinOff && calm && p <= f.cfg.PBack && st.price <= f.cfg.BackBelow*thr {
		return MoveBack, ReasonCalm
	}
	return Stay, ReasonWaiting
}

// cell maps the market's situation to its table cell.
func (f *Forecaster) cell(st *market, now time.Time, thr float64) int {
	level := 0
	if thr > 0 {
		r := st.price / thr
		switch {
		case r >= 0.9:
			level = 3
		case r >= 0.6:
			level = 2
		case r >= 0.3:
			level = 1
		}
	}
	rec := recency(now, st.lastAbove, f.cfg.Horizon)
	rising := 0
	if !st.risingRefT.IsZero() && st.price > 1.2*st.risingRef {
		rising = 1
	}
	hot := 0
	if f.cfg.Correlated {
		for _, o := range st.related {
			if !o.lastAbove.IsZero() && now.Sub(o.lastAbove) < time.Hour {
				hot = 1
				break
			}
		}
	}
	return ((level*recencyBuckets+rec)*2+rising)*2 + hot
}

func recency(now, last time.Time, horizon time.Duration) int {
	if last.IsZero() {
		return 4
	}
	switch d := now.Sub(last); {
	case d < horizon:
		return 0
	case d < time.Hour:
		return 1
	case d < 6*time.Hour:
		return 2
	case d < 24*time.Hour:
		return 3
	}
	return 4
}

// estimate shrinks the market's own rate in cell towards the pooled rate.
func (f *Forecaster) estimate(st *market, cell int) float64 {
	pool := (f.pooled.pos[cell] + priorA) / (f.pooled.n[cell] + priorA + priorB)
	k := f.cfg.PriorWeight
	return (st.own.pos[cell] + k*pool) / (st.own.n[cell] + k)
}

// file queues a sample to be labelled once its horizon has passed. When the
// queue is full (steps far more often than the horizon) the sample is
// dropped: the table learns from fewer, still unbiased, samples.
func (f *Forecaster) file(st *market, now time.Time, cell int) {
	if st.n == pendingMax {
		return
	}
	st.pending[(st.head+st.n)%pendingMax] = sample{t: now, cell: cell}
	st.n++
}

// resolve moves samples whose horizon has passed into the tables.
func (f *Forecaster) resolve(st *market, now time.Time) {
	for st.n > 0 {
		s := st.pending[st.head]
		if now.Sub(s.t) < f.cfg.Horizon {
			return
		}
		hit := 0.0
		if s.hit {
			hit = 1
		}
		st.own.pos[s.cell] += hit
		st.own.n[s.cell]++
		f.pooled.pos[s.cell] += hit
		f.pooled.n[s.cell]++
		st.head = (st.head + 1) % pendingMax
		st.n--
	}
}
