package ec2

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trimtab-dev/trimtab/prices"
	"github.com/trimtab-dev/trimtab/test/ec2fixture"
)

// fakeEC2 is the EC2-protocol fixture (test/ec2fixture) with the helpers
// these tests use: the real SDK client signs, retries and decodes against it.
type fakeEC2 struct{ *ec2fixture.Server }

func newFake(pageSize int, items ...ec2fixture.Item) *fakeEC2 {
	f := &fakeEC2{&ec2fixture.Server{AccessKey: "AKIDTEST", PageSize: pageSize}}
	f.Add(items...)
	return f
}

// calls returns the forms received, one value per key.
func (f *fakeEC2) calls() []map[string]string {
	var out []map[string]string
	for _, c := range f.Calls() {
		m := map[string]string{}
		for k, v := range c {
			m[k] = v[0]
		}
		out = append(out, m)
	}
	return out
}

var t0 = time.Date(2015, 3, 11, 16, 0, 0, 0, time.UTC)

func newTestSource(t *testing.T, f *fakeEC2, now *time.Time) *Source {
	t.Helper()
	srv := httptest.NewServer(f.Server) // listens on 127.0.0.1 only
	t.Cleanup(srv.Close)
	client := NewClient("us-east-1", srv.URL, credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), RetryOptions{MaxAttempts: 4, MaxBackoff: 5 * time.Millisecond})
	markets := []prices.Market{
		{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: prices.ProductLinux},
		{InstanceType: "r3.large", Zone: "us-east-1a", Product: prices.ProductLinux},
	}
	s, err := New(client, Config{Markets: markets, Lookback: time.Hour, PageSize: 3, OnDemand: prices.DefaultOnDemand}, func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func items(n int, typ string, from time.Time) []ec2fixture.Item {
	var out []ec2fixture.Item
	for i := 0; i < n; i++ {
		out = append(out, ec2fixture.Item{InstanceType: typ, Zone: "us-east-1a", Product: prices.ProductLinux, Price: fmt.Sprintf("0.%04d", 300+i), Time: from.Add(time.Duration(i) * time.Minute)})
	}
	return out
}

func TestRefreshPaginatesAndIsIncremental(t *testing.T) {
	f := newFake(3, append(items(5, "c3.xlarge", t0.Add(-50*time.Minute)), items(2, "r3.large", t0.Add(-30*time.Minute))...)...)
	f.Add(ec2fixture.Item{InstanceType: "c3.xlarge", Zone: "us-east-1b", Product: prices.ProductLinux, Price: "9", Time: t0.Add(-10 * time.Minute)})
	now := t0
	s := newTestSource(t, f, &now)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := f.calls()
	if got := len(calls); got != 3 { // 7 items in the zone, 3 per page
		t.Errorf("calls = %d, want 3 pages", got)
	}
	if calls[1]["NextToken"] != "tok-3" || calls[0]["InstanceType.1"] != "c3.xlarge" || calls[0]["Filter.1.Name"] != "availability-zone" {
		t.Errorf("request parameters not as expected: %v", calls[1])
	}
	snap, _ := s.Snapshot(context.Background(), time.Time{})
	if snap.Err != nil || !snap.AsOf.Equal(t0) {
		t.Errorf("AsOf %v Err %v, want %v and nil", snap.AsOf, snap.Err, t0)
	}
	got := map[string]int{}
	for _, h := range snap.Histories {
		got[h.Market.InstanceType] = len(h.Points)
		if h.Market.InstanceType == "c3.xlarge" && (h.OnDemand != 0.21 || h.Points[4].Price != 0.0304) {
			t.Errorf("c3.xlarge: on-demand %v last %v, want 0.21 and 0.0304", h.OnDemand, h.Points[4].Price)
		}
	}
	if got["c3.xlarge"] != 5 || got["r3.large"] != 2 {
		t.Errorf("points per market = %v, want c3.xlarge:5 r3.large:2 (us-east-1b excluded)", got)
	}

	// The next refresh starts at the newest point held and adds only new ones.
	f.Add(items(2, "r3.large", t0.Add(5*time.Minute))...)
	f.ResetCalls()
	now = t0.Add(10 * time.Minute)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := f.calls()[0]["StartTime"]; st != t0.Add(-46*time.Minute).Format("2006-01-02T15:04:05Z") {
		t.Errorf("incremental StartTime = %s, want the older market's newest point %s", st, t0.Add(-46*time.Minute))
	}
	snap, _ = s.Snapshot(context.Background(), time.Time{})
	for _, h := range snap.Histories {
		if want := map[string]int{"c3.xlarge": 5, "r3.large": 4}[h.Market.InstanceType]; len(h.Points) != want {
			t.Errorf("%s: %d points after incremental refresh, want %d (no duplicates)", h.Market, len(h.Points), want)
		}
	}
}

func TestRefreshRetriesThrottling(t *testing.T) {
	f := newFake(10, items(3, "c3.xlarge", t0.Add(-5*time.Minute))...)
	f.Throttle(2)
	now := t0
	s := newTestSource(t, f, &now)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatalf("two throttles within 4 attempts should be retried away: %v", err)
	}
	if n := len(f.Calls()); n != 3 {
		t.Errorf("calls = %d, want 2 throttled + 1 good", n)
	}
}

