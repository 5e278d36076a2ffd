package capacity

import (
	"fmt"

	"github.com/trimtab-dev/trimtab/decider/spot"
)

// OutlookOf reads a spot market into an Outlook: spot that costs as much as
// on-demand is never worth its interruptions, and a market the spike
// forecaster has off spot (a forecast spike, or a hold on stale data after
// one) takes no new spot pods. Prices of 0 are unknown; a nil assessment is
// no forecast. Neither says anything against spot.
func OutlookOf(spotPrice, onDemandPrice float64, a *spot.Assessment) Outlook {
	if spotPrice > 0 && onDemandPrice > 0 && spotPrice >= onDemandPrice {
		return Outlook{OffSpot: true, Reason: fmt.Sprintf("spot %.4f is not cheaper than on-demand %.4f", spotPrice, onDemandPrice)}
	}
	if a != nil && a.Off {
		why := "forecaster has the market off spot: " + a.Reason.String()
		if a.Action == spot.Hold {
			why += " (held: " + a.Reason.String() + ")"
		}
		return Outlook{OffSpot: true, Reason: why}
	}
	return Outlook{}
}
