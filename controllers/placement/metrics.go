package placement

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	priceAge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "trimtab_placer_price_age_seconds",
		Help: "Age of the spot prices the placer holds: time since the last successful refresh. Past the forecaster's MaxStale (2h) no price-driven move is made.",
	})
	refreshErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trimtab_placer_price_refresh_errors_total",
		Help: "Spot price refreshes that failed (the last known prices held).",
	})
	marketFresh = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_placer_market_fresh",
		Help: "1 when a spot market's prices are fresh enough to move pods on, 0 while it holds.",
	}, []string{"instance_type", "zone"})
	marketOff = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trimtab_placer_market_off_spot",
		Help: "1 while the forecaster has a spot market off spot (a spike predicted or under way).",
	}, []string{"instance_type", "zone"})
)

func init() {
	metrics.Registry.MustRegister(priceAge, refreshErrors, marketFresh, marketOff)
}
