package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/internal/stats"
)

// BenchmarkPodCreateThroughAPIServer measures what the mutating webhook adds
// to pod creation through the real kube-apiserver: pods are created at a
// fixed rate (open loop: each create starts on schedule, whatever the
// previous ones are doing) in two namespaces, one the webhook selects and one
// it does not, alternating phases so both see the same machine load. Each
// iteration is one phase of each.
//
// The pods name a node that does not exist, so neither the scheduler nor
// kwok adds load, and are controlled by a ReplicaSet of a Deployment with
// capacity auto, so the webhook takes its full path: resolve the workload,
// count and reserve in the ledger, mutate, annotate.
func BenchmarkPodCreateThroughAPIServer(b *testing.B) {
	rate := envInt(b, "TRIMTAB_BENCH_RATE", 200)     // pods/s
	phase := envInt(b, "TRIMTAB_BENCH_PODS", 2*rate) // pods per phase
	ctx := context.Background()
	m := startManager(b)
	on := newEnv(b, m.optedIn())
	on.waitActive(b)
	off := newEnv(b, map[string]string{runLabel: m.name})
	owners := map[*env]metav1.OwnerReference{}
	for _, e := range []*env{on, off} {
		owners[e] = benchOwner(b, ctx, e)
	}

	var lat = map[string][]time.Duration{}
	var elapsed = map[string]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, mode := range []struct {
			name string
			e    *env
		}{{"without", off}, {"with", on}} {
			l, d := createAtRate(b, ctx, mode.e, owners[mode.e], fmt.Sprintf("r%d", i), rate, phase)
			lat[mode.name] = append(lat[mode.name], l...)
			elapsed[mode.name] += d
			b.StopTimer()
			removeBenchPods(b, ctx, mode.e) // every phase starts from the same cluster
			b.StartTimer()
		}
	}
	b.StopTimer()
	quantile := func(mode string, q float64) time.Duration {
		v, _ := stats.Quantile(lat[mode], q) // 0 when a mode has no pods
		return v
	}
	for _, mode := range []string{"without", "with"} {
		b.ReportMetric(float64(quantile(mode, 0.5).Microseconds())/1000, "p50-ms-"+mode)
		b.ReportMetric(float64(quantile(mode, 0.99).Microseconds())/1000, "p99-ms-"+mode)
		b.ReportMetric(float64(len(lat[mode]))/elapsed[mode].Seconds(), "pods/s-"+mode)
	}
	b.ReportMetric(float64(quantile("with", 0.99)-quantile("without", 0.99))/1e6, "p99-added-ms")
	b.ReportMetric(float64(quantile("with", 0.99))/float64(quantile("without", 0.99)), "p99-ratio")
}

// benchOwner creates a Deployment (capacity auto, scaled to 0) and a
// ReplicaSet it controls, and returns a controller reference to the
// ReplicaSet for the benchmark's pods. The pods' labels do not match the
// ReplicaSet's selector, so the ReplicaSet controller leaves them alone.
func benchOwner(b testing.TB, ctx context.Context, e *env) metav1.OwnerReference {
	dep := deployment("bench", 0, map[string]string{config.AnnotationCapacity: "auto", config.AnnotationOnDemandBase: "2", config.AnnotationMode: "enforce"})
	created, err := e.cs.AppsV1().Deployments(e.namespace).Create(ctx, dep, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{
		// Labelled as the Deployment selects, or the Deployment controller
		// releases the ReplicaSet (drops its owner reference) and its pods
		// resolve to no workload.
		ObjectMeta: metav1.ObjectMeta{Name: "bench-rs", Labels: dep.Spec.Selector.MatchLabels, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "Deployment", Name: created.Name, UID: created.UID, Controller: ptr.To(true),
		}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: dep.Spec.Selector, Template: dep.Spec.Template},
	}
	rs, err = e.cs.AppsV1().ReplicaSets(e.namespace).Create(ctx, rs, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}
}

// createAtRate creates n pods at rate per second and returns each create's
// latency and the phase's wall time.
func createAtRate(b testing.TB, ctx context.Context, e *env, owner metav1.OwnerReference, prefix string, rate, n int) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{
					Name:            fmt.Sprintf("%s-%d", prefix, i),
					Labels:          map[string]string{"bench": "pod"},
					OwnerReferences: []metav1.OwnerReference{owner},
				},
				Spec: corev1.PodSpec{
					NodeName:   "bench-nowhere",
					Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
				},
			}
			t0 := time.Now()
			_, err := e.cs.CoreV1().Pods(e.namespace).Create(ctx, pod, metav1.CreateOptions{})
			lat[i] = time.Since(t0)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatalf("creating a pod: %v", err)
	}
	return lat, took
}

// removeBenchPods deletes the phase's pods at once (their node does not
// exist, so nothing would confirm a graceful deletion) and waits until the
// namespace has none, so later phases do not pay for a growing pod count.
func removeBenchPods(b *testing.B, ctx context.Context, e *env) {
	pods := e.cs.CoreV1().Pods(e.namespace)
	sel := metav1.ListOptions{LabelSelector: "bench=pod"}
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, sel); err != nil {
		b.Fatalf("deleting the benchmark's pods: %v", err)
	}
	eventually(b, time.Minute, func() error {
		left, err := pods.List(ctx, sel)
		if err != nil {
			return err
		}
		if n := len(left.Items); n > 0 {
			return fmt.Errorf("%d benchmark pods left in %s", n, e.namespace)
		}
		return nil
	})
}

// envInt reads a positive integer setting from the environment.
func envInt(b testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
