package spot

import (
	"fmt"
	"time"

	"github.com/trimtab-dev/trimtab/prices"
)

// Warm brings a market that has no observation yet through its history the
// way the replay (simulate/pricesim) does: at every tick end-k·every (k ≥ 1,
// oldest first, none before the history's first point) it observes the
// points up to the tick, confirms the tick and steps the market. The
// forecaster learns only from steps (each files a sample its horizon later
// labels), so a history fed in one piece — the live source's first
// refresh, which reaches back 7 days — teaches it nothing without this: it
// would wait days of live rounds to forecast a crossing, and move out only
// once the price is above the threshold, while the replay on the same
// history moves out ahead of it. The caller then feeds and steps at end as
// on every round.
//
// A market already observed is left as it is: Feed and Step carry it on.
// Warm returns why the market moved out when its history leaves it off spot
// (the reason of the step that moved it), ReasonSteady otherwise.
func (f *Forecaster) Warm(h prices.History, end time.Time, every time.Duration) (Reason, error) {
	if every <= 0 {
		return ReasonSteady, fmt.Errorf("warming %s: step %v: want a positive duration", h.Market, every)
	}
	if err := h.Validate(); err != nil {
		return ReasonSteady, fmt.Errorf("warming %s: %w", h.Market, err)
	}
	st := f.markets[h.Market]
	if st == nil {
		if err := f.Track(h.Market, h.OnDemand); err != nil {
			return ReasonSteady, err
		}
		st = f.markets[h.Market]
	}
	if !st.priceAt.IsZero() || len(h.Points) == 0 {
		return ReasonSteady, nil
	}
	first := h.Points[0].Time
	n := int(end.Sub(first) / every) // ticks end-n·every … end-every are at or after first
	out, next := ReasonSteady, 0
	for k := n; k >= 1; k-- {
		tick := end.Add(-time.Duration(k) * every)
		for ; next < len(h.Points) && !h.Points[next].Time.After(tick); next++ {
			if err := f.Observe(h.Market, h.Points[next].Time, h.Points[next].Price); err != nil {
				return ReasonSteady, fmt.Errorf("warming: %w", err)
			}
		}
		if err := f.Confirm(h.Market, tick); err != nil {
			return ReasonSteady, err
		}
		a, err := f.Step(h.Market, tick)
		if err != nil {
			return ReasonSteady, fmt.Errorf("warming: %w", err)
		}
		if a.Action == MoveOut {
			out = a.Reason
		}
	}
	if !st.off {
		out = ReasonSteady
	}
	return out, nil
}
