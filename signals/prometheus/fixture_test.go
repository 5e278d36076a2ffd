package prometheus

// The fixture: exporters served with promhttp, and the one Prometheus the
// tests and benchmarks share, with a week of backfilled history.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// exporter serves a registry on 127.0.0.1 until stopped or the test ends.
type exporter struct {
	Addr string
	srv  *http.Server
}

func serve(tb testing.TB, reg *prom.Registry) *exporter {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	e := &exporter{Addr: ln.Addr().String(), srv: &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = e.srv.Serve(ln) }()
	tb.Cleanup(e.Stop)
	return e
}

// Stop closes the exporter: its next scrape fails, and Prometheus marks its
// series stale.
func (e *exporter) Stop() { _ = e.srv.Close() }

// fixture is the Prometheus most tests and the benchmarks share, with what
// it scrapes.
type fixture struct {
	srv *server
	// main serves the static gauges and the CPU counters; bench the
	// benchmarks' 10,000 series, scraped every 5s (a 1s scrape of them can
	// time out on a busy machine, and a failed scrape marks every series
	// stale); doomed is stopped by the stale test.
	main, bench, doomed *exporter
	// started is when the CPU counters started counting.
	started time.Time
	// weekEnd is the last backfilled minute.
	weekEnd time.Time
}

// Series the fixture serves and backfills.
const (
	benchWorkloads = 10_000
	// gapStart and gapLen place the backfilled history's gap, counted back
	// from its end.
	gapStart = 30 * time.Hour
	gapLen   = 2 * time.Hour
	// historyWorkloads have a week of backfilled one-minute history.
	historyWorkloads = 50
)

// podCores are the fake cAdvisor's pods and their CPU use.
var podCores = map[[2]string]float64{
	{"shop", "web-1"}: 0.5, {"shop", "web-2"}: 0.25, {"billing", "api-1"}: 1,
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	fixtureErr  error
)

// sharedFixture starts the fixture once per test binary. Its processes are
// ended by TestMain.
func sharedFixture(tb testing.TB) *fixture {
	tb.Helper()
	fixtureOnce.Do(func() {
		rec := &recorder{}
		fixtureRecorder = rec
		defer func() {
			if r := recover(); r != nil && r != errFatal {
				panic(r)
			}
			if rec.failed {
				fixtureErr = errors.New(strings.Join(rec.logs, "\n"))
			}
		}()
		shared = newFixture(rec)
	})
	if fixtureErr != nil {
		tb.Fatalf("starting prometheus: %v", fixtureErr)
	}
	if shared == nil {
		tb.Skip("prometheus not installed; skipped with -short")
	}
	return shared
}

func newFixture(tb testing.TB) *fixture {
	f := &fixture{started: time.Now()}
	reg := prom.NewRegistry()
	load := prom.NewGaugeVec(prom.GaugeOpts{Name: "trimtab_test_load", Help: "Static loads."}, []string{"workload"})
	load.WithLabelValues("shop").Set(500)
	load.WithLabelValues("billing").Set(42.5)
	reg.MustRegister(load)
	multi := prom.NewGaugeVec(prom.GaugeOpts{Name: "trimtab_test_multi", Help: "Three series where one is expected."}, []string{"replica"})
	for _, r := range []string{"a", "b", "c"} {
		multi.WithLabelValues(r).Set(1)
	}
	reg.MustRegister(multi)
	for k, cores := range podCores {
		reg.MustRegister(prom.NewCounterFunc(prom.CounterOpts{
			Name: "container_cpu_usage_seconds_total", Help: "Fake cAdvisor CPU time.",
			ConstLabels: prom.Labels{"namespace": k[0], "pod": k[1], "container": "app"},
		}, func() float64 { return cores * time.Since(f.started).Seconds() }))
	}
	// The pod-level cgroup series cAdvisor also exports (container=""):
	// PodCPU must not count it.
	reg.MustRegister(prom.NewCounterFunc(prom.CounterOpts{
		Name: "container_cpu_usage_seconds_total", Help: "Fake cAdvisor CPU time.",
		ConstLabels: prom.Labels{"namespace": "shop", "pod": "web-1", "container": ""},
	}, func() float64 { return 100 * time.Since(f.started).Seconds() }))
	f.main = serve(tb, reg)

	benchReg := prom.NewRegistry()
	bench := prom.NewGaugeVec(prom.GaugeOpts{Name: "trimtab_bench_load", Help: "One series per benchmark workload."}, []string{"workload"})
	for i := range benchWorkloads {
		bench.WithLabelValues("w" + strconv.Itoa(i)).Set(float64(i))
	}
	benchReg.MustRegister(bench)
	f.bench = serve(tb, benchReg)

	doomedReg := prom.NewRegistry()
	doomed := prom.NewGauge(prom.GaugeOpts{Name: "trimtab_test_doomed", Help: "Stops being served."})
	doomed.Set(7)
	doomedReg.MustRegister(doomed)
	doomedCounter := prom.NewCounterFunc(prom.CounterOpts{Name: "trimtab_test_doomed_total", Help: "Stops being served."},
		func() float64 { return 10 * time.Since(f.started).Seconds() })
	doomedReg.MustRegister(doomedCounter)
	f.doomed = serve(tb, doomedReg)

	f.weekEnd = time.Now().Add(-time.Hour).Truncate(time.Minute)
	f.srv = startServer(tb, []target{{f.main.Addr, "1s"}, {f.bench.Addr, "5s"}, {f.doomed.Addr, "1s"}}, history(f.weekEnd))
	return f
}

