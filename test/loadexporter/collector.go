package loadexporter

import (
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
)

// collector serves each series' replayed value at the time of the scrape.
type collector struct {
	desc   *prometheus.Desc
	series []Series
	values [][]string // label values per series, in desc's label order
	clock  clock.PassiveClock
}

// NewCollector returns a prometheus.Collector exposing the gauge name with
// one series per Series, whose value is the replay's at clk.Now() when
// Prometheus scrapes. A series in a gap of its trace is left out of that
// scrape, as the backfill leaves the gap out (WriteOpenMetrics). Every series
// must have the same label names.
func NewCollector(name, help string, series []Series, clk clock.PassiveClock) (prometheus.Collector, error) {
	if !validName(name) {
		return nil, fmt.Errorf("metric name %q: want [a-zA-Z_:][a-zA-Z0-9_:]*", name)
	}
	var names []string
	if len(series) > 0 {
		for k := range series[0].Labels {
			names = append(names, k)
		}
		sort.Strings(names)
	}
	c := &collector{desc: prometheus.NewDesc(name, help, names, nil), series: series, clock: clk}
	for i, s := range series {
		if len(s.Labels) != len(names) {
			return nil, fmt.Errorf("series %d has labels %v, series 0 has %v: all need the same names", i, s.Labels, names)
		}
		vals := make([]string, len(names))
		for j, k := range names {
			v, ok := s.Labels[k]
			if !ok {
				return nil, fmt.Errorf("series %d lacks label %q that series 0 has", i, k)
			}
			vals[j] = v
		}
		c.values = append(c.values, vals)
	}
	return c, nil
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	now := c.clock.Now()
	for i, s := range c.series {
		if v, ok := s.Replay.Value(now); ok {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, c.values[i]...)
		}
	}
}
