package ec2

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/trimtab-dev/trimtab/prices"
)

// EC2API is the part of the EC2 client the source uses; *ec2.Client
// implements it.
type EC2API interface {
	DescribeSpotPriceHistory(ctx context.Context, in *awsec2.DescribeSpotPriceHistoryInput, optFns ...func(*awsec2.Options)) (*awsec2.DescribeSpotPriceHistoryOutput, error)
}

// Node labels the source reads to find the cluster's markets.
const (
	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelZone         = "topology.kubernetes.io/zone"
)

// MarketsFromNodeLabels returns the distinct (instance type, zone) markets of
// the given nodes' labels for one product; nodes missing either label are
// skipped (they are not EC2 nodes the source can price).
func MarketsFromNodeLabels(product string, nodeLabels []map[string]string) []prices.Market {
	seen := map[prices.Market]bool{}
	var out []prices.Market
	for _, l := range nodeLabels {
		m := prices.Market{InstanceType: l[LabelInstanceType], Zone: l[LabelZone], Product: product}
		if m.InstanceType == "" || m.Zone == "" || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Config says what the source fetches.
type Config struct {
	// Markets to price; every market must share one product description.
	Markets []prices.Market
	// Lookback is how far back the first refresh reaches (default 24h).
	Lookback time.Duration
	// OnDemand prices the markets; a market missing from it gets 0 (unknown).
	OnDemand prices.OnDemandTable
	// PageSize is MaxResults per call (default 1000, the EC2 maximum).
	PageSize int32
}

// Source fetches and accumulates spot price history. It is safe for
// concurrent use.
type Source struct {
	api EC2API
	cfg Config
	now func() time.Time

	mu        sync.Mutex
	histories map[prices.Market]*prices.History
	asOf      time.Time // last successful refresh
	lastErr   error
}

// New returns a source over api. now is the clock (time.Now in production).
func New(api EC2API, cfg Config, now func() time.Time) (*Source, error) {
	if len(cfg.Markets) == 0 {
		return nil, fmt.Errorf("ec2 price source: no markets; the cluster's nodes need %s and %s labels", LabelInstanceType, LabelZone)
	}
	for _, m := range cfg.Markets {
		if m.Product != cfg.Markets[0].Product {
			return nil, fmt.Errorf("ec2 price source: market %s has product %q, others %q; use one source per product", m, m.Product, cfg.Markets[0].Product)
		}
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 24 * time.Hour
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 1000
	}
	s := &Source{api: api, cfg: cfg, now: now, histories: map[prices.Market]*prices.History{}}
	for _, m := range cfg.Markets {
		od, _ := cfg.OnDemand.Lookup(m)
		s.histories[m] = &prices.History{Market: m, OnDemand: od}
	}
	return s, nil
}

// SetMarkets changes the markets the source prices, as the cluster's nodes
// come and go: a new market's history starts empty (its first refresh
// reaches back Lookback), a market no longer listed is dropped. Every
// market must share the first one's product.
func (s *Source) SetMarkets(markets []prices.Market) error {
	for _, m := range markets {
		if m.Product != markets[0].Product {
			return fmt.Errorf("ec2 price source: market %s has product %q, others %q; use one source per product", m, m.Product, markets[0].Product)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[prices.Market]*prices.History, len(markets))
	for _, m := range markets {
		if h, ok := s.histories[m]; ok {
			next[m] = h
			continue
		}
		od, _ := s.cfg.OnDemand.Lookup(m)
		next[m] = &prices.History{Market: m, OnDemand: od}
	}
	s.histories = next
	s.cfg.Markets = append([]prices.Market(nil), markets...)
	return nil
}

// Refresh fetches every price change since the newest one already held (or
// since now-Lookback the first time) and merges it. On error nothing is
// merged and the last known prices stay.
func (s *Source) Refresh(ctx context.Context) error {
	now := s.now()
	s.mu.Lock()
	start := s.startTime(now)
	empty := len(s.cfg.Markets) == 0
	s.mu.Unlock()
	if empty {
		s.mu.Lock()
		s.asOf, s.lastErr = now, nil
		s.mu.Unlock()
		return nil
	}

	fetched, err := s.fetch(ctx, start, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr = fmt.Errorf("refreshing spot prices since %s: %w", start.Format(time.RFC3339), err)
		return s.lastErr
	}
	for m, pts := range fetched {
		h := s.histories[m]
		if h == nil {
			continue // another market in the same types and zones, or one dropped meanwhile
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].Time.Before(pts[j].Time) })
		for _, p := range pts {
			// EC2 repeats the price in force at StartTime; keep strictly newer points.
			if n := len(h.Points); n > 0 && !p.Time.After(h.Points[n-1].Time) {
				continue
			}
			h.Points = append(h.Points, p)
		}
	}
	s.asOf, s.lastErr = now, nil
	return nil
}

func (s *Source) startTime(now time.Time) time.Time {
	start := now.Add(-s.cfg.Lookback)
	first := true
	for _, h := range s.histories {
		n := len(h.Points)
		if n == 0 {
			return start // a market with nothing yet needs the full lookback
		}
		if t := h.Points[n-1].Time; first || t.Before(start) {
			start, first = t, false
		}
	}
	return start
}

func (s *Source) fetch(ctx context.Context, start, end time.Time) (map[prices.Market][]prices.Point, error) {
	s.mu.Lock()
	markets := append([]prices.Market(nil), s.cfg.Markets...)
	s.mu.Unlock()
	in := &awsec2.DescribeSpotPriceHistoryInput{
		StartTime:           aws.Time(start),
		EndTime:             aws.Time(end),
		ProductDescriptions: []string{markets[0].Product},
		MaxResults:          aws.Int32(s.cfg.PageSize),
	}
	seenTypes, zones := map[string]bool{}, map[string]bool{}
	for _, m := range markets {
		if !seenTypes[m.InstanceType] {
			in.InstanceTypes = append(in.InstanceTypes, types.InstanceType(m.InstanceType))
		}
		zones[m.Zone] = true
		seenTypes[m.InstanceType] = true
	}
	zoneFilter := types.Filter{Name: aws.String("availability-zone")}
	for z := range zones {
		zoneFilter.Values = append(zoneFilter.Values, z)
	}
	sort.Strings(zoneFilter.Values)
	in.Filters = []types.Filter{zoneFilter}

	out := map[prices.Market][]prices.Point{}
	pager := awsec2.NewDescribeSpotPriceHistoryPaginator(s.api, in)
	for page := 1; pager.HasMorePages(); page++ {
		resp, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeSpotPriceHistory page %d: %w", page, err)
		}
		for i, sp := range resp.SpotPriceHistory {
			m, p, err := convert(sp)
			if err != nil {
				return nil, fmt.Errorf("DescribeSpotPriceHistory page %d item %d: %w", page, i+1, err)
			}
			out[m] = append(out[m], p)
		}
	}
	return out, nil
}

