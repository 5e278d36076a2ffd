package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestInstantAgainstPrometheus reads a batch of expressions from a real
// Prometheus: good ones of each kind beside every kind of failure, in one
// call, each failure confined to its own expression.
func TestInstantAgainstPrometheus(t *testing.T) {
	f := sharedFixture(t)
	f.ready(t)
	c := f.client(t, Config{})
	at := time.Now()
	cases := []struct {
		expr string
		want float64
		err  error  // a sentinel the result must wrap; nil for a value
		msg  string // a substring of the error
	}{
		{expr: `sum(trimtab_test_load{workload="shop"})`, want: 500},
		{expr: `trimtab_test_load{workload="billing"}`, want: 42.5},
		{expr: `500`, want: 500},                                            // a scalar
		{expr: `scalar(trimtab_test_load{workload="shop"}) / 4`, want: 125}, // a scalar with a selector
		{expr: `vector(3)`, want: 3},
		{expr: "sum(trimtab_test_load) # all workloads", want: 542.5}, // a comment ends at the line's end
		{expr: "scalar(trimtab_test_load{workload=\"shop\"}) # a scalar", want: 500},
		{expr: `sum(trimtab_test_multi)`, want: 3},
		{expr: `trimtab_test_multi`, err: ErrManySeries, msg: `3 series, e.g. trimtab_test_multi{`},
		{expr: `trimtab_test_absent`, err: ErrEmpty},
		{expr: `sum(rate(trimtab_test_load[1m]`, err: ErrBadExpression, msg: "unclosed left parenthesis"},
		{expr: `trimtab_test_load[5m]`, err: ErrBadExpression, msg: "is a range vector"},
		{expr: `"text"`, err: ErrBadExpression, msg: "is a string"},
		// Parses, fails to evaluate: only Prometheus can tell.
		{expr: `trimtab_test_multi + on(replica) group_left trimtab_test_load`, err: ErrBadExpression},
		{expr: `sum(trimtab_test_load) / 0`, err: ErrNotFinite, msg: "+Inf"},
		{expr: `sum(trimtab_test_load{workload="shop"})`, want: 500}, // a duplicate, answered once
	}
	exprs := make([]string, len(cases))
	for i, tc := range cases {
		exprs[i] = tc.expr
	}
	before := c.Stats()
	rs := c.Instant(context.Background(), exprs, at)
	sent := c.Stats().Requests - before.Requests
	for i, tc := range cases {
		r := rs[i]
		if r.Expr != tc.expr {
			t.Errorf("result %d answers %q, want %q", i, r.Expr, tc.expr)
		}
		if tc.err == nil {
			if r.Err != nil || r.Value != tc.want {
				t.Errorf("%s = %v, %v; want %v", tc.expr, r.Value, r.Err, tc.want)
			}
			if r.At.After(at) || at.Sub(r.At) > 10*time.Second {
				t.Errorf("%s: At %s, want the newest sample, at most seconds before %s", tc.expr, r.At, at)
			}
			continue
		}
		if !errors.Is(r.Err, tc.err) || !strings.Contains(r.Err.Error(), tc.msg) || !strings.Contains(r.Err.Error(), strconv.Quote(tc.expr)) {
			t.Errorf("%s: error %v; want one wrapping %q, containing %q and naming the expression", tc.expr, r.Err, tc.err, tc.msg)
		}
		var ee *ExprError
		if !errors.As(r.Err, &ee) || ee.Expr != tc.expr {
			t.Errorf("%s: error %#v is not an *ExprError naming it", tc.expr, r.Err)
		}
	}
	// One batch of the 10 distinct expressions that parse, failed by the
	// many-to-many one, then bisected: at most 2·⌈log2 10⌉ more requests.
	t.Logf("%d expressions (3 rejected locally, one duplicate) in %d requests", len(cases), sent)
	if sent < 2 || sent > 1+2*4 {
		t.Errorf("%d requests, want one batch plus a bisection (2-9)", sent)
	}
}

// TestInstantBadExpressionIsolated puts one expression Prometheus cannot
// evaluate among 200 good ones: the bad one fails alone and bisection
// finds it in about 2·log2(200) requests.
func TestInstantBadExpressionIsolated(t *testing.T) {
	f := sharedFixture(t)
	f.ready(t)
	c := f.client(t, Config{})
	var exprs []string
	for i := range 200 {
		exprs = append(exprs, `sum(trimtab_bench_load{workload="w`+strconv.Itoa(i)+`"})`)
	}
	bad := `trimtab_test_multi + on(replica) group_left trimtab_test_load`
	exprs[137] = bad
	before := c.Stats().Requests
	rs := c.Instant(context.Background(), exprs, time.Now())
	sent := c.Stats().Requests - before
	for i, r := range rs {
		if i == 137 {
			if !errors.Is(r.Err, ErrBadExpression) || !strings.Contains(r.Err.Error(), "many-to-many") {
				t.Errorf("bad expression: %v, want ErrBadExpression with Prometheus' reason", r.Err)
			}
			continue
		}
		if r.Err != nil || r.Value != float64(i) {
			t.Errorf("%s = %v, %v; want %d", r.Expr, r.Value, r.Err, i)
		}
	}
	t.Logf("200 expressions, one bad: %d requests", sent)
	if sent > 1+2*8 {
		t.Errorf("%d requests, want at most %d", sent, 1+2*8)
	}
}

