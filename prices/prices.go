package prices

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// ProductLinux is the product description of Linux spot capacity, which is
// what Kubernetes nodes run; both EC2 ("Linux/UNIX") and the 2015 traces
// ("Linux") spellings normalise to it.
const ProductLinux = "Linux/UNIX"

// Market is one spot market: prices are set per instance type, availability
// zone and product description.
type Market struct {
	InstanceType string `json:"instance_type"`
	Zone         string `json:"zone"`
	Product      string `json:"product"`
}

// String prints the market as type/zone/product, the form used in reasons.
func (m Market) String() string {
	return m.InstanceType + "/" + m.Zone + "/" + m.Product
}

// Family is the instance family (the part of the type before the dot), used to
// group correlated markets.
func (m Market) Family() string {
	f, _, _ := strings.Cut(m.InstanceType, ".")
	return f
}

// NormalizeProduct maps the spellings seen in recorded traces onto EC2's
// product descriptions ("Linux" → "Linux/UNIX"); others pass unchanged.
func NormalizeProduct(p string) string {
	if strings.EqualFold(p, "linux") {
		return ProductLinux
	}
	return p
}

// Point is the spot price of a market from Time until the next point.
type Point struct {
	Time  time.Time
	Price float64 // USD per instance-hour
}

// History is a market's price changes in time order, with the on-demand
// price when the source knows it (0 when unknown).
type History struct {
	Market   Market
	OnDemand float64
	Points   []Point
}

// Validate reports the first point that is not a usable price: negative,
// NaN or infinite, or out of time order.
func (h History) Validate() error {
	for i, p := range h.Points {
		if math.IsNaN(p.Price) || math.IsInf(p.Price, 0) || p.Price < 0 {
			return fmt.Errorf("market %s point %d at %s: price %v is not a non-negative finite number", h.Market, i, p.Time.Format(time.RFC3339), p.Price)
		}
		if i > 0 && p.Time.Before(h.Points[i-1].Time) {
			return fmt.Errorf("market %s point %d: time %s is before the previous point %s; points must be in time order", h.Market, i, p.Time.Format(time.RFC3339), h.Points[i-1].Time.Format(time.RFC3339))
		}
	}
	if h.OnDemand < 0 || math.IsNaN(h.OnDemand) || math.IsInf(h.OnDemand, 0) {
		return fmt.Errorf("market %s: on-demand price %v is not a non-negative finite number", h.Market, h.OnDemand)
	}
	return nil
}

// At returns the price in force at t (the last point at or before t) and
// false when t is before the first point.
func (h History) At(t time.Time) (float64, bool) {
	i := sort.Search(len(h.Points), func(i int) bool { return h.Points[i].Time.After(t) })
	if i == 0 {
		return 0, false
	}
	return h.Points[i-1].Price, true
}

// Source returns spot price histories for markets since a time. A Source that
// cannot refresh returns what it last knew together with an error, and says
// how stale that is through Snapshot.AsOf.
type Source interface {
	Snapshot(ctx context.Context, since time.Time) (Snapshot, error)
}

// Snapshot is what a Source knows: a history per market and the time the
// data was last refreshed successfully.
type Snapshot struct {
	Histories []History
	// AsOf is when the data was last fetched successfully; a consumer
	// compares it with its own clock to decide whether the data is too stale
	// to act on.
	AsOf time.Time
	// Err is the last refresh error, nil when the last refresh succeeded.
	Err error
}

// SortHistories orders histories by market so output is deterministic.
func SortHistories(hs []History) {
	sort.Slice(hs, func(i, j int) bool { return hs[i].Market.String() < hs[j].Market.String() })
}
