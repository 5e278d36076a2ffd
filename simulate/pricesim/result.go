package pricesim

import (
	"time"

	"github.com/trimtab-dev/trimtab/internal/stats"
	"github.com/trimtab-dev/trimtab/prices"
)

// Stats is one strategy's outcome, in one market or overall. Every
// strategy has every field (docs/prices.md).
type Stats struct {
	Cost          float64 `json:"cost"`
	Interruptions int     `json:"interruptions"`
	Moves         int     `json:"moves"`
	Spikes        int     `json:"spikes"`
	// SpikesCaught (lead > 0), SpikesCaughtInTime (lead ≥ LeadTarget) and
	// the lead quantiles measure warning ahead of a spike. They are nil
	// (null) for a strategy that does not Anticipate, whose lead is 0 or
	// the time since the trace began by construction; the quantiles are
	// also nil when there are no spikes.
	SpikesCaught            *int     `json:"spikes_caught"`
	SpikesCaughtInTime      *int     `json:"spikes_caught_in_time"`
	LeadMinutesMedian       *float64 `json:"lead_minutes_median"`
	LeadMinutesP10          *float64 `json:"lead_minutes_p10"`
	FalseMoves              int      `json:"false_moves"`
	FalseMovesPerMarketWeek float64  `json:"false_moves_per_market_week"`
	OffSpotFraction         float64  `json:"off_spot_fraction"`
	MarketWeeks             float64  `json:"market_weeks"`

	leads   []time.Duration
	offTime time.Duration
	span    time.Duration
}

// MarketResult is the outcome in one market.
type MarketResult struct {
	Market      prices.Market     `json:"market"`
	OnDemand    float64           `json:"on_demand"`
	Strategies  map[string]*Stats `json:"strategies"`
	Transitions []Transition      `json:"-"`
	History     prices.History    `json:"-"`
}

// Result is the whole replay.
type Result struct {
	Strategies map[string]*Stats `json:"strategies"`
	Markets    []MarketResult    `json:"markets"`
	LeadTarget time.Duration     `json:"-"`
}

func summarize(runs []*run, cfg Config) *Result {
	res := &Result{Strategies: map[string]*Stats{}, LeadTarget: cfg.LeadTarget}
	for _, name := range Strategies {
		res.Strategies[name] = &Stats{}
	}
	for _, r := range runs {
		mr := MarketResult{Market: r.h.Market, OnDemand: r.h.OnDemand, Strategies: map[string]*Stats{}, Transitions: r.trans, History: r.h}
		span := r.h.Points[len(r.h.Points)-1].Time.Sub(r.h.Points[0].Time)
		for _, s := range r.st {
			st := &Stats{Cost: s.cost, Interruptions: s.interruptions, Moves: s.moves, Spikes: len(r.spikes), span: span}
			st.leads = leads(r.spikes, s.offs)
			st.FalseMoves = falseMoves(r.spikes, s.offs)
			for _, o := range s.offs {
				st.offTime += o.end.Sub(o.start)
			}
			st.finish(cfg.LeadTarget, Anticipates(s.name))
			mr.Strategies[s.name] = st
			all := res.Strategies[s.name]
			all.Cost += st.Cost
			all.Interruptions += st.Interruptions
			all.Moves += st.Moves
			all.Spikes += st.Spikes
			all.FalseMoves += st.FalseMoves
			all.leads = append(all.leads, st.leads...)
			all.offTime += st.offTime
			all.span += span
		}
		res.Markets = append(res.Markets, mr)
	}
	for name, st := range res.Strategies {
		st.finish(cfg.LeadTarget, Anticipates(name))
	}
	return res
}

// Anticipates reports whether strategy name can leave spot ahead of a
// spike: trimtab on its forecast, the oracle on the future. The others
// leave only when interrupted, or never run on spot.
func Anticipates(name string) bool { return name == Trimtab || name == Oracle }

func (s *Stats) finish(target time.Duration, anticipates bool) {
	s.SpikesCaught, s.SpikesCaughtInTime, s.LeadMinutesMedian, s.LeadMinutesP10 = nil, nil, nil, nil
	if anticipates {
		caught, inTime := 0, 0
		for _, l := range s.leads {
			if l > 0 {
				caught++
			}
			if l >= target {
				inTime++
			}
		}
		s.SpikesCaught, s.SpikesCaughtInTime = &caught, &inTime
		s.LeadMinutesMedian = quantile(s.leads, 0.5)
		s.LeadMinutesP10 = quantile(s.leads, 0.1)
	}
	s.MarketWeeks = s.span.Hours() / (24 * 7)
	if s.MarketWeeks > 0 {
		s.FalseMovesPerMarketWeek = float64(s.FalseMoves) / s.MarketWeeks
	}
	if s.span > 0 {
		s.OffSpotFraction = s.offTime.Seconds() / s.span.Seconds()
	}
}

// quantile is the q-quantile (stats.Quantile) of the leads in minutes, nil
// when there are none.
func quantile(ds []time.Duration, q float64) *float64 {
	v, ok := stats.Quantile(ds, q)
	if !ok {
		return nil
	}
	m := v.Minutes()
	return &m
}