func convert(sp types.SpotPrice) (prices.Market, prices.Point, error) {
	m := prices.Market{InstanceType: string(sp.InstanceType), Zone: aws.ToString(sp.AvailabilityZone), Product: string(sp.ProductDescription)}
	if m.InstanceType == "" || m.Zone == "" || m.Product == "" {
		return m, prices.Point{}, fmt.Errorf("item lacks instanceType, availabilityZone or productDescription (got %q, %q, %q)", m.InstanceType, m.Zone, m.Product)
	}
	if sp.Timestamp == nil {
		return m, prices.Point{}, fmt.Errorf("market %s: item has no timestamp", m)
	}
	raw := aws.ToString(sp.SpotPrice)
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return m, prices.Point{}, fmt.Errorf("market %s at %s: spotPrice %q is not a non-negative decimal", m, sp.Timestamp.Format(time.RFC3339), raw)
	}
	return m, prices.Point{Time: sp.Timestamp.UTC(), Price: v}, nil
}

// Snapshot returns copies of the held histories from since on, the time of
// the last good refresh, and the last refresh error (nil after a success).
// It does not call EC2; call Refresh on a period.
func (s *Source) Snapshot(_ context.Context, since time.Time) (prices.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := prices.Snapshot{AsOf: s.asOf, Err: s.lastErr}
	for _, h := range s.histories {
		i := sort.Search(len(h.Points), func(i int) bool { return !h.Points[i].Time.Before(since) })
		// Keep the point in force at since, so the price at since is known.
		if i > 0 {
			i--
		}
		snap.Histories = append(snap.Histories, prices.History{Market: h.Market, OnDemand: h.OnDemand, Points: append([]prices.Point(nil), h.Points[i:]...)})
	}
	prices.SortHistories(snap.Histories)
	return snap, nil
}

// Staleness is how old the held prices are at now, or -1 when no refresh
// has succeeded yet.
func (s *Source) Staleness(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asOf.IsZero() {
		return -1
	}
	return now.Sub(s.asOf)
}
