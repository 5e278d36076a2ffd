package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/placer/fit/fittest"
)

// placerOpenKey is the node label the throughput benchmark's pods require:
// until the nodes carry it, every pod waits in the scheduler's queue.
const placerOpenKey = "e2e.trimtab.dev/placer-open"

// BenchmarkSchedulerThroughput measures the real kube-scheduler of the local
// control plane, the anchor for placer/fit's BenchmarkPlace in the same run.
// TRIMTAB_BENCH_SCHED_PODS pods (default 500, fittest.Large's mix without
// owners) wait, all found unschedulable once, for TRIMTAB_BENCH_NODES kwok
// nodes of their own (default 50) to get the label they select; then the
// nodes are labelled and the clock runs until the last pod is bound. So
// the scheduler drains a backlog, and creating the pods through the API
// server isn't what's measured. The same pods are then placed by fit on the
// same nodes, in process, for the ratio (x-ratio: fit's placements/s over
// the scheduler's pods/s).
//
// kube-scheduler runs with its defaults here, notably --kube-api-qps=50
// (burst 100): each binding is an API call, so this is the throughput a
// default-configured scheduler reaches on this machine, not its compute
// ceiling.
func BenchmarkSchedulerThroughput(b *testing.B) {
	nodes := envInt(b, "TRIMTAB_BENCH_NODES", 50)
	pods := envInt(b, "TRIMTAB_BENCH_SCHED_PODS", 500)
	ctx := context.Background()
	e := newEnv(b, nil)
	run := "bench-" + e.namespace[len(e.namespace)-5:]
	l := fittest.GenerateLarge(7, nodes, pods)
	for _, n := range l.Nodes {
		n.Name = run + "-" + n.Name
		n.Labels[corev1.LabelHostname] = n.Name
		n.Labels[placerRunKey] = run
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: placerRunKey, Value: run, Effect: corev1.TaintEffectNoSchedule})
	}
	for _, p := range l.Pods {
		p.Namespace, p.UID, p.OwnerReferences = e.namespace, "", nil // no ReplicaSets here: the garbage collector would take the pods
		if p.Spec.NodeSelector == nil {
			p.Spec.NodeSelector = map[string]string{}
		}
		p.Spec.NodeSelector[placerRunKey] = run
		p.Spec.NodeSelector[placerOpenKey] = "true"
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: placerRunKey, Operator: corev1.TolerationOpEqual, Value: run, Effect: corev1.TaintEffectNoSchedule})
	}
	defer cleanupScenario(ctx, b, e, fittest.Scenario{Nodes: l.Nodes})
	createKwokNodes(ctx, b, e, l.Nodes)

	var bound int
	var drain time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		labelNodes(ctx, b, e, l.Nodes, `{"metadata":{"labels":{"`+placerOpenKey+`":null}}}`)
		createPods(ctx, b, e, l.Pods)
		waitUnschedulable(ctx, b, e, len(l.Pods))
		b.StartTimer()
		start := time.Now()
		labelNodes(ctx, b, e, l.Nodes, `{"metadata":{"labels":{"`+placerOpenKey+`":"true"}}}`)
		n, last := waitBound(ctx, b, e, len(l.Pods))
		bound += n
		drain += last.Sub(start)
		b.StopTimer()
		cleanupScenario(ctx, b, e, fittest.Scenario{}) // pods only
	}

	all, err := e.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	snap := fit.Snapshot{}
	for i := range all.Items {
		snap.Nodes = append(snap.Nodes, &all.Items[i])
	}
	start := time.Now()
	c := fit.New(snap)
	for _, p := range l.Pods {
		c.Place(p)
	}
	fitRate := float64(len(l.Pods)) / time.Since(start).Seconds()
	schedRate := float64(bound) / drain.Seconds()
	b.ReportMetric(schedRate, "scheduler-pods/s")
	b.ReportMetric(fitRate, "fit-placements/s")
	b.ReportMetric(fitRate/schedRate, "x-ratio")
	b.ReportMetric(float64(bound)/float64(b.N*len(l.Pods))*100, "%bound")
}

// labelNodes patches every node with 16 workers.
func labelNodes(ctx context.Context, b *testing.B, e *env, nodes []*corev1.Node, patch string) {
	parallel(b, len(nodes), func(i int) error {
		_, err := e.cs.CoreV1().Nodes().Patch(ctx, nodes[i].Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
		return err
	})
}

// createPods creates pods with 16 workers.
func createPods(ctx context.Context, b *testing.B, e *env, pods []*corev1.Pod) {
	parallel(b, len(pods), func(i int) error {
		_, err := e.cs.CoreV1().Pods(e.namespace).Create(ctx, pods[i], metav1.CreateOptions{})
		return err
	})
}

func parallel(b *testing.B, n int, f func(int) error) {
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// waitUnschedulable waits until the scheduler has tried every pod once and
// parked it as unschedulable.
func waitUnschedulable(ctx context.Context, b *testing.B, e *env, want int) {
	eventually(b, 5*time.Minute, func() error {
		list, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		parked := 0
		for _, p := range list.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable {
					parked++
				}
			}
		}
		if parked < want {
			return fmt.Errorf("%d of %d pods tried and parked", parked, want)
		}
		return nil
	})
}

// waitBound polls until every pod is bound, or no pod has been bound for 15
// s; it returns how many were and when the last was seen bound.
func waitBound(ctx context.Context, b *testing.B, e *env, want int) (int, time.Time) {
	bound, last := 0, time.Now()
	for time.Since(last) < 15*time.Second {
		list, err := e.cs.CoreV1().Pods(e.namespace).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, p := range list.Items {
			if p.Spec.NodeName != "" {
				n++
			}
		}
		if n > bound {
			bound, last = n, time.Now()
		}
		if bound == want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return bound, last
}
