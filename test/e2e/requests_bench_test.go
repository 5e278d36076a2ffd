package e2e

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	prom "github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/trimtab-dev/trimtab/api/v1alpha1"
	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/controllers/requests"
	"github.com/trimtab-dev/trimtab/test/cluster"
)

// BenchmarkRequestsSync is one sync of the requests controller over 1,000
// Deployments of 3 containers each (requests: auto, shadow mode, zero
// replicas), whose containers' usage is a kubelet-style series per
// container the cluster's Prometheus scrapes, under pod names the
// Deployments' pattern matches (pods long gone: the controller reads
// usage by name). Each iteration waits, timer stopped, for the next
// 10-second step to be scrapeable and then runs one sync, which reads
// that step for every container. It reports the sync's wall time
// (ns/op), the HTTP requests sent to Prometheus per sync, the heap held
// per container after the warm start, with the informer caches
// (heap-KiB/container: Deployments, Decisions, which the manager shares
// with the decision controller) and without them
// (controller-heap-KiB/container: the models, the controller's state and
// the Decisions it created), and the checkpoint's encoded model per
// container (checkpoint-KiB/container); the goal is heap plus
// checkpoint ≤ 16 KiB a container. Run it beside BenchmarkDecisionSync for a
// baseline on the same machine (docs/requests.md has the command).
func BenchmarkRequestsSync(b *testing.B) {
	const workloads, containers = 1000, 3
	logf.SetLogger(logr.Discard())
	cl := cluster.Start(b)
	ctx := context.Background()
	installCRDs(b, cl)
	run := "rbench-" + fmt.Sprint(time.Now().UnixNano()%1e9)
	e := newEnv(b, map[string]string{config.NamespaceLabel: config.NamespaceLabelValue, runLabel: run})
	names := []string{"app", "sidecar", "logs"}

	usage := &benchUsage{ns: e.namespace, workloads: workloads, containers: names, start: time.Now()}
	reg := prom.NewRegistry()
	reg.MustRegister(usage)
	sig := scrapedBy(b, ctx, cl, reg, fmt.Sprintf(`container_memory_working_set_bytes{namespace=%q,pod=%q,container="logs"}`, e.namespace, benchPod(workloads-1)))

	created := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workloads)
	sem := make(chan struct{}, 32)
	for i := range workloads {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := deployment(fmt.Sprintf("w%d", i), 0, policy(config.AnnotationRequests, "auto"))
			ctr := d.Spec.Template.Spec.Containers[0]
			d.Spec.Template.Spec.Containers = nil
			for _, n := range names {
				ctr.Name = n
				d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, ctr)
			}
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
	b.Logf("created %d Deployments of %d containers in %.1fs", workloads, containers, time.Since(created).Seconds())

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	c, cfg := cachedClient(b, ctx, cl)
	// Pods and checkpoints are read uncached, as the manager reads them.
	direct, err := client.New(cfg, client.Options{Scheme: testScheme()})
	if err != nil {
		b.Fatal(err)
	}
	const step = 10 * time.Second
	ctrl := &requests.Controller{Client: c, Uncached: direct, Usage: sig, Clock: clock.RealClock{}, Settings: config.DefaultSettings(),
		Namespaces: labels.SelectorFromSet(labels.Set{runLabel: run}), CreateDecisions: true,
		Step: step, Lag: 2 * time.Second, MinHistory: time.Minute,
		// The warm start reads what the bench's Prometheus holds (its
		// series are minutes old), not 8 days of nothing.
		History: 10 * time.Minute, WarmStartsPerSync: workloads}
	// The caches fill on the first List: the controller's own heap is
	// measured from when they hold every Deployment (the Decisions it
	// creates are counted as its own).
	eventually(b, 2*time.Minute, func() error {
		var ds appsv1.DeploymentList
		if err := c.List(ctx, &ds, client.InNamespace(e.namespace)); err != nil || len(ds.Items) < workloads {
			return fmt.Errorf("%d of %d Deployments in the cache (%v)", len(ds.Items), workloads, err)
		}
		for _, l := range []client.ObjectList{&v1alpha1.DecisionList{}, &corev1.NodeList{}, &corev1.LimitRangeList{}, &appsv1.StatefulSetList{}} {
			if err := c.List(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
	runtime.GC()
	var cached runtime.MemStats
	runtime.ReadMemStats(&cached)
	// The first sync creates every Decision and warm-starts every workload.
	first := time.Now()
	eventually(b, 3*time.Minute, func() error {
		st, err := ctrl.Sync(ctx)
		if err != nil || st.Workloads < workloads {
			return fmt.Errorf("%d of %d workloads synced (%v)", st.Workloads, workloads, err)
		}
		return nil
	})
	b.Logf("Decisions created and warm start done in %.1fs", time.Since(first).Seconds())
	// nextStep waits until a new step's scrapes have landed.
	nextStep := func() {
		now := time.Now()
		time.Sleep(now.Truncate(step).Add(step + ctrl.Lag + time.Second).Sub(now))
	}
	for range 2 { // checkpoints written, statuses settled
		nextStep()
		if _, err := ctrl.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perContainer := func(from runtime.MemStats) float64 {
		return float64(int64(after.HeapAlloc)-int64(from.HeapAlloc)) / float64(workloads*containers) / 1024
	}

	var cps v1alpha1.DecisionCheckpointList
	if err := c.List(ctx, &cps, client.InNamespace(e.namespace)); err != nil {
		b.Fatal(err)
	}
	model := 0
	for _, cp := range cps.Items {
		if cp.Spec.Requests != nil {
			for _, cc := range cp.Spec.Requests.Containers {
				model += len(cc.Model)
			}
		}
	}
	if len(cps.Items) < workloads {
		b.Fatalf("%d checkpoints, want %d", len(cps.Items), workloads)
	}

	// A sub-benchmark, so the setup above runs once (a benchmark without
	// one is run first with b.N = 1, then again).
	b.Run(fmt.Sprintf("workloads=%d/containers=%d", workloads, workloads*containers), func(b *testing.B) {
		req0 := sig.Stats().Requests
		var samples, writes int
		for range b.N {
			b.StopTimer()
			nextStep()
			b.StartTimer()
			st, err := ctrl.Sync(ctx)
			if err != nil {
				b.Fatal(err)
			}
			samples += st.Samples
			writes += st.StatusWrites + st.Checkpoints
		}
		b.StopTimer()
		if samples == 0 {
			b.Fatal("no usage read in the measured syncs")
		}
		b.ReportMetric(float64(sig.Stats().Requests-req0)/float64(b.N), "prom-requests/sync")
		b.ReportMetric(float64(samples)/float64(b.N), "samples/sync")
		b.ReportMetric(float64(writes)/float64(b.N), "apiserver-writes/sync")
		b.ReportMetric(perContainer(before), "heap-KiB/container")
		b.ReportMetric(perContainer(cached), "controller-heap-KiB/container")
		b.ReportMetric(float64(model)/float64(workloads*containers)/1024, "checkpoint-KiB/container")
	})
}

// benchPod is the name of workload i's pod in the benchmark's series.
func benchPod(i int) string { return fmt.Sprintf("w%d-5f6d7c8b9-abcde", i) }

// benchUsage serves a kubelet's container series for the benchmark's
// containers: a memory working set and a CPU counter each.
type benchUsage struct {
	ns         string
	workloads  int
	containers []string
	start      time.Time
}

var (
	benchMem = prom.NewDesc("container_memory_working_set_bytes", "Memory.", []string{"namespace", "pod", "container"}, nil)
	benchCPU = prom.NewDesc("container_cpu_usage_seconds_total", "CPU.", []string{"namespace", "pod", "container"}, nil)
)

func (u *benchUsage) Describe(ch chan<- *prom.Desc) { ch <- benchMem; ch <- benchCPU }

func (u *benchUsage) Collect(ch chan<- prom.Metric) {
	secs := time.Since(u.start).Seconds()
	for i := range u.workloads {
		pod := benchPod(i)
		for j, c := range u.containers {
			ch <- prom.MustNewConstMetric(benchMem, prom.GaugeValue, float64((100+i%200+50*j)<<20), u.ns, pod, c)
			ch <- prom.MustNewConstMetric(benchCPU, prom.CounterValue, 0.01*float64(1+j)*secs, u.ns, pod, c)
		}
	}
}
