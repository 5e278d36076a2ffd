package prometheus

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// The resources Usage reads.
const (
	// ResourceCPU is a container's CPU use in cores.
	ResourceCPU = "cpu"
	// ResourceMemory is a container's memory working set in bytes.
	ResourceMemory = "memory"
)

// memorySeries selects containers' memory working set as the kubelet
// exports it, from cAdvisor and from its resource endpoint, under the same
// name and labels: the figure the kubelet evicts on and the OOM killer
// compares with the limit, and what metrics-server and VPA read. The
// matchers are cpuSeries', for the same reasons.
const memorySeries = `container_memory_working_set_bytes{container!="",container!="POD",pod!="",%s}`

// cpuUsageSeries is cpuSeries with the namespace and pod matchers of one
// PodSelector.
const cpuUsageSeries = `container_cpu_usage_seconds_total{container!="",container!="POD",pod!="",%s}`

// PodSelector picks the pods of one namespace by name: the pods of one
// workload, or of several.
type PodSelector struct {
	Namespace string
	// Pods is a regular expression of pod names (RE2, anchored at both
	// ends as PromQL's =~ is); "" selects every pod of the namespace.
	Pods string
}

// ContainerUsage is one container's use of one resource at every step of
// a range that had a value.
type ContainerUsage struct {
	Namespace, Pod, Container string
	// Resource is ResourceCPU or ResourceMemory.
	Resource string
	// Points are in time order; a step without a usable value is absent.
	Points []Sample
}

// Reasons Usage leaves a series or a point out, the keys of
// UsageResult.Skipped.
const (
	// SkipMissingLabel: a series without a namespace, pod or container
	// label: it cannot be told apart from another container's.
	SkipMissingLabel = "missing-label"
	// SkipDuplicate: a second series for a container already read (the
	// query keeps one per container; a Prometheus-compatible store that
	// fails to deduplicate sends more), left out rather than counted twice.
	SkipDuplicate = "duplicate"
	// SkipNotFinite: a NaN or infinite point, a gap rather than a value.
	SkipNotFinite = "not-finite"
	// SkipNegative: a negative point, which no usage can be.
	SkipNegative = "negative"
	// SkipUnknownResource: a series for a resource that was not asked for.
	SkipUnknownResource = "unknown-resource"
)

// UsageResult answers Usage.
type UsageResult struct {
	// Series holds one entry per container and resource with at least one
	// point, sorted by namespace, pod, container and resource.
	Series []ContainerUsage
	// Errs says, per selector (Errs[i] answers sels[i]), whether its read
	// failed: nil, or an error wrapping ErrUnavailable (an outage) or
	// ErrBadExpression (a regular expression Prometheus refused). A
	// selector that failed has no series, which is not the same as a
	// container that used nothing.
	Errs []error
	// Skipped counts what was left out, by reason (the Skip constants):
	// series for SkipMissingLabel, SkipDuplicate and SkipUnknownResource,
	// points for SkipNotFinite and SkipNegative.
	Skipped map[string]int
}

// UsageWindows are the windows Usage evaluates over at a step: CPU is the
// rate over the step (at least Config.CPURateWindow, so rate() always has
// samples to work from), memory the peak within the step, so no peak
// between two steps is missed. The step must exceed the scrape interval.
func (c *Client) UsageWindows(step time.Duration) (cpu, memory time.Duration) {
	return max(step, c.cfg.CPURateWindow), step
}

// usageQueries are the two vectors Usage evaluates for one namespace:
// each container's CPU rate and its memory peak, one series per
// container (max by container: a container scraped twice, by cAdvisor
// and the resource endpoint or by two jobs, counts once).
func usageQueries(s PodSelector, cpuWindow, memWindow time.Duration) (cpu, memory string) {
	m := fmt.Sprintf("namespace=%q", s.Namespace)
	if s.Pods != "" {
		m += fmt.Sprintf(",pod=~%q", s.Pods)
	}
	cpu = fmt.Sprintf("max by (namespace, pod, container) (rate(%s[%s]))", fmt.Sprintf(cpuUsageSeries, m), model.Duration(cpuWindow))
	memory = fmt.Sprintf("max by (namespace, pod, container) (max_over_time(%s[%s]))", fmt.Sprintf(memorySeries, m), model.Duration(memWindow))
	return cpu, memory
}

// usageUnit is one selector of a Usage call.
type usageUnit struct {
	i   int
	sel PodSelector
	cpu string
	mem string
	err error
}

