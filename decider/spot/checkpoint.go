package spot

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// checkpointVersion is bumped whenever the layout below changes meaning;
// other versions are refused by name.
const checkpointVersion = 1

// checkpoint is the forecaster's whole memory: every market's price state,
// hazard table, unlabelled samples and off-spot state, and the pooled
// table. JSON rather than a packed layout: it is small (about 2 KiB a
// market, mostly the two 80-cell tables), written every few minutes, and
// readable with jq when someone asks why a market is off spot.
type checkpoint struct {
	Version int `json:"version"`
	// Horizon is the config's horizon the samples were labelled with; a
	// forecaster with another horizon starts afresh.
	Horizon time.Duration `json:"horizon"`
	Pooled  countsJSON    `json:"pooled"`
	Markets []marketJSON  `json:"markets"`
}

type countsJSON struct {
	Pos []float64 `json:"pos"`
	N   []float64 `json:"n"`
}

type sampleJSON struct {
	T    time.Time `json:"t"`
	Cell int       `json:"cell"`
	Hit  bool      `json:"hit,omitempty"`
}

type marketJSON struct {
	Market      prices.Market `json:"market"`
	OnDemand    float64       `json:"onDemand"`
	Price       float64       `json:"price"`
	PriceAt     time.Time     `json:"priceAt"`
	FreshAt     time.Time     `json:"freshAt"`
	Baseline    float64       `json:"baseline"`
	LastAbove   time.Time     `json:"lastAbove"`
	NearSince   time.Time     `json:"nearSince"`
	RisingRef   float64       `json:"risingRef"`
	RisingRefT  time.Time     `json:"risingRefT"`
	RisingNext  float64       `json:"risingNext"`
	RisingNextT time.Time     `json:"risingNextT"`
	Own         countsJSON    `json:"own"`
	Pending     []sampleJSON  `json:"pending,omitempty"`
	Off         bool          `json:"off,omitempty"`
	OffSince    time.Time     `json:"offSince"`
}

// MarshalBinary saves the forecaster's state, so a restarted manager (or a
// new leader) keeps the weeks of crossings its hazard tables learned and
// the markets it has off spot, instead of starting cold and moving pods
// back onto a market in the middle of a spike.
func (f *Forecaster) MarshalBinary() ([]byte, error) {
	c := checkpoint{Version: checkpointVersion, Horizon: f.cfg.Horizon, Pooled: countsOut(&f.pooled)}
	for _, st := range f.markets {
		mj := marketJSON{
			Market: st.m, OnDemand: st.onDemand, Price: st.price, PriceAt: st.priceAt, FreshAt: st.freshAt,
			Baseline: st.baseline, LastAbove: st.lastAbove, NearSince: st.nearSince,
			RisingRef: st.risingRef, RisingRefT: st.risingRefT, RisingNext: st.risingNext, RisingNextT: st.risingNextT,
			Own: countsOut(&st.own), Off: st.off, OffSince: st.offSince,
		}
		for i := 0; i < st.n; i++ {
			s := st.pending[(st.head+i)%pendingMax]
			mj.Pending = append(mj.Pending, sampleJSON{T: s.t, Cell: s.cell, Hit: s.hit})
		}
		c.Markets = append(c.Markets, mj)
	}
	sort.Slice(c.Markets, func(i, j int) bool { return c.Markets[i].Market.String() < c.Markets[j].Market.String() })
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("spot forecaster checkpoint: %w", err)
	}
	return b, nil
}

func countsOut(c *counts) countsJSON {
	return countsJSON{Pos: append([]float64(nil), c.pos[:]...), N: append([]float64(nil), c.n[:]...)}
}

// Restore returns a forecaster with cfg and the state saved in b. A
// checkpoint that does not parse, has another version or horizon, or holds
// an impossible value (a negative or non-finite count or price, more hits
// than samples, a cell out of range) is refused with an error naming the
// field; the caller then starts a cold forecaster.
func Restore(cfg Config, b []byte) (*Forecaster, error) {
	f, err := New(cfg)
	if err != nil {
		return nil, err
	}
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("spot forecaster checkpoint: %w", err)
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("spot forecaster checkpoint version %d: this build reads version %d", c.Version, checkpointVersion)
	}
	if c.Horizon != cfg.Horizon {
		return nil, fmt.Errorf("spot forecaster checkpoint horizon %v: the forecaster's is %v, and samples labelled for another horizon would mislead it", c.Horizon, cfg.Horizon)
	}
	if err := countsIn(&f.pooled, c.Pooled, "pooled"); err != nil {
		return nil, err
	}
	for i, mj := range c.Markets {
		m := mj.Market
		if m.InstanceType == "" || m.Zone == "" || m.Product == "" {
			return nil, fmt.Errorf("spot forecaster checkpoint: market %d (%q) lacks an instance type, zone or product", i, m)
		}
		if err := f.Track(m, mj.OnDemand); err != nil {
			return nil, fmt.Errorf("spot forecaster checkpoint: %w", err)
		}
		for name, v := range map[string]float64{"price": mj.Price, "baseline": mj.Baseline, "rising reference": mj.RisingRef, "rising next": mj.RisingNext} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("spot forecaster checkpoint: market %s: %s %v is not a non-negative finite number", m, name, v)
			}
		}
		st := f.markets[m]
		st.price, st.priceAt, st.freshAt, st.baseline = mj.Price, mj.PriceAt, mj.FreshAt, mj.Baseline
		st.lastAbove, st.nearSince = mj.LastAbove, mj.NearSince
		st.risingRef, st.risingRefT, st.risingNext, st.risingNextT = mj.RisingRef, mj.RisingRefT, mj.RisingNext, mj.RisingNextT
		st.off, st.offSince = mj.Off, mj.OffSince
		if err := countsIn(&st.own, mj.Own, "market "+m.String()); err != nil {
			return nil, err
		}
		if len(mj.Pending) > pendingMax {
			return nil, fmt.Errorf("spot forecaster checkpoint: market %s has %d pending samples, at most %d are kept", m, len(mj.Pending), pendingMax)
		}
		for j, s := range mj.Pending {
			if s.Cell < 0 || s.Cell >= cells {
				return nil, fmt.Errorf("spot forecaster checkpoint: market %s sample %d: cell %d is not in [0, %d)", m, j, s.Cell, cells)
			}
			st.pending[j] = sample{t: s.T, cell: s.Cell, hit: s.Hit}
		}
		st.n = len(mj.Pending)
	}
	return f, nil
}

func countsIn(dst *counts, c countsJSON, what string) error {
	if len(c.Pos) != cells || len(c.N) != cells {
		return fmt.Errorf("spot forecaster checkpoint: %s table has %d and %d cells, want %d", what, len(c.Pos), len(c.N), cells)
	}
	for i := range cells {
		p, n := c.Pos[i], c.N[i]
		if math.IsNaN(p) || math.IsNaN(n) || math.IsInf(p, 0) || math.IsInf(n, 0) || p < 0 || p > n {
			return fmt.Errorf("spot forecaster checkpoint: %s table cell %d: %v crossings of %v samples; want 0 ≤ crossings ≤ samples, finite", what, i, p, n)
		}
		dst.pos[i], dst.n[i] = p, n
	}
	return nil
}

// Markets lists the tracked markets in order.
func (f *Forecaster) Markets() []prices.Market {
	out := make([]prices.Market, 0, len(f.markets))
	for m := range f.markets {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Tracks reports whether m is tracked.
func (f *Forecaster) Tracks(m prices.Market) bool { return f.markets[m] != nil }
