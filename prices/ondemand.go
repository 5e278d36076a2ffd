package prices

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// OnDemandTable maps "region/instance-type" to the Linux on-demand price in
// USD per hour.
//
// trimtab ships a small table instead of calling the AWS Pricing API: that is
// a separate service (api.pricing.us-east-1.amazonaws.com) with its own IAM
// permission and a large JSON product catalogue, while on-demand prices change
// a few times a year. Users override or extend it in configuration
// (ParseOnDemandOverrides). The values are AWS's published Linux on-demand
// list prices: us-east-1 as of 2015 (they match the on-demand column in the
// recorded 2015 traces) and eu-west-3 (Paris) as of 2020 for the types in the
// recorded 2020 trace.
type OnDemandTable map[string]float64

// DefaultOnDemand is the shipped table.
var DefaultOnDemand = OnDemandTable{
	"us-east-1/c3.xlarge":  0.21,
	"us-east-1/d2.8xlarge": 5.52,
	"us-east-1/g2.2xlarge": 0.65,
	"us-east-1/m3.medium":  0.067,
	"us-east-1/r3.large":   0.175,

	"eu-west-3/c5.2xlarge":   0.404,
	"eu-west-3/c5.18xlarge":  3.636,
	"eu-west-3/c5.metal":     4.848,
	"eu-west-3/c5d.xlarge":   0.232,
	"eu-west-3/c5d.4xlarge":  0.928,
	"eu-west-3/c5d.18xlarge": 4.176,
	"eu-west-3/m5d.large":    0.134,
	"eu-west-3/m5d.2xlarge":  0.536,
	"eu-west-3/m5d.8xlarge":  2.144,
	"eu-west-3/m5d.16xlarge": 4.288,
	"eu-west-3/m5d.24xlarge": 6.432,
	"eu-west-3/t2.large":     0.1056,
	"eu-west-3/t3.large":     0.0944,
	"eu-west-3/t3a.nano":     0.0053,
	"eu-west-3/t3a.small":    0.0212,
	"eu-west-3/t3a.medium":   0.0425,
}

// RegionOf returns the region of an availability zone ("eu-west-3a" →
// "eu-west-3"); zone IDs and local zones are not handled.
func RegionOf(zone string) string {
	if n := len(zone); n > 0 && zone[n-1] >= 'a' && zone[n-1] <= 'z' {
		return zone[:n-1]
	}
	return zone
}

// Lookup returns the on-demand price of a market and whether it is known.
// The table holds Linux prices, so other products (Windows, RHEL, SUSE carry
// licence charges) are never priced from it.
func (t OnDemandTable) Lookup(m Market) (float64, bool) {
	if m.Product != "" && m.Product != ProductLinux {
		return 0, false
	}
	p, ok := t[Key(m)]
	return p, ok
}

// Key is the table key of a market: "region/instance-type".
func Key(m Market) string { return RegionOf(m.Zone) + "/" + m.InstanceType }

// With returns a copy of t with the overrides applied on top.
func (t OnDemandTable) With(overrides OnDemandTable) OnDemandTable {
	out := make(OnDemandTable, len(t)+len(overrides))
	for k, v := range t {
		out[k] = v
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

// ParseOnDemandOverrides parses "region/type=price" entries, e.g.
// "eu-west-3/m5d.large=0.134", as given on a command line or in settings.
func ParseOnDemandOverrides(entries []string) (OnDemandTable, error) {
	out := OnDemandTable{}
	for _, e := range entries {
		k, v, ok := strings.Cut(e, "=")
		region, typ, ok2 := strings.Cut(k, "/")
		if !ok || !ok2 || region == "" || typ == "" {
			return nil, fmt.Errorf("on-demand override %q: want region/instance-type=USD-per-hour, e.g. eu-west-3/m5d.large=0.134", e)
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || !(p > 0) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("on-demand override %q: price %q is not a positive number", e, v)
		}
		out[k] = p
	}
	return out, nil
}
