package placement

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/prices"
)

// TestPublishHoldsOnFailingPrices: a batch workload off spot stays off
// through a round without market state (a refresh or the forecaster
// failed) and a round where it could not be read; fresh prices with the
// market back clear it. Until a round has assessed it on fresh prices
// (after a restart), it is not known.
func TestPublishHoldsOnFailingPrices(t *testing.T) {
	outs := &Outlooks{}
	c := &Controller{Outlooks: outs}
	k := placer.Key{Namespace: "shop", Kind: "Deployment", Name: "etl"}
	w := placer.Workload{Key: k, Class: config.ClassBatch}
	round := func(markets map[prices.Market]placer.MarketState, failed map[placer.Key]bool) bool {
		w.Outlook = placer.OutlookOf([]prices.Market{c3}, markets)
		ws := []placer.Workload{w}
		if failed[k] {
			ws = nil
		}
		c.publish(ws, failed)
		return outs.Outlook(k.Namespace, k.Kind, k.Name).OffSpot
	}
	// A first round (after a restart) without market state: not known, so
	// the decision controller holds the Decision's last capacity.
	if round(nil, nil) || outs.Known(k.Namespace, k.Kind, k.Name) {
		t.Fatal("a round without market state made the outlook known")
	}
	if !round(map[prices.Market]placer.MarketState{c3: {Market: c3, Off: true, Fresh: true, Reason: "off"}}, nil) || !outs.Known(k.Namespace, k.Kind, k.Name) {
		t.Fatal("off spot on fresh prices: not published")
	}
	if !round(nil, nil) {
		t.Error("a round without market state dropped the outlook: new pods would go to spot while the market is off")
	}
	if !round(nil, map[placer.Key]bool{k: true}) {
		t.Error("a round that could not read the workload dropped its outlook")
	}
	if round(map[prices.Market]placer.MarketState{c3: {Market: c3, Fresh: true}}, nil) {
		t.Error("the market is back on fresh prices, the outlook is still off")
	}
	if round(nil, nil) || !outs.Known(k.Namespace, k.Kind, k.Name) {
		t.Error("a failing round after the market came back made it off again, or unknown")
	}
	// A standard workload never gets one.
	w.Class = config.ClassStandard
	if round(map[prices.Market]placer.MarketState{c3: {Market: c3, Off: true, Fresh: true}}, nil) {
		t.Error("a standard workload's outlook was published")
	}
}

// TestCheckpointFromTheFutureIsNotRestored: a checkpoint saved after now
// (the clock moved back: a replay restarted) would leave every market
// unassessable, so it is refused with the reason; one saved before now,
// or without the annotation, is restored.
func TestCheckpointFromTheFutureIsNotRestored(t *testing.T) {
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	cm := func(saved string) *corev1.ConfigMap {
		c := &corev1.ConfigMap{}
		if saved != "" {
			c.Annotations = map[string]string{savedAtAnnotation: saved}
		}
		return c
	}
	for _, tc := range []struct {
		saved, want string
	}{
		{"", ""},
		{"2026-12-04T19:55:00Z", ""},
		{"2026-12-06T13:00:00Z", "checkpoint saved at 2026-12-06T13:00:00Z, after now (2026-12-04T20:00:00Z): the clock moved back"},
		{"yesterday", `annotation trimtab.dev/saved-at "yesterday": want an RFC 3339 time`},
	} {
		err := restorable(cm(tc.saved), now)
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || err.Error() != tc.want)) {
			t.Errorf("saved %q: %v, want %q", tc.saved, err, tc.want)
		}
	}
}