// history is a week of one-minute samples for historyWorkloads series,
// trimtab_history_load{workload="h<i>"} = i + minute of the day / 1440, with
// no samples in the gap.
func history(end time.Time) string {
	var b strings.Builder
	b.WriteString("# HELP trimtab_history_load Backfilled load.\n# TYPE trimtab_history_load gauge\n")
	start := end.Add(-7 * 24 * time.Hour)
	gapFrom, gapTo := end.Add(-gapStart), end.Add(-gapStart+gapLen)
	for i := range historyWorkloads {
		for t := start; !t.After(end); t = t.Add(time.Minute) {
			if !t.Before(gapFrom) && t.Before(gapTo) {
				continue
			}
			fmt.Fprintf(&b, "trimtab_history_load{workload=\"h%d\"} %g %d\n", i, historyValue(i, t), t.Unix())
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

func historyValue(i int, t time.Time) float64 {
	return float64(i) + float64(t.Hour()*60+t.Minute())/1440
}

// waitFor polls check every 200 ms for up to a minute: the fixture's
// scrapes land a second or so after start.
func waitFor(tb testing.TB, what string, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: gave up after a minute: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// client returns a Client of the fixture's Prometheus.
func (f *fixture) client(tb testing.TB, cfg Config) *Client {
	tb.Helper()
	cfg.Address = f.srv.URL
	c, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// ready waits until the fixture's exporters have been scraped.
func (f *fixture) ready(tb testing.TB) {
	tb.Helper()
	c := f.client(tb, Config{})
	waitFor(tb, "fixture scraped", func() error {
		rs := c.Instant(context.Background(), []string{
			`count(count_over_time(trimtab_bench_load[1m]) >= 2)`,
			`count(count_over_time(container_cpu_usage_seconds_total[1m]) >= 3)`,
		}, time.Now())
		for _, r := range rs {
			if r.Err != nil {
				return r.Err
			}
		}
		if rs[0].Value != benchWorkloads {
			return fmt.Errorf("%d bench series scraped twice, want %d", int(rs[0].Value), benchWorkloads)
		}
		if rs[1].Value != float64(len(podCores)+1) {
			return fmt.Errorf("%v CPU series with 3 samples, want %d", rs[1].Value, len(podCores)+1)
		}
		return nil
	})
}

// recorder is a testing.TB for starting the shared fixture outside any one
// test: it collects failures instead of failing a test.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	logs     []string
	failed   bool
	cleanups []func()
}

var errFatal = errors.New("fixture failed")

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.mu.Lock(); r.cleanups = append(r.cleanups, f); r.mu.Unlock() }
func (r *recorder) Failed() bool     { return r.failed }
func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Logf(format, args...)
	r.failed = true
	panic(errFatal)
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skipf(format string, args ...any) {
	r.Logf(format, args...)
	panic(errFatal)
}

// fixtureRecorder is the recorder of the shared fixture, for TestMain.
var fixtureRecorder *recorder

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureRecorder != nil {
		for i := len(fixtureRecorder.cleanups) - 1; i >= 0; i-- {
			fixtureRecorder.cleanups[i]()
		}
	}
	os.Exit(code)
}
