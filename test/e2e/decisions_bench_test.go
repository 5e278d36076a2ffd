package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/decision"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// BenchmarkDecisionSync is one sync of the decision controller over 1,000
// and 10,000 workloads: Deployments in the local apiserver (at zero
// replicas, in shadow mode, so no pods), each with its own metric, a series
// the local Prometheus scrapes. It reports the steady-state sync's wall time
// (ns/op), the HTTP requests it sends Prometheus and the writes it sends the
// apiserver (zero when nothing changed), the first sync's time (which
// creates every Decision), and the heap the controller and its caches hold
// per workload, with one worker and with the default number, so the
// ratio shows what concurrency buys. The goal is a 10,000-workload sync
// well within the 15 s period.
func BenchmarkDecisionSync(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("workloads=%d", n), func(b *testing.B) { benchSync(b, n) })
	}
}

func benchSync(b *testing.B, n int) {
	logf.SetLogger(logr.Discard())
	cl := cluster.Start(b)
	ctx := context.Background()
	installCRDs(b, cl)
	run := "bench-" + fmt.Sprint(time.Now().UnixNano()%1e9)
	e := newEnv(b, map[string]string{config.NamespaceLabel: config.NamespaceLabelValue, runLabel: run})

	// n series, one per workload, scraped by the cluster's Prometheus.
	load := prom.NewGaugeVec(prom.GaugeOpts{Name: "trimtab_bench_load", Help: "Benchmark load."}, []string{"workload"})
	reg := prom.NewRegistry()
	reg.MustRegister(load)
	for i := range n {
		load.WithLabelValues(fmt.Sprintf("w%d", i)).Set(100)
	}
	sig := scrapedBy(b, ctx, cl, reg, fmt.Sprintf(`trimtab_bench_load{workload="w%d"}`, n-1))

	// n Deployments, created 32 at a time.
	created := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := deployment(fmt.Sprintf("w%d", i), 0, policy(config.AnnotationMetric, fmt.Sprintf(`trimtab_bench_load{workload="w%d"}`, i),
				config.AnnotationTargetPerPod, "50", config.AnnotationReplicas, "1..10"))
			if _, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("created %d Deployments in %.1fs", n, time.Since(created).Seconds())

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	c, _ := cachedClient(b, ctx, cl)
	clk := clocktesting.NewFakeClock(time.Now())
	ctrl := &decision.Controller{Client: c, Signals: sig, Clock: clk, Settings: config.DefaultSettings(),
		Namespaces: labels.SelectorFromSet(labels.Set{runLabel: run}), WarmStartsPerSync: n}
	sync := func() decision.SyncStats {
		clk.Step(decision.DefaultPeriod)
		st, err := ctrl.Sync(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	// The caches fill on the first List; wait until they show every
	// Deployment so the first sync is the real one.
	eventually(b, 2*time.Minute, func() error {
		st, err := ctrl.Sync(ctx)
		if err != nil || st.Workloads < n {
			return fmt.Errorf("%d of %d workloads in the cache (%v)", st.Workloads, n, err)
		}
		return nil
	})
	first := time.Now()
	st := sync()
	b.Logf("first full sync: %.2fs, %d Decisions created, %d warm starts, %d status writes", time.Since(first).Seconds(), st.Creates, st.WarmStarts, st.StatusWrites)
	for range 3 { // the shadow trajectories settle
		sync()
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n) / 1024

	// One worker is the baseline the default is measured against, in the
	// same run on the same cluster.
	for _, workers := range []int{1, decision.DefaultWorkers} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			ctrl.Workers = workers
			req0 := sig.Stats().Requests
			var writes int
			var signals time.Duration
			for b.Loop() {
				st := sync()
				writes += st.StatusWrites + st.Creates + st.Scales + st.Checkpoints
				signals += st.SignalsTime
			}
			b.ReportMetric(signals.Seconds()/float64(b.N), "signals-s/sync")
			b.ReportMetric(float64(sig.Stats().Requests-req0)/float64(b.N), "prom-requests/sync")
			b.ReportMetric(float64(writes)/float64(b.N), "apiserver-writes/sync")
			b.ReportMetric(heap, "heap-KiB/workload")
		})
	}
}

// cachedClient is a client reading through informer caches of its own, as
// the manager's does, so a benchmark's heap counts them; the caches stop
// with the benchmark. The REST config is for uncached clients beside it.
func cachedClient(b *testing.B, ctx context.Context, cl *cluster.Cluster) (client.Client, *rest.Config) {
	cfg, err := cl.RESTConfig()
	if err != nil {
		b.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	b.Cleanup(cancel)
	s := testScheme()
	ca, err := cache.New(cfg, cache.Options{Scheme: s})
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = ca.Start(cctx) }()
	c, err := client.New(cfg, client.Options{Scheme: s, Cache: &client.CacheOptions{Reader: ca}})
	if err != nil {
		b.Fatal(err)
	}
	return c, cfg
}

// scrapedBy serves reg on loopback, starts the cluster's Prometheus
// scraping it, and returns a client of that Prometheus once probe (the
// last series reg exports) can be read back.
func scrapedBy(b *testing.B, ctx context.Context, cl *cluster.Cluster, reg *prom.Registry, probe string) *prometheus.Client {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	base, err := cl.StartPrometheus(ctx, []string{"http://" + ln.Addr().String() + "/metrics"})
	if err != nil {
		b.Fatal(err)
	}
	sig, err := prometheus.New(prometheus.Config{Address: base})
	if err != nil {
		b.Fatal(err)
	}
	eventually(b, time.Minute, func() error {
		return sig.Instant(ctx, []string{probe}, time.Now())[0].Err
	})
	return sig
}
