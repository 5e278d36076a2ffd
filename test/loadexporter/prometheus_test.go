package loadexporter

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"k8s.io/utils/clock"

	"github.com/trimtab-dev/trimtab/simulate/replicasim"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// TestBackfillThenScrape backfills a week of a replayed trace into the local
// cluster's Prometheus with promtool, has it scrape the live exporter, and
// reads both back: the week at hourly resolution equals the replay, the
// live samples continue the series (no step in a query_range across the
// start) and Prometheus counted no out-of-bounds or out-of-order samples.
func TestBackfillThenScrape(t *testing.T) {
	cl := cluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	f, err := os.Open("../testdata/traffic/synth-smooth.csv")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := replicasim.ParseTrace(f, "", "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	ramp, err := RampTimeOfDay(tr)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Align(tr, start, ramp, 5*time.Minute, 7*day)
	if err != nil {
		t.Fatal(err)
	}
	// A workload name of its own, so a rerun on a reused cluster reads only
	// its own series.
	workload := "backfill-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	series := []Series{{Labels: map[string]string{"workload": workload}, Replay: r}}
	addr := serve(t, series)
	target := "http://" + addr + "/metrics"
	labels, err := cluster.ScrapeLabels(target)
	if err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "history.om")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteOpenMetrics(out, "trimtab_test_load", "Replayed load.", series, labels, start.Add(-7*day), start); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := cl.BackfillPrometheus(ctx, file); err != nil {
		t.Fatal(err)
	}
	t.Logf("BackfillPrometheus (promtool + load): %.1fs", time.Since(began).Seconds())
	base, err := cl.StartPrometheus(ctx, []string{target})
	if err != nil {
		t.Fatal(err)
	}
	client, err := promapi.NewClient(promapi.Config{Address: base})
	if err != nil {
		t.Fatal(err)
	}
	api := promv1.NewAPI(client)
	sel := fmt.Sprintf("trimtab_test_load{workload=%q}", workload)

	// The week, hourly: every point is the replay's value at that instant
	// (the instants are on the one-minute sample grid).
	week := promv1.Range{Start: start.Add(-7 * day), End: start.Add(-time.Minute), Step: time.Hour}
	points := queryRange(t, ctx, api, sel, week)
	if len(points) != 168 {
		t.Fatalf("range query over the backfilled week: %d points, want 168", len(points))
	}
	for _, p := range points {
		want, _ := r.Value(p.Timestamp.Time())
		if float64(p.Value) != want {
			t.Fatalf("at %s: %v, want the replay's %v", p.Timestamp.Time().Format(time.RFC3339), p.Value, want)
		}
	}

	// Live samples arrive after the backfilled ones.
	var raw []model.SamplePair
	poll(t, ctx, "live samples scraped", func() error {
		v, _, _, err := api.Query(ctx, sel+"[15m]", time.Now())
		if err != nil {
			return err
		}
		m, ok := v.(model.Matrix)
		if !ok || len(m) != 1 {
			return fmt.Errorf("got %v, want one series (backfill and scrape as one)", v)
		}
		raw = m[0].Values
		if n := len(raw); n == 0 || raw[n-1].Timestamp.Time().Before(start) {
			return fmt.Errorf("no sample after the start yet")
		}
		return nil
	})
	var lastBackfilled, firstLive time.Time
	for _, s := range raw {
		at := s.Timestamp.Time()
		if at.Before(start) {
			lastBackfilled = at
		} else if firstLive.IsZero() {
			firstLive = at
		}
		if want, _ := r.Value(at); float64(s.Value) != want && !nearMinute(at) {
			t.Errorf("sample at %s: %v, want the replay's %v", at.Format(time.RFC3339Nano), s.Value, want)
		}
	}
	gap := firstLive.Sub(lastBackfilled)
	t.Logf("last backfilled sample %s, first scraped %s: %.0fs apart", lastBackfilled.Format(time.RFC3339), firstLive.Format(time.RFC3339), gap.Seconds())
	// Prometheus looks back 5 minutes for an instant's value, so a range
	// query sees one series without a hole if the two are closer than that.
	if gap <= 0 || gap >= 5*time.Minute {
		t.Errorf("backfill and scrape %s apart: want 0 < gap < 5m", gap)
	}
	across := queryRange(t, ctx, api, sel, promv1.Range{Start: start.Add(-10 * time.Minute), End: raw[len(raw)-1].Timestamp.Time(), Step: 15 * time.Second})
	if want := int(raw[len(raw)-1].Timestamp.Time().Sub(start.Add(-10*time.Minute))/(15*time.Second)) + 1; len(across) != want {
		t.Errorf("range query across the start: %d points, want %d (one per step, no hole)", len(across), want)
	}

	for _, m := range []string{
		"prometheus_tsdb_out_of_bound_samples_total", "prometheus_tsdb_out_of_order_samples_total",
		"prometheus_target_scrapes_sample_out_of_bounds_total", "prometheus_target_scrapes_sample_out_of_order_total",
	} {
		if v := selfMetric(t, ctx, base, m); v != 0 {
			t.Errorf("%s = %v, want 0", m, v)
		}
	}
}

// nearMinute: a scrape within a second of a sample boundary may see either
// side of it (the exporter's clock and Prometheus's differ by the scrape's
// latency).
func nearMinute(at time.Time) bool {
	d := at.Sub(at.Truncate(time.Minute))
	return d < time.Second || d > time.Minute-time.Second
}

// serve serves the series on 127.0.0.1 until the test ends.
func serve(t *testing.T, series []Series) string {
	c, err := NewCollector("trimtab_test_load", "Replayed load.", series, clock.RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func queryRange(t *testing.T, ctx context.Context, api promv1.API, q string, rng promv1.Range) []model.SamplePair {
	t.Helper()
	v, _, _, err := api.QueryRange(ctx, q, rng)
	if err != nil {
		t.Fatalf("query_range %s: %v", q, err)
	}
	m, ok := v.(model.Matrix)
	if !ok || len(m) != 1 {
		t.Fatalf("query_range %s over %s..%s: got %v, want one series", q, rng.Start.Format(time.RFC3339), rng.End.Format(time.RFC3339), v)
	}
	return m[0].Values
}

// selfMetric reads an unlabelled metric (or the sum of its series) from
// Prometheus's own /metrics.
func selfMetric(t *testing.T, ctx context.Context, base, name string) float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || (f[0] != name && !strings.HasPrefix(f[0], name+"{")) {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		sum, found = sum+v, true
	}
	if !found {
		t.Fatalf("no %s in %s/metrics", name, base)
	}
	return sum
}

// poll retries check every 200 ms until it succeeds or ctx ends.
func poll(t *testing.T, ctx context.Context, what string, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: gave up: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