// TestInstantStale stops an exporter: its gauge leaves instant results at
// once (ErrEmpty), and a rate over it, which still has a value from older
// samples, is ErrStale.
func TestInstantStale(t *testing.T) {
	f := sharedFixture(t)
	f.ready(t)
	c := f.client(t, Config{})
	exprs := []string{`trimtab_test_doomed`, `rate(trimtab_test_doomed_total[5m])`, `sum(trimtab_test_load)`}
	waitFor(t, "doomed series scraped twice", func() error {
		for _, r := range c.Instant(context.Background(), exprs, time.Now()) {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	})
	f.doomed.Stop()
	waitFor(t, "doomed gauge marked stale", func() error {
		rs := c.Instant(context.Background(), exprs, time.Now())
		if !errors.Is(rs[0].Err, ErrEmpty) {
			return errors.New("gauge still has a value")
		}
		if !errors.Is(rs[1].Err, ErrStale) {
			t.Fatalf("rate over the stopped target: %v, want ErrStale", rs[1].Err)
		}
		if rs[2].Err != nil {
			t.Fatalf("another target's series: %v", rs[2].Err)
		}
		t.Logf("stale: %v", rs[1].Err)
		return nil
	})
	// A rate whose newest sample is older than MaxSampleAge: read 50s from
	// now, when its 1m window still holds samples.
	strict := f.client(t, Config{MaxSampleAge: 30 * time.Second})
	r := strict.Instant(context.Background(), []string{`sum(rate(trimtab_test_load[1m]))`}, time.Now().Add(50*time.Second))[0]
	if !errors.Is(r.Err, ErrStale) || !strings.Contains(r.Err.Error(), "old at") {
		t.Errorf("a 50s-old sample with MaxSampleAge 30s: %v, want ErrStale", r.Err)
	}
}

// TestPodCPU reads the fake cAdvisor's counters: per pod, the pod-level
// cgroup series (container="") left out, one request for all namespaces.
// The rate window is 10s (ten 1s scrapes) rather than the default 2m: a
// series younger than its window reads low, as rate() spreads the increase
// over the whole window.
func TestPodCPU(t *testing.T) {
	f := sharedFixture(t)
	f.ready(t)
	c := f.client(t, Config{CPURateWindow: 10 * time.Second})
	waitFor(t, "per-pod CPU within 5% of the truth", func() error {
		before := c.Stats().Requests
		at := time.Now()
		pods, err := c.PodCPU(context.Background(), []string{"shop", "billing", "empty"}, at)
		if err != nil {
			t.Fatal(err)
		}
		if n := c.Stats().Requests - before; n != 1 {
			t.Fatalf("%d requests for three namespaces, want 1", n)
		}
		if len(pods) != len(podCores) {
			t.Fatalf("got %+v, want %d pods", pods, len(podCores))
		}
		for i, p := range pods {
			if i > 0 && (pods[i-1].Namespace > p.Namespace || pods[i-1].Namespace == p.Namespace && pods[i-1].Pod > p.Pod) {
				t.Fatalf("not sorted: %+v", pods)
			}
			if at.Sub(p.At) > 5*time.Second || p.At.After(at) {
				t.Fatalf("%s/%s: At %s, want the newest scrape before %s", p.Namespace, p.Pod, p.At, at)
			}
			if want := podCores[[2]string{p.Namespace, p.Pod}]; math.Abs(p.Cores-want) > 0.05*want {
				return fmt.Errorf("%s/%s: %.3f cores, want %.3f±5%%", p.Namespace, p.Pod, p.Cores, want)
			}
		}
		return nil
	})
	none, err := c.PodCPU(context.Background(), nil, time.Now())
	if err != nil || len(none) != 0 {
		t.Errorf("no namespaces: %v, %v", none, err)
	}
}

// TestRangeWeek reads a backfilled week at one-minute steps: one request
// for 10,081 points, the gap kept as missing points, never zeros.
func TestRangeWeek(t *testing.T) {
	f := sharedFixture(t)
	c := f.client(t, Config{})
	from, to := f.weekEnd.Add(-7*24*time.Hour), f.weekEnd
	before := c.Stats().Requests
	start := time.Now()
	s := c.Range(context.Background(), []string{`trimtab_history_load{workload="h3"}`}, from, to, time.Minute)[0]
	t.Logf("a week at 1m: %d points, %d requests, %s", len(s.Points), c.Stats().Requests-before, time.Since(start).Round(time.Millisecond))
	if s.Err != nil {
		t.Fatal(s.Err)
	}
	if n := c.Stats().Requests - before; n != 1 {
		t.Errorf("%d requests, want 1 (10,081 points fit under 11,000)", n)
	}
	// Prometheus carries a sample forward for up to 5 minutes (the lookback
	// delta), so the steps without a value are the gap less its first 5.
	gapFrom, gapTo := f.weekEnd.Add(-gapStart), f.weekEnd.Add(-gapStart+gapLen)
	visibleFrom := gapFrom.Add(5 * time.Minute)
	wantMissing := int(gapTo.Sub(visibleFrom) / time.Minute) // [visibleFrom, gapTo)
	if want := 7*24*60 + 1 - wantMissing; len(s.Points) != want {
		t.Errorf("%d points, want %d (a week less the gap's %d)", len(s.Points), want, wantMissing)
	}
	for _, p := range s.Points {
		if !p.At.Before(visibleFrom) && p.At.Before(gapTo) {
			t.Fatalf("a point at %s inside the gap", p.At)
		}
		if p.Value < 3 || p.Value >= 4 {
			t.Fatalf("point %v: want a value of the backfilled series (3 ≤ v < 4), never a zero", p)
		}
	}
	for i := 1; i < len(s.Points); i++ {
		if !s.Points[i].At.After(s.Points[i-1].At) {
			t.Fatalf("points out of order at %d", i)
		}
	}

	// Finer steps are chunked under 11,000 points; the chunks join without
	// a missing or doubled step.
	before = c.Stats().Requests
	fine := c.Range(context.Background(), []string{`trimtab_history_load{workload="h3"}`}, from, to, 15*time.Second)[0]
	if fine.Err != nil {
		t.Fatal(fine.Err)
	}
	if n := c.Stats().Requests - before; n != 4 {
		t.Errorf("a week at 15s: %d requests, want 4 (40,321 points / 11,000)", n)
	}
	jumps := 0
	for i := 1; i < len(fine.Points); i++ {
		if d := fine.Points[i].At.Sub(fine.Points[i-1].At); d != 15*time.Second {
			jumps++
			// The last sample before the gap is a minute before gapFrom,
			// carried forward for 5 minutes.
			if lastBefore := gapFrom.Add(4 * time.Minute); d != gapTo.Sub(lastBefore) {
				t.Errorf("step %d: %s after the previous point, want 15s, or the gap", i, d)
			}
		}
	}
	if jumps != 1 {
		t.Errorf("%d jumps between 15s points, want 1 (the gap)", jumps)
	}

	// Many series and bad expressions fail alone in a batch.
	rs := c.Range(context.Background(), []string{`trimtab_history_load{workload=~"h1|h2"}`, `sum(trimtab_history_load{workload="h1"})`, `sum(`}, from, to, time.Minute)
	if !errors.Is(rs[0].Err, ErrManySeries) {
		t.Errorf("all history series: %v, want ErrManySeries", rs[0].Err)
	}
	if rs[1].Err != nil || len(rs[1].Points) != len(s.Points) {
		t.Errorf("h1: %d points, %v; want %d", len(rs[1].Points), rs[1].Err, len(s.Points))
	}
	if !errors.Is(rs[2].Err, ErrBadExpression) {
		t.Errorf("`sum(`: %v, want ErrBadExpression", rs[2].Err)
	}
	// No history yet is no points and no error.
	if r := c.Range(context.Background(), []string{`trimtab_never_seen`}, from, to, time.Minute)[0]; r.Err != nil || len(r.Points) != 0 {
		t.Errorf("an unknown series: %d points, %v; want none, no error", len(r.Points), r.Err)
	}
}

// TestPrometheusDown: a stopped Prometheus (connection refused) and one
// that accepts but never answers both fail fast with ErrUnavailable, and
// fail every expression without bisecting.
func TestPrometheusDown(t *testing.T) {
	s := startServer(t, nil, "")
	s.stop()
	c, err := New(Config{Address: s.URL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rs := c.Instant(context.Background(), []string{"vector(1)", "up", "sum(up)"}, time.Now())
	for _, r := range rs {
		if !errors.Is(r.Err, ErrUnavailable) || !strings.Contains(r.Err.Error(), "connection refused") {
			t.Errorf("%s: %v, want ErrUnavailable: connection refused", r.Expr, r.Err)
		}
	}
	if _, err := c.PodCPU(context.Background(), []string{"shop"}, time.Now()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("PodCPU: %v, want ErrUnavailable", err)
	}
	if n := c.Stats().Requests; n != 2 {
		t.Errorf("%d requests, want 2: an outage is not bisected", n)
	}
	t.Logf("connection refused after %s", time.Since(start).Round(time.Millisecond))

	// A server that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	hung, err := New(Config{Address: "http://" + ln.Addr().String(), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	r := hung.Range(context.Background(), []string{"up"}, time.Now().Add(-time.Hour), time.Now(), time.Minute)[0]
	if took := time.Since(start); !errors.Is(r.Err, ErrUnavailable) || took > 5*time.Second {
		t.Errorf("hung server: %v after %s, want ErrUnavailable within the 500ms timeout", r.Err, took)
	}
}
