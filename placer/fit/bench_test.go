package fit_test

import (
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/placer/fit/fittest"
)

var large = sync.OnceValue(func() fittest.Large { return fittest.GenerateLarge(1, 1000, 10000) })

// BenchmarkPlace fills 1,000 empty nodes with 10,000 pods, one placement
// after another, each seeing the ones before (fittest.Large's mix). An
// iteration is the whole fill; placements/s is the figure to compare with
// kube-scheduler's and Karpenter's throughput.
func BenchmarkPlace(b *testing.B) {
	l := large()
	snap := fit.Snapshot{Nodes: l.Nodes, ReplicaSets: l.ReplicaSets}
	placed := 0
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		c := fit.New(snap)
		for _, p := range l.Pods {
			if c.Place(p).Scheduled() {
				placed++
			}
		}
	}
	elapsed, cpuUsed := time.Since(start), cpuTime()-cpu
	n := float64(b.N * len(l.Pods))
	b.ReportMetric(n/elapsed.Seconds(), "placements/s")
	// On a shared machine wall time says as much about the neighbours as
	// about fit; CPU time (GC included) is the steadier figure.
	b.ReportMetric(n/cpuUsed.Seconds(), "placements/cpu-s")
	b.ReportMetric(float64(placed)/n*100, "%scheduled")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPlan times one plan: index a snapshot of 1,000 nodes running
// 10,000 pods, then move every pod off the 5% of nodes a price spike hits
// (spot nodes), each replacement kept off spot capacity the way the
// webhook's on-demand affinity would keep it.
func BenchmarkPlan(b *testing.B) {
	l := large()
	c := fit.New(fit.Snapshot{Nodes: l.Nodes, ReplicaSets: l.ReplicaSets})
	var bound []*corev1.Pod
	for _, p := range l.Pods {
		if pl := c.Place(p); pl.Scheduled() {
			q := p.DeepCopy()
			q.Spec.NodeName = pl.Node
			bound = append(bound, q)
		}
	}
	hit := map[string]bool{}
	for _, n := range l.Nodes {
		if n.Labels[fittest.LabelCapacityType] == "spot" && len(hit) < len(l.Nodes)/20 {
			hit[n.Name] = true
		}
	}
	var moves []*corev1.Pod
	for _, p := range bound {
		if hit[p.Spec.NodeName] {
			q := p.DeepCopy()
			q.Spec.Affinity = onDemand(q.Spec.Affinity)
			moves = append(moves, q)
		}
	}
	snap := fit.Snapshot{Nodes: l.Nodes, Pods: bound, ReplicaSets: l.ReplicaSets}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	var indexing time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		c := fit.New(snap)
		indexing += time.Since(start)
		c.Move(moves)
	}
	b.ReportMetric(float64(len(moves)), "moves/plan")
	b.ReportMetric(float64(indexing.Milliseconds())/float64(b.N), "index-ms/plan") // of which New
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/plan")
}

// onDemand adds the required on-demand node affinity the webhook stamps.
func onDemand(a *corev1.Affinity) *corev1.Affinity {
	if a == nil {
		a = &corev1.Affinity{}
	}
	a.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: fittest.LabelCapacityType, Operator: corev1.NodeSelectorOpIn, Values: []string{"on-demand"}},
		}}},
	}}
	return a
}
