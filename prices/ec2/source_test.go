package ec2

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/trimtab-dev/trimtab/prices"
)

// item is one spot price the fake EC2 endpoint knows.
type item struct {
	typ, zone, product, price string
	t                         time.Time
}

// fakeEC2 speaks the EC2 Query protocol for DescribeSpotPriceHistory: form-
// encoded POSTs signed with SigV4, XML responses in the documented shape,
// nextToken pagination and EC2's XML error envelope.
type fakeEC2 struct {
	t        *testing.T
	mu       sync.Mutex
	items    []item
	pageSize int
	throttle int    // answer this many next calls with RequestLimitExceeded
	fail     string // "garbage" answers unparseable XML, "500" an internal error
	calls    []map[string]string
}

func (f *fakeEC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("parsing form: %v", err)
	}
	form := map[string]string{}
	for k, v := range r.PostForm {
		form[k] = v[0]
	}
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, form)
	if r.Method != http.MethodPost || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth, "/us-east-1/ec2/aws4_request") {
		writeErr(w, 401, "AuthFailure", fmt.Sprintf("unsigned or mis-scoped request (method %s, Authorization %q)", r.Method, auth))
		return
	}
	if form["Action"] != "DescribeSpotPriceHistory" || form["Version"] == "" {
		writeErr(w, 400, "InvalidAction", "unexpected action "+form["Action"])
		return
	}
	if f.throttle > 0 {
		f.throttle--
		writeErr(w, 503, "RequestLimitExceeded", "Request limit exceeded.")
		return
	}
	switch f.fail {
	case "garbage":
		fmt.Fprint(w, "<DescribeSpotPriceHistoryResponse><spotPriceHistorySet><item><spotPrice>")
		return
	case "500":
		writeErr(w, 500, "InternalError", "An internal error has occurred")
		return
	}
	start, _ := time.Parse(time.RFC3339, form["StartTime"])
	zones := map[string]bool{}
	for k, v := range form {
		if strings.HasPrefix(k, "Filter.1.Value.") {
			zones[v] = true
		}
	}
	var match []item
	for _, it := range f.items {
		if (it.t.After(start) || it.t.Equal(start)) && zones[it.zone] && it.product == form["ProductDescription.1"] {
			match = append(match, it)
		}
	}
	off := 0
	fmt.Sscanf(form["NextToken"], "tok-%d", &off)
	end := min(off+f.pageSize, len(match))
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<DescribeSpotPriceHistoryResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <spotPriceHistorySet>`)
	for _, it := range match[off:end] {
		fmt.Fprintf(&b, `
    <item>
      <instanceType>%s</instanceType>
      <productDescription>%s</productDescription>
      <spotPrice>%s</spotPrice>
      <timestamp>%s</timestamp>
      <availabilityZone>%s</availabilityZone>
    </item>`, it.typ, it.product, it.price, it.t.Format("2006-01-02T15:04:05.000Z"), it.zone)
	}
	b.WriteString("\n  </spotPriceHistorySet>\n")
	if end < len(match) {
		fmt.Fprintf(&b, "  <nextToken>tok-%d</nextToken>\n", end)
	} else {
		b.WriteString("  <nextToken/>\n")
	}
	b.WriteString("</DescribeSpotPriceHistoryResponse>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprint(w, b.String())
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`, code, msg)
}

var t0 = time.Date(2015, 3, 11, 16, 0, 0, 0, time.UTC)

func newTestSource(t *testing.T, f *fakeEC2, now *time.Time) *Source {
	t.Helper()
	srv := httptest.NewServer(f) // listens on 127.0.0.1 only
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

func items(n int, typ string, from time.Time) []item {
	var out []item
	for i := 0; i < n; i++ {
		out = append(out, item{typ: typ, zone: "us-east-1a", product: prices.ProductLinux, price: fmt.Sprintf("0.%04d", 300+i), t: from.Add(time.Duration(i) * time.Minute)})
	}
	return out
}

func TestRefreshPaginatesAndIsIncremental(t *testing.T) {
	f := &fakeEC2{t: t, pageSize: 3}
	f.items = append(items(5, "c3.xlarge", t0.Add(-50*time.Minute)), items(2, "r3.large", t0.Add(-30*time.Minute))...)
	f.items = append(f.items, item{typ: "c3.xlarge", zone: "us-east-1b", product: prices.ProductLinux, price: "9", t: t0.Add(-10 * time.Minute)})
	now := t0
	s := newTestSource(t, f, &now)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(f.calls); got != 3 { // 7 items in the zone, 3 per page
		t.Errorf("calls = %d, want 3 pages", got)
	}
	if f.calls[1]["NextToken"] != "tok-3" || f.calls[0]["InstanceType.1"] != "c3.xlarge" || f.calls[0]["Filter.1.Name"] != "availability-zone" {
		t.Errorf("request parameters not as expected: %v", f.calls[1])
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
	f.items = append(f.items, items(2, "r3.large", t0.Add(5*time.Minute))...)
	f.calls = nil
	now = t0.Add(10 * time.Minute)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := f.calls[0]["StartTime"]; st != t0.Add(-46*time.Minute).Format("2006-01-02T15:04:05Z") {
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
	f := &fakeEC2{t: t, pageSize: 10, throttle: 2, items: items(3, "c3.xlarge", t0.Add(-5*time.Minute))}
	now := t0
	s := newTestSource(t, f, &now)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatalf("two throttles within 4 attempts should be retried away: %v", err)
	}
	if len(f.calls) != 3 {
		t.Errorf("calls = %d, want 2 throttled + 1 good", len(f.calls))
	}
}

func TestRefreshFailureKeepsLastKnown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(f *fakeEC2)
		wantText string
	}{
		{"throttled beyond retries", func(f *fakeEC2) { f.throttle = 100 }, "RequestLimitExceeded"},
		{"internal error", func(f *fakeEC2) { f.fail = "500" }, "InternalError"},
		{"truncated xml", func(f *fakeEC2) { f.fail = "garbage" }, "DescribeSpotPriceHistory page 1"},
		{"negative price", func(f *fakeEC2) {
			f.items = append(f.items, item{typ: "c3.xlarge", zone: "us-east-1a", product: prices.ProductLinux, price: "-1", t: t0.Add(time.Minute)})
		}, `spotPrice "-1"`},
		{"non-numeric price", func(f *fakeEC2) {
			f.items = append(f.items, item{typ: "r3.large", zone: "us-east-1a", product: prices.ProductLinux, price: "cheap", t: t0.Add(time.Minute)})
		}, `spotPrice "cheap"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEC2{t: t, pageSize: 10, items: items(3, "c3.xlarge", t0.Add(-5*time.Minute))}
			now := t0
			s := newTestSource(t, f, &now)
			if err := s.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			tc.setup(f)
			f.items = append(f.items, items(1, "c3.xlarge", t0.Add(2*time.Minute))...)
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
