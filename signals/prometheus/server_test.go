package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The tests here run Debian's Prometheus (/usr/bin/prometheus, installed by
// `bash test/cluster/tools/apt.sh prometheus`, which `make test` runs) on
// 127.0.0.1 with its storage in a temporary directory, scraping exporters
// the test serves with client_golang's promhttp. They need no cluster.

const (
	prometheusBin = "/usr/bin/prometheus"
	promtoolBin   = "/usr/bin/promtool"
)

// server is a Prometheus the test started.
type server struct {
	URL  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// target is an exporter Prometheus scrapes, at an interval ("1s").
type target struct{ addr, interval string }

// startServer runs Prometheus scraping targets, each scrape timing out at
// its interval.
// backfill, when set, is OpenMetrics text loaded with promtool before start.
// The process is killed, by its PID, when the test ends.
func startServer(tb testing.TB, targets []target, backfill string) *server {
	tb.Helper()
	if _, err := os.Stat(prometheusBin); err != nil {
		if testing.Short() {
			tb.Skipf("%s missing; skipped with -short", prometheusBin)
		}
		tb.Fatalf("%s missing: run `bash test/cluster/tools/apt.sh prometheus`", prometheusBin)
	}
	dir, err := os.MkdirTemp("", "trimtab-prometheus-")
	if err != nil {
		tb.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if backfill != "" {
		in := filepath.Join(dir, "backfill.om")
		if err := os.WriteFile(in, []byte(backfill), 0o644); err != nil {
			tb.Fatal(err)
		}
		// Two-hour blocks (promtool's default) would make a week 84 blocks;
		// one 8-day block loads faster.
		out, err := exec.Command(promtoolBin, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=192h", in, data).CombinedOutput()
		if err != nil {
			tb.Fatalf("promtool backfill: %v\n%s", err, out)
		}
	}
	var jobs strings.Builder
	for _, t := range targets {
		fmt.Fprintf(&jobs, "  - job_name: %q\n    scrape_interval: %s\n    scrape_timeout: %s\n    static_configs: [{targets: [%q]}]\n", t.addr, t.interval, t.interval, t.addr)
	}
	conf := "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\nscrape_configs:\n" + jobs.String()
	if len(targets) == 0 {
		conf = "global: {scrape_interval: 1s}\n"
	}
	confFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	port := freePort(tb)
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(prometheusBin,
		"--config.file="+confFile,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=30d",
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &server{URL: "http://127.0.0.1:" + strconv.Itoa(port), dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	tb.Cleanup(func() {
		s.stop()
		_ = log.Close()
		if !tb.Failed() {
			_ = os.RemoveAll(dir)
		} else {
			tb.Logf("prometheus kept its directory for a look: %s", dir)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			b, _ := os.ReadFile(log.Name())
			tb.Fatalf("prometheus exited at start:\n%s", b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("prometheus not ready within 60s (log %s)", log.Name())
		}
	}
}

// stop kills Prometheus by its PID and waits for it to exit.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort(tb testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

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
