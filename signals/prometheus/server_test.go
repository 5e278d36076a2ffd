package prometheus

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
