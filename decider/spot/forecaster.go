package spot

import (
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// Feature buckets. The cells are few on purpose: each must fill with enough
// samples within days for its rate to mean something.
const (
	levelBuckets   = 4                                                // price/threshold < .3, < .6, < .9, >= .9
	recencyBuckets = 5                                                // last above: < horizon, < 1h, < 6h, < 24h, longer or never
	cells          = levelBuckets * recencyBuckets * 2 /*rising*/ * 2 /*correlated hot*/
	pendingMax     = 64
)

// Prior of the pooled rate: Beta(0.1, 1.9), a mean of 5%.
const priorA, priorB = 0.1, 1.9

// counts is a table of crossing observations per cell.
type counts struct{ pos, n [cells]float64 }

type sample struct {
	t    time.Time
	cell int
	hit  bool
}

type market struct {
	m         prices.Market
	onDemand  float64
	price     float64
	priceAt   time.Time // time of the last observation
	freshAt   time.Time // the price is known to hold through this time
	baseline  float64
	lastAbove time.Time // last time the price was above the threshold
	nearSince time.Time // start of the current near-threshold run; zero if not near
	// risingRef is a price about 30 minutes old, for the rising feature.
	risingRef, risingNext   float64
	risingRefT, risingNextT time.Time

	own     counts
	pending [pendingMax]sample
	head, n int

	off      bool
	offSince time.Time
	related  []*market
}

// Forecaster holds every tracked market's state. It is not safe for
// concurrent use; the replay and the placer call it from one goroutine.
type Forecaster struct {
	cfg     Config
	markets map[prices.Market]*market
	pooled  counts
}

// New returns a forecaster, or an error naming the bad config field.
func New(cfg Config) (*Forecaster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forecaster config: %w", err)
	}
	return &Forecaster{cfg: cfg, markets: map[prices.Market]*market{}}, nil
}

// Track adds a market with its on-demand price (0 when unknown: the
// threshold is then ThresholdMultiple × the trailing baseline).
func (f *Forecaster) Track(m prices.Market, onDemand float64) error {
	if onDemand < 0 || math.IsNaN(onDemand) || math.IsInf(onDemand, 0) {
		return fmt.Errorf("market %s: on-demand price %v is not a non-negative finite number", m, onDemand)
	}
	if _, ok := f.markets[m]; ok {
		return fmt.Errorf("market %s is already tracked", m)
	}
	st := &market{m: m, onDemand: onDemand}
	for _, o := range f.markets {
		if o.m.Product == m.Product && (o.m.Zone == m.Zone || o.m.Family() == m.Family()) {
			o.related = append(o.related, st)
			st.related = append(st.related, o)
		}
	}
	f.markets[m] = st
	return nil
}

// Observe records a price change of a tracked market at t. Observations of a
// market must come in time order; invalid ones are rejected and change
// nothing.
func (f *Forecaster) Observe(m prices.Market, t time.Time, price float64) error {
	st := f.markets[m]
	if st == nil {
		return fmt.Errorf("market %s is not tracked", m)
	}
	if math.IsNaN(price) || math.IsInf(price, 0) || price < 0 {
		return fmt.Errorf("market %s at %s: price %v is not a non-negative finite number", m, t.Format(time.RFC3339), price)
	}
	if t.Before(st.priceAt) {
		return fmt.Errorf("market %s: observation at %s is before the previous one at %s", m, t.Format(time.RFC3339), st.priceAt.Format(time.RFC3339))
	}
	// The old price held until t: close its above/near runs first.
	f.advance(st, t)
	thr := f.threshold(st)
	if st.priceAt.IsZero() || thr == 0 {
		st.baseline = price
	} else if price <= thr {
		dt := t.Sub(st.priceAt).Hours()
		w := math.Exp2(-dt / f.cfg.BaselineHalfLife.Hours())
		st.baseline = w*st.baseline + (1-w)*st.price
	}
	st.price, st.priceAt = price, t
	if t.After(st.freshAt) {
		st.freshAt = t
	}
	// Rising reference: keep a price from 30-60 minutes ago.
	if st.risingNextT.IsZero() || t.Sub(st.risingNextT) >= 30*time.Minute {
		st.risingRef, st.risingRefT = st.risingNext, st.risingNextT
		st.risingNext, st.risingNextT = price, t
	}
	f.advance(st, t)
	return nil
}

// Confirm records that the source's data for m is complete through t: the
// price has not changed since the last observation. EC2 and the recorded
// traces list only changes, so staleness is measured from the last refresh
// that confirmed the price, not from the last change.
func (f *Forecaster) Confirm(m prices.Market, t time.Time) error {
	st := f.markets[m]
	if st == nil {
		return fmt.Errorf("market %s is not tracked", m)
	}
	if t.After(st.freshAt) {
		st.freshAt = t
	}
	return nil
}

// advance brings the above/near bookkeeping of st up to now under its
// current price, and labels pending samples hit by a crossing.
func (f *Forecaster) advance(st *market, now time.Time) {
	if st.priceAt.IsZero() {
		return
	}
	thr := f.threshold(st)
	if st.price > thr {
		if st.lastAbove.Before(st.priceAt) {
			f.markHits(st, st.priceAt)
		}
		st.lastAbove = now
	}
	if st.price >= f.cfg.NearFraction*thr {
		if st.nearSince.IsZero() {
			st.nearSince = st.priceAt
		}
	} else {
		st.nearSince = time.Time{}
	}
}

// markHits labels as crossings the pending samples within a horizon before t.
func (f *Forecaster) markHits(st *market, t time.Time) {
	for i := 0; i < st.n; i++ {
		s := &st.pending[(st.head+i)%pendingMax]
		if !s.t.After(t) && t.Sub(s.t) <= f.cfg.Horizon {
			s.hit = true
		}
	}
}

func (f *Forecaster) threshold(st *market) float64 {
	if st.onDemand > 0 {
		return st.onDemand
	}
	return f.cfg.ThresholdMultiple * st.baseline
}

// SetOnDemand changes a tracked market's on-demand price (its threshold),
// for a configuration changed since a checkpoint was saved.
func (f *Forecaster) SetOnDemand(m prices.Market, onDemand float64) error {
	st := f.markets[m]
	if st == nil {
		return fmt.Errorf("market %s is not tracked", m)
	}
	if onDemand < 0 || math.IsNaN(onDemand) || math.IsInf(onDemand, 0) {
		return fmt.Errorf("market %s: on-demand price %v is not a non-negative finite number", m, onDemand)
	}
	st.onDemand = onDemand
	return nil
}
