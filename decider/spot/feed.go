package spot

import (
	"fmt"

	"github.com/trimtab-dev/trimtab/prices"
)

// Feed observes the points of a source snapshot that are newer than what the
// forecaster has seen and confirms each market's data through snap.AsOf, the
// last successful refresh. After a failed refresh AsOf does not advance, so
// once it is older than MaxStale Step answers Hold: nothing moves on stale
// data. Markets in the snapshot that are not tracked are tracked with the
// snapshot's on-demand price. Invalid points are an error and stop the feed
// for that snapshot.
func (f *Forecaster) Feed(snap prices.Snapshot) error {
	for _, h := range snap.Histories {
		st := f.markets[h.Market]
		if st == nil {
			if err := f.Track(h.Market, h.OnDemand); err != nil {
				return err
			}
			st = f.markets[h.Market]
		}
		for _, p := range h.Points {
			if !st.priceAt.IsZero() && !p.Time.After(st.priceAt) {
				continue
			}
			if err := f.Observe(h.Market, p.Time, p.Price); err != nil {
				return fmt.Errorf("feeding snapshot: %w", err)
			}
		}
		if !snap.AsOf.IsZero() {
			if err := f.Confirm(h.Market, snap.AsOf); err != nil {
				return err
			}
		}
	}
	return nil
}
