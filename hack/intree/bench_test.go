package intree

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/placer/fit/fittest"
)

var large = sync.OnceValue(func() fittest.Large { return fittest.GenerateLarge(1, 1000, 10000) })

// BenchmarkPlace is placer/fit's BenchmarkPlace with the in-tree plugins:
// fill 1,000 empty nodes with the same 10,000 pods, one after another.
// The framework runs single-threaded here, as fit does (WithParallelism(1));
// kube-scheduler itself filters and scores 16 nodes at a time.
func BenchmarkPlace(b *testing.B) {
	l := large()
	snap := fit.Snapshot{Nodes: l.Nodes, ReplicaSets: l.ReplicaSets}
	placed := 0
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		sim, err := New(snap)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range l.Pods {
			r, err := sim.Place(p)
			if err != nil {
				b.Fatal(err)
			}
			if r.Node != "" {
				placed++
			}
		}
	}
	elapsed, cpuUsed := time.Since(start), cpuTime()-cpu
	n := float64(b.N * len(l.Pods))
	b.ReportMetric(n/elapsed.Seconds(), "placements/s")
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