// Usage reads the CPU and memory of the containers of the selected pods at
// every step from `from` to `to` (both included, aligned to from), with
// the windows UsageWindows gives. Selectors share requests: one request
// carries as many as fit Config.MaxBatchBytes and ~500,000 points, so a
// sync of every workload's last step is one request, and a week's warm
// start of a few workloads a few. A failed request fails only its
// selectors (UsageResult.Errs); nothing is returned for them.
func (c *Client) Usage(ctx context.Context, sels []PodSelector, from, to time.Time, step time.Duration) UsageResult {
	res := UsageResult{Errs: make([]error, len(sels)), Skipped: map[string]int{}}
	if step <= 0 || to.Before(from) {
		for i := range sels {
			res.Errs[i] = fmt.Errorf("%w: usage range %s to %s at step %s is empty", ErrBadExpression, from, to, step)
		}
		return res
	}
	cpuW, memW := c.UsageWindows(step)
	units := make([]*usageUnit, len(sels))
	for i, s := range sels {
		u := &usageUnit{i: i, sel: s}
		u.cpu, u.mem = usageQueries(s, cpuW, memW)
		units[i] = u
	}
	acc := newUsageAcc()
	for _, ch := range rangeChunks(from, to, step) {
		steps := int(ch.End.Sub(ch.Start)/step) + 1
		// A guess of 8 series a selector (pods × containers × 2 resources)
		// sizes a request under ~500,000 points; the bytes bound the rest.
		perRequest := max(1, maxRangeSamples/(steps*8))
		var live []*usageUnit
		for _, u := range units {
			if u.err == nil {
				live = append(live, u)
			}
		}
		batches := pack(live, perRequest, c.cfg.MaxBatchBytes, func(u *usageUnit) int {
			return part{tag: "c000", vector: u.cpu}.cost() + part{tag: "m000", vector: u.mem}.cost()
		})
		fanOut(c.cfg.Concurrency, batches, func(b []*usageUnit) {
			bisect(ctx, b,
				func(ctx context.Context, us []*usageUnit) (bool, error) { return c.usageBatch(ctx, us, ch, acc) },
				func(u *usageUnit, err error) {
					u.err = fmt.Errorf("reading container usage in %s: %w", u.sel.Namespace, err)
				})
		})
	}
	for _, u := range units {
		res.Errs[u.i] = u.err
	}
	res.Series, res.Skipped = acc.result(units)
	return res
}

// usageBatch reads units over one chunk in one request.
func (c *Client) usageBatch(ctx context.Context, units []*usageUnit, r promv1.Range, acc *usageAcc) (fault bool, err error) {
	parts := make([]part, 0, 2*len(units))
	for i, u := range units {
		parts = append(parts, part{tag: tag("c", i), vector: u.cpu}, part{tag: tag("m", i), vector: u.mem})
	}
	v, _, _, err := c.api.QueryRange(ctx, join(parts), r, promv1.WithTimeout(c.cfg.Timeout))
	if err != nil {
		return classify(err)
	}
	got, err := splitMatrix(v)
	if err != nil {
		return false, err
	}
	tags := map[string]bool{}
	for i := range units {
		tags[tag("c", i)], tags[tag("m", i)] = true, true
	}
	for t, streams := range got {
		resource := ""
		switch {
		case !tags[t]:
		case strings.HasPrefix(t, "c"):
			resource = ResourceCPU
		case strings.HasPrefix(t, "m"):
			resource = ResourceMemory
		}
		for _, s := range streams {
			acc.add(resource, s)
		}
	}
	return false, nil
}

// usageKey names one container's series of one resource.
type usageKey struct{ ns, pod, container, resource string }

// usageAcc gathers the streams of a Usage call's requests, which may run
// concurrently and cover consecutive chunks of the range.
type usageAcc struct {
	mu      sync.Mutex
	series  map[usageKey]*ContainerUsage
	skipped map[string]int
}

func newUsageAcc() *usageAcc {
	return &usageAcc{series: map[usageKey]*ContainerUsage{}, skipped: map[string]int{}}
}

// add takes one stream, leaving out what cannot be used and counting why.
func (a *usageAcc) add(resource string, s *model.SampleStream) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if resource == "" {
		a.skipped[SkipUnknownResource]++
		return
	}
	k := usageKey{string(s.Metric["namespace"]), string(s.Metric["pod"]), string(s.Metric["container"]), resource}
	if k.ns == "" || k.pod == "" || k.container == "" {
		a.skipped[SkipMissingLabel]++
		return
	}
	cu := a.series[k]
	if cu == nil {
		cu = &ContainerUsage{Namespace: k.ns, Pod: k.pod, Container: k.container, Resource: resource}
		a.series[k] = cu
	}
	n := len(cu.Points)
	for _, p := range s.Values {
		v := float64(p.Value)
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			a.skipped[SkipNotFinite]++
			continue
		case v < 0:
			a.skipped[SkipNegative]++
			continue
		}
		at := p.Timestamp.Time()
		if n > 0 && !at.After(cu.Points[n-1].At) {
			// A second stream for this container over the same steps.
			a.skipped[SkipDuplicate]++
			cu.Points = cu.Points[:n]
			return
		}
		cu.Points = append(cu.Points, Sample{At: at, Value: v})
	}
}

// result sorts the series, drops the empty ones and those of failed
// units.
func (a *usageAcc) result(units []*usageUnit) ([]ContainerUsage, map[string]int) {
	failed := map[string]bool{}
	for _, u := range units {
		if u.err != nil {
			failed[u.sel.Namespace] = true
		}
	}
	out := make([]ContainerUsage, 0, len(a.series))
	for _, cu := range a.series {
		if len(cu.Points) > 0 && !failed[cu.Namespace] {
			sort.Slice(cu.Points, func(i, j int) bool { return cu.Points[i].At.Before(cu.Points[j].At) })
			out = append(out, *cu)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		if x.Pod != y.Pod {
			return x.Pod < y.Pod
		}
		if x.Container != y.Container {
			return x.Container < y.Container
		}
		return x.Resource < y.Resource
	})
	return out, a.skipped
}
