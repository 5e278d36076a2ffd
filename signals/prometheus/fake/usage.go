package fake

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// Container names a container that reports usage to Usage.
type Container struct {
	Namespace, Pod, Name string
}

// UsageCall records one Usage call.
type UsageCall struct {
	Selectors []prometheus.PodSelector
	From, To  time.Time
	Step      time.Duration
}

// Usage answers container usage reads (prometheus.Client.Usage) from a
// function of time, for controller tests: every step from `from` to `to`
// of every listed container its selectors match, with a record of the
// calls and a switch that fails the next one.
type Usage struct {
	mu sync.Mutex
	// Containers report usage; only those matching a selector answer.
	Containers []Container
	// Of gives a container's usage of a resource (prometheus.ResourceCPU
	// or ResourceMemory) at a step; ok false leaves the step out, a gap.
	Of func(c Container, resource string, at time.Time) (v float64, ok bool)

	calls    []UsageCall
	failNext error
}

// FailNext makes the next call fail as Prometheus being down would: every
// selector gets err, which wraps prometheus.ErrUnavailable when err is nil.
func (u *Usage) FailNext(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err == nil {
		err = fmt.Errorf("%w: fake: connection refused", prometheus.ErrUnavailable)
	}
	u.failNext = err
}

// Calls returns the calls so far, oldest first.
func (u *Usage) Calls() []UsageCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.calls)
}

// Usage answers as prometheus.Client.Usage does.
func (u *Usage) Usage(_ context.Context, sels []prometheus.PodSelector, from, to time.Time, step time.Duration) prometheus.UsageResult {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, UsageCall{Selectors: slices.Clone(sels), From: from, To: to, Step: step})
	res := prometheus.UsageResult{Errs: make([]error, len(sels)), Skipped: map[string]int{}}
	if err := u.failNext; err != nil {
		u.failNext = nil
		for i := range sels {
			res.Errs[i] = fmt.Errorf("reading container usage in %s: %w", sels[i].Namespace, err)
		}
		return res
	}
	for i, s := range sels {
		re, err := regexp.Compile("^(?:" + s.Pods + ")$")
		if err != nil {
			res.Errs[i] = fmt.Errorf("%w: %v", prometheus.ErrBadExpression, err)
			continue
		}
		for _, c := range u.Containers {
			if c.Namespace != s.Namespace || (s.Pods != "" && !re.MatchString(c.Pod)) {
				continue
			}
			for _, r := range []string{prometheus.ResourceCPU, prometheus.ResourceMemory} {
				cu := prometheus.ContainerUsage{Namespace: c.Namespace, Pod: c.Pod, Container: c.Name, Resource: r}
				for at := from; !at.After(to); at = at.Add(step) {
					if v, ok := u.Of(c, r, at); ok {
						cu.Points = append(cu.Points, prometheus.Sample{At: at, Value: v})
					}
				}
				if len(cu.Points) > 0 {
					res.Series = append(res.Series, cu)
				}
			}
		}
	}
	sort.Slice(res.Series, func(i, j int) bool {
		x, y := res.Series[i], res.Series[j]
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
	return res
}