func TestRefreshFailureKeepsLastKnown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(f *fakeEC2)
		wantText string
	}{
		{"throttled beyond retries", func(f *fakeEC2) { f.Throttle(100) }, "RequestLimitExceeded"},
		{"internal error", func(f *fakeEC2) { f.Fail("500") }, "InternalError"},
		{"truncated xml", func(f *fakeEC2) { f.Fail("garbage") }, "DescribeSpotPriceHistory page 1"},
		{"negative price", func(f *fakeEC2) {
			f.Add(ec2fixture.Item{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: prices.ProductLinux, Price: "-1", Time: t0.Add(time.Minute)})
		}, `spotPrice "-1"`},
		{"non-numeric price", func(f *fakeEC2) {
			f.Add(ec2fixture.Item{InstanceType: "r3.large", Zone: "us-east-1a", Product: prices.ProductLinux, Price: "cheap", Time: t0.Add(time.Minute)})
		}, `spotPrice "cheap"`},
		{"missing price", func(f *fakeEC2) {
			f.Add(ec2fixture.Item{InstanceType: "c3.xlarge", Zone: "us-east-1a", Product: prices.ProductLinux, Price: "", Time: t0.Add(time.Minute)})
		}, `spotPrice ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(10, items(3, "c3.xlarge", t0.Add(-5*time.Minute))...)
			now := t0
			s := newTestSource(t, f, &now)
			if err := s.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			tc.setup(f)
			f.Add(items(1, "c3.xlarge", t0.Add(2*time.Minute))...)
			now = t0.Add(10 * time.Minute)
			err := s.Refresh(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("error = %v, want one mentioning %q", err, tc.wantText)
			}
			snap, _ := s.Snapshot(context.Background(), time.Time{})
			if snap.Err == nil || !snap.AsOf.Equal(t0) || s.Staleness(now) != 10*time.Minute {
				t.Errorf("after failure: AsOf %v Err %v staleness %v; want last good %v, the error, 10m", snap.AsOf, snap.Err, s.Staleness(now), t0)
			}
			for _, h := range snap.Histories {
				if h.Market.InstanceType == "c3.xlarge" && len(h.Points) != 3 {
					t.Errorf("c3.xlarge has %d points, want the 3 last known (nothing merged from a failed refresh)", len(h.Points))
				}
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(nil, Config{}, time.Now); err == nil || !strings.Contains(err.Error(), LabelInstanceType) {
		t.Errorf("no markets: err = %v", err)
	}
	mixed := []prices.Market{{InstanceType: "a", Zone: "z", Product: "Linux/UNIX"}, {InstanceType: "a", Zone: "z", Product: "Windows"}}
	if _, err := New(nil, Config{Markets: mixed}, time.Now); err == nil || !strings.Contains(err.Error(), "Windows") {
		t.Errorf("mixed products: err = %v", err)
	}
}

func TestMarketsFromNodeLabels(t *testing.T) {
	got := MarketsFromNodeLabels(prices.ProductLinux, []map[string]string{
		{LabelInstanceType: "m5d.large", LabelZone: "eu-west-3a"},
		{LabelInstanceType: "m5d.large", LabelZone: "eu-west-3a"},
		{LabelInstanceType: "c5.2xlarge", LabelZone: "eu-west-3b"},
		{LabelZone: "eu-west-3a"}, // no instance type: not priceable
	})
	if len(got) != 2 || got[0].InstanceType != "c5.2xlarge" || got[1].Zone != "eu-west-3a" {
		t.Errorf("markets = %v", got)
	}
}

// TestSetMarketsFollowsTheNodes: a market added later is fetched from its
// lookback on the next refresh; a dropped one is no longer asked for.
func TestSetMarketsFollowsTheNodes(t *testing.T) {
	f := newFake(100, append(items(3, "c3.xlarge", t0.Add(-20*time.Minute)), items(3, "m3.medium", t0.Add(-50*time.Minute))...)...)
	now := t0
	s := newTestSource(t, f, &now)
	m3 := prices.Market{InstanceType: "m3.medium", Zone: "us-east-1a", Product: prices.ProductLinux}
	if err := s.SetMarkets([]prices.Market{s.cfg.Markets[0], m3}); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Snapshot(context.Background(), time.Time{})
	got := map[string]int{}
	for _, h := range snap.Histories {
		got[h.Market.InstanceType] = len(h.Points)
	}
	if len(got) != 2 || got["c3.xlarge"] != 3 || got["m3.medium"] != 3 {
		t.Errorf("points per market %v, want c3.xlarge and m3.medium with 3 each, r3.large dropped", got)
	}
	if c := f.calls()[0]; c["InstanceType.1"] != "c3.xlarge" || c["InstanceType.2"] != "m3.medium" || c["InstanceType.3"] != "" {
		t.Errorf("asked for %v", c)
	}
	if err := s.SetMarkets([]prices.Market{m3, {InstanceType: "x", Zone: "us-east-1a", Product: "Windows"}}); err == nil || !strings.Contains(err.Error(), "Windows") {
		t.Errorf("mixed products: %v", err)
	}
	// No markets (no spot node left): a refresh asks nothing and succeeds.
	if err := s.SetMarkets(nil); err != nil {
		t.Fatal(err)
	}
	f.ResetCalls()
	if err := s.Refresh(context.Background()); err != nil || len(f.Calls()) != 0 {
		t.Errorf("refresh with no markets: %v, %d calls", err, len(f.Calls()))
	}
}

func TestPlacementScores(t *testing.T) {
	f := newFake(100)
	f.SetScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az1", Score: 9}, ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az2", Score: 2},
		ec2fixture.Score{Region: "eu-west-3", ZoneID: "euw3-az1", Score: 5})
	srv := httptest.NewServer(f.Server)
	t.Cleanup(srv.Close)
	client := NewClient("us-east-1", srv.URL, credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), RetryOptions{MaxAttempts: 2, MaxBackoff: time.Millisecond})
	got, err := PlacementScores(context.Background(), client, "us-east-1", []string{"r3.large", "c3.xlarge"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["use1-az1"] != 9 || got["use1-az2"] != 2 {
		t.Errorf("scores %v, want us-east-1's two zones", got)
	}
	c := f.calls()[0]
	if c["Action"] != "GetSpotPlacementScores" || c["InstanceType.1"] != "c3.xlarge" || c["SingleAvailabilityZone"] != "true" || c["TargetCapacity"] != "10" || c["RegionName.1"] != "us-east-1" {
		t.Errorf("request %v", c)
	}
	f.SetScores(ec2fixture.Score{Region: "us-east-1", ZoneID: "use1-az1", Score: 11})
	if _, err := PlacementScores(context.Background(), client, "us-east-1", []string{"c3.xlarge"}, 10); err == nil || !strings.Contains(err.Error(), "score 11: want a zone ID and a score from 1 to 10") {
		t.Errorf("score 11: %v", err)
	}
	f.Fail("500")
	if _, err := PlacementScores(context.Background(), client, "us-east-1", []string{"c3.xlarge"}, 10); err == nil || !strings.Contains(err.Error(), "InternalError") {
		t.Errorf("failing endpoint: %v", err)
	}
	if _, err := PlacementScores(context.Background(), client, "us-east-1", nil, 10); err == nil {
		t.Error("no types: want an error")
	}
}
