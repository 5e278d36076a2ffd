package capacity

import (
	"fmt"

	"github.com/trimtab-dev/trimtab/decider/spot"
)

// OutlookOf reads a spot market into an Outlook. With an assessment from
// the spike forecaster, the forecaster is the only judge: it already moves
// out when the price is above its threshold or near it for long, and its
// hysteresis (calm for hours before moving back, a hold on stale data) is
// what keeps pods from flapping with every price tick; checking the raw
// price beside it would undo that (on the 2015 traces: 135 moves instead of
// 48 on one market). Without an assessment, spot that costs as much as
// on-demand is never worth its interruptions. Prices of 0 are unknown.
func OutlookOf(spotPrice, onDemandPrice float64, a *spot.Assessment) Outlook {
	if a != nil {
		if !a.Off {
			return Outlook{}
		}
		why := "forecaster has the market off spot: " + a.Reason.String()
		if a.Action == spot.Hold {
			why += " (held: " + a.Reason.String() + ")"
		}
		return Outlook{OffSpot: true, Reason: why}
	}
	if spotPrice > 0 && onDemandPrice > 0 && spotPrice >= onDemandPrice {
		return Outlook{OffSpot: true, Reason: fmt.Sprintf("spot %.4f is not cheaper than on-demand %.4f", spotPrice, onDemandPrice)}
	}
	return Outlook{}
}
