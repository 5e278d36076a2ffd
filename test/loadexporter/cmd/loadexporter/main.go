// Command loadexporter serves recorded traffic traces as a Prometheus gauge,
// replayed on the wall clock, and writes the week of history before its
// start for backfilling (package loadexporter).
//
//	loadexporter -trace web=test/testdata/traffic/synth-smooth.csv \
//	    -listen 127.0.0.1:9400 -lead 5m -backfill /tmp/history.om
//
// serves trimtab_test_load{workload="web"} on http://127.0.0.1:9400/metrics,
// aligned so the trace's daily ramp arrives 5 minutes after start, and first
// writes the 7 days before start to /tmp/history.om, labelled as the local
// cluster's Prometheus labels what it scrapes from -listen. Import that with
// `localcluster up -prometheus-backfill /tmp/history.om` (before Prometheus
// starts, or it waits up to a minute for Prometheus to load it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/utils/clock"

	"github.com/trimtab-dev/trimtab/simulate/replicasim"
	"github.com/trimtab-dev/trimtab/test/cluster"
	"github.com/trimtab-dev/trimtab/test/loadexporter"
)

type traces []string

func (t *traces) String() string     { return strings.Join(*t, ",") }
func (t *traces) Set(s string) error { *t = append(*t, s); return nil }

func main() {
	var tr traces
	flag.Var(&tr, "trace", "WORKLOAD=CSV: a trace (time,value columns) to replay as workload=WORKLOAD; repeatable")
	listen := flag.String("listen", "127.0.0.1:9400", "address to serve /metrics on")
	metric := flag.String("metric", "trimtab_test_load", "name of the gauge")
	rampAt := flag.Duration("ramp-at", -1, "time of day of the ramp on the traces' clock (e.g. 8h); default: each trace's steepest hourly rise")
	lead := flag.Duration("lead", 5*time.Minute, "how long after start the daily ramp arrives")
	history := flag.Duration("history", 7*24*time.Hour, "history before start that -backfill writes")
	startFlag := flag.String("start", "", "wall-clock start (RFC3339); default now, to the minute")
	backfill := flag.String("backfill", "", "write the history before start as OpenMetrics to this file")
	serve := flag.Bool("serve", true, "serve /metrics; -serve=false only writes -backfill")
	flag.Parse()
	if err := run(tr, *listen, *metric, *rampAt, *lead, *history, *startFlag, *backfill, *serve); err != nil {
		fmt.Fprintln(os.Stderr, "loadexporter:", err)
		os.Exit(1)
	}
}

func run(tr traces, listen, metric string, rampAt, lead, history time.Duration, startFlag, backfill string, serve bool) error {
	if len(tr) == 0 {
		return errors.New("no -trace given; e.g. -trace web=test/testdata/traffic/synth-smooth.csv")
	}
	start := time.Now().Truncate(time.Minute)
	if startFlag != "" {
		t, err := time.Parse(time.RFC3339, startFlag)
		if err != nil {
			return fmt.Errorf("-start: %w", err)
		}
		start = t
	}
	var series []loadexporter.Series
	for _, spec := range tr {
		name, file, ok := strings.Cut(spec, "=")
		if !ok || name == "" || file == "" {
			return fmt.Errorf("-trace %q: want WORKLOAD=CSV", spec)
		}
		s, err := load(name, file, start, rampAt, lead, history)
		if err != nil {
			return err
		}
		series = append(series, s)
	}
	help := "Load replayed from a recorded traffic trace (per trace step, e.g. requests per minute)."
	if backfill != "" {
		labels, err := cluster.ScrapeLabels("http://" + listen + "/metrics")
		if err != nil {
			return err
		}
		f, err := os.Create(backfill)
		if err != nil {
			return err
		}
		err = loadexporter.WriteOpenMetrics(f, metric, help, series, labels, start.Add(-history), start)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", backfill, err)
		}
		fmt.Printf("wrote %s: %s before %s, labelled %v\n", backfill, history, start.Format(time.RFC3339), labels)
	}
	if !serve {
		return nil
	}
	c, err := loadexporter.NewCollector(metric, help, series, clock.RealClock{})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Printf("serving %s on http://%s/metrics\n", metric, ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// load reads one trace and aligns it, printing the mapping.
func load(name, file string, start time.Time, rampAt, lead, history time.Duration) (loadexporter.Series, error) {
	f, err := os.Open(file)
	if err != nil {
		return loadexporter.Series{}, err
	}
	defer f.Close()
	tr, err := replicasim.ParseTrace(f, "", "")
	if err != nil {
		return loadexporter.Series{}, fmt.Errorf("%s: %w", file, err)
	}
	if rampAt < 0 {
		if rampAt, err = loadexporter.RampTimeOfDay(tr); err != nil {
			return loadexporter.Series{}, fmt.Errorf("%s: %w", file, err)
		}
	}
	r, err := loadexporter.Align(tr, start, rampAt, lead, history)
	if err != nil {
		return loadexporter.Series{}, fmt.Errorf("%s: %w", file, err)
	}
	fmt.Printf("workload %s: %s plays %s from %s; its daily ramp (%s after midnight) arrives at %s\n",
		name, start.Format(time.RFC3339), file, r.TraceAt.Format("2006-01-02 15:04"), rampAt, start.Add(lead).Format(time.RFC3339))
	return loadexporter.Series{Labels: map[string]string{"workload": name}, Replay: r}, nil
}
