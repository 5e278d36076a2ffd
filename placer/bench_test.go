package placer_test

import (
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/trimtab-dev/trimtab/config"
	"github.com/trimtab-dev/trimtab/decider/capacity"
	"github.com/trimtab-dev/trimtab/placer"
	"github.com/trimtab-dev/trimtab/placer/fit"
	"github.com/trimtab-dev/trimtab/placer/fit/fittest"
	"github.com/trimtab-dev/trimtab/prices"
)

// bound is fittest.Large's 1,000 nodes with its 10,000 pods bound where
// fit places them, grouped by workload: the cluster one plan reads.
var bound = sync.OnceValue(func() (out struct {
	in   placer.Input
	pods int
}) {
	l := fittest.GenerateLarge(1, 1000, 10000)
	c := fit.New(fit.Snapshot{Nodes: l.Nodes, ReplicaSets: l.ReplicaSets})
	byApp := map[string][]*corev1.Pod{}
	var pods []*corev1.Pod
	for _, p := range l.Pods {
		if pl := c.Place(p); pl.Scheduled() {
			q := p.DeepCopy()
			q.Spec.NodeName = pl.Node
			q.Status.Phase = corev1.PodRunning
			pods = append(pods, q)
			byApp[q.Labels["app"]] = append(byApp[q.Labels["app"]], q)
		}
	}
	s := config.DefaultSettings()
	s.SpotTaint = corev1.Taint{Key: fittest.TaintSpot, Value: "true", Effect: corev1.TaintEffectNoSchedule}
	ps := config.DefaultPlacerSettings()
	ps.Settle = 0
	ps.WorkloadBudget = config.Budget{Evictions: 1000, Per: time.Minute}
	ps.ClusterBudget = config.Budget{Evictions: 100000, Per: time.Minute}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	in := placer.Input{Now: now, Settings: s, Placer: ps, Product: prices.ProductLinux,
		Cluster: fit.Snapshot{Nodes: l.Nodes, Pods: pods, ReplicaSets: l.ReplicaSets}, Markets: map[prices.Market]placer.MarketState{}}
	nodes := placer.Nodes(l.Nodes, s, ps, prices.ProductLinux)
	for _, m := range placer.Markets(nodes) {
		// One market of the twelve spikes: about 3% of the nodes.
		off := m.InstanceType == "m5.large" && m.Zone == "zone-a"
		in.Markets[m] = placer.MarketState{Market: m, Off: off, Fresh: true, Reason: m.String() + " off spot"}
	}
	for app, ps := range byApp {
		w := placer.Workload{Key: placer.Key{Namespace: "bench", Kind: "Deployment", Name: app}, Class: config.ClassBatch,
			Inputs: config.Inputs{Enforce: true, Evictable: true}, Pods: ps,
			Split: capacity.Split{Rest: capacity.OnDemand, RestRequired: true, Reason: "off spot"}, SplitSince: now.Add(-time.Minute)}
		w.Outlook = placer.OutlookOf(placer.Exposure(nil, ps, nodes, s), in.Markets)
		in.Workloads = append(in.Workloads, w)
	}
	out.in, out.pods = in, len(pods)
	return out
})

// BenchmarkPlanLarge is one plan's latency on 1,000 nodes running 10,000
// pods of 100 batch workloads, one spot market of twelve off spot: find
// the pods on it, simulate each replacement onto on-demand (placer/fit),
// gate each by budget. Everything a sync of the placement controller
// computes besides reading its caches and writing the Decisions.
func BenchmarkPlanLarge(b *testing.B) {
	bd := bound()
	var evict, wait int
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		res := placer.Plan(bd.in)
		evict, wait = 0, 0
		for _, ms := range res.Plans {
			for _, m := range ms {
				switch m.Action {
				case placer.Evict:
					evict++
				case placer.Wait:
					wait++
				}
			}
		}
	}
	// On a shared machine wall time says as much about the neighbours as
	// about the plan; CPU time (GC included) is the steadier figure.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e6, "cpu-ms/plan")
	b.ReportMetric(float64(evict), "evictions/plan")
	b.ReportMetric(float64(wait), "waits/plan")
	b.ReportMetric(float64(bd.pods), "pods")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
