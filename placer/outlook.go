package placer

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/decider/spot"
	"github.com/trimtab-dev/trimtab/prices"
)

// MarketState is one spot market as the placer acts on it.
type MarketState struct {
	Market prices.Market
	// Off says batch pods should be off this market (the forecaster's
	// verdict, held through stale data).
	Off bool
	// Fresh says the verdict rests on prices recent enough to act on; no
	// price-driven move is made on a market that is not fresh.
	Fresh bool
	// Reason says why the market is off, or why it is not fresh.
	Reason string
	// Since is when the market went off spot, EarliestBack the earliest
	// time the hysteresis lets it back.
	Since, EarliestBack time.Time
}

// MarketStateOf reads the forecaster's assessment of a market. outBecause
// is why the market moved out (the reason of its last MoveOut step, which
// the caller remembers; later steps only say "waiting for calm"), "" if
// not known.
func MarketStateOf(a spot.Assessment, outBecause spot.Reason) MarketState {
	ms := MarketState{Market: a.Market, Off: a.Off, Fresh: a.Action != spot.Hold, Since: a.Since, EarliestBack: a.EarliestBack}
	switch {
	case a.Action == spot.Hold && a.Reason == spot.ReasonNoData:
		ms.Reason = fmt.Sprintf("%s: no spot price yet", a.Market)
	case a.Action == spot.Hold:
		ms.Reason = fmt.Sprintf("%s: %s (spot %.4f last known)", a.Market, a.Reason, a.Price)
	case a.Off:
		ms.Reason = fmt.Sprintf("%s off spot since %s: %s (spot %.4f, threshold %.4f, P(cross)=%.2f)",
			a.Market, clock(a.Since), offReason(a, outBecause), a.Price, a.Threshold, a.P)
	default:
		ms.Reason = fmt.Sprintf("%s on spot: spot %.4f, threshold %.4f, P(cross)=%.2f", a.Market, a.Price, a.Threshold, a.P)
	}
	return ms
}

// offReason says why a market is off: why it moved out, and whether it is
// now waiting for calm.
func offReason(a spot.Assessment, outBecause spot.Reason) string {
	if a.Reason == spot.ReasonWaiting && outBecause != spot.ReasonSteady && outBecause != spot.ReasonWaiting {
		return outBecause.String() + ", now waiting for calm"
	}
	return a.Reason.String()
}

func clock(t time.Time) string { return t.UTC().Format("15:04 UTC") }

// WorkloadOutlook is the spot outlook of one workload: off spot while any
// market it may run in is off.
type WorkloadOutlook struct {
	capacity.Outlook
	// Markets are the markets holding it off spot.
	Markets []prices.Market
	// Unfresh are markets it may run in whose prices are not fresh (stale,
	// or none yet), with their reasons; while there are any, no
	// price-driven move is made for the workload.
	Unfresh []string
	// Since is when the first of Markets went off, EarliestBack the latest
	// of their earliest times back.
	Since, EarliestBack time.Time
}

// Fresh says the outlook rests on fresh prices only.
func (o WorkloadOutlook) Fresh() bool { return len(o.Unfresh) == 0 }

// OutlookOf is the outlook of a workload exposed to the given markets (see
// Exposure). A market with no state (no price yet) is not fresh and holds
// nothing off spot.
func OutlookOf(exposed []prices.Market, markets map[prices.Market]MarketState) WorkloadOutlook {
	var o WorkloadOutlook
	var reasons []string
	for _, m := range exposed {
		ms, ok := markets[m]
		if !ok {
			o.Unfresh = append(o.Unfresh, fmt.Sprintf("%s: no spot price yet", m))
			continue
		}
		if !ms.Fresh {
			o.Unfresh = append(o.Unfresh, ms.Reason)
		}
		if !ms.Off {
			continue
		}
		o.Markets = append(o.Markets, m)
		reasons = append(reasons, ms.Reason)
		if o.Since.IsZero() || (!ms.Since.IsZero() && ms.Since.Before(o.Since)) {
			o.Since = ms.Since
		}
		if ms.EarliestBack.After(o.EarliestBack) {
			o.EarliestBack = ms.EarliestBack
		}
	}
	if len(o.Markets) == 0 {
		return o
	}
	sort.Strings(reasons)
	why := reasons[0]
	if len(reasons) > 1 {
		why += fmt.Sprintf(" (and %d more market(s))", len(reasons)-1)
	}
	if !o.EarliestBack.IsZero() {
		why += "; back to spot no earlier than " + clock(o.EarliestBack) + " if calm"
	}
	if !o.Fresh() {
		why += "; held: " + strings.Join(o.Unfresh, "; ")
	}
	o.Outlook = capacity.Outlook{OffSpot: true, Reason: why}
	return o
}
