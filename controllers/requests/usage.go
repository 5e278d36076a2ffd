package requests

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// Reasons the controller leaves usage out, beside signals/prometheus'
// Skip reasons.
const (
	// SkipAboveNode: a value above the largest node's capacity, which no
	// container can use.
	SkipAboveNode = "above-node-capacity"
	// SkipRejected: a sample the model refused (its error is logged).
	SkipRejected = "rejected"
)

// errNoPrometheus holds every workload when no Prometheus is configured.
var errNoPrometheus = fmt.Errorf("%w: no Prometheus configured (--prometheus-address)", prometheus.ErrUnavailable)

// readUsage reads the usage the workloads' models have not seen, in as few
// requests as the batching allows: one range read from the newest step
// each warm workload has (usually the same for all: one request), and one
// History-long read for up to WarmStartsPerSync workloads first seen.
func (c *Controller) readUsage(ctx context.Context, ws []*workload, nodes nodeInfo, now time.Time, st *SyncStats) {
	latest := now.Add(-c.Lag).Truncate(c.Step)
	for _, w := range ws {
		t := c.tracked[w.key]
		t.read, t.readErr, t.fedNow = false, nil, 0
		for _, m := range t.containers {
			m.fedNow = 0
		}
	}
	if c.Usage == nil {
		for _, w := range ws {
			t := c.tracked[w.key]
			t.read, t.readErr = true, errNoPrometheus
		}
		return
	}
	groups := map[time.Time][]*workload{}
	warmStarts := 0
	for _, w := range ws {
		t := c.tracked[w.key]
		from := latest.Add(-c.History)
		if t.warm {
			if next := t.fed.Truncate(c.Step).Add(c.Step); next.After(from) {
				from = next
			}
		} else {
			if warmStarts >= c.WarmStartsPerSync {
				continue // next sync
			}
			warmStarts++
		}
		if from.After(latest) {
			continue // nothing new since the last read
		}
		groups[from] = append(groups[from], w)
	}
	froms := make([]time.Time, 0, len(groups))
	for f := range groups {
		froms = append(froms, f)
	}
	sort.Slice(froms, func(i, j int) bool { return froms[i].Before(froms[j]) })
	for _, from := range froms {
		start := c.Clock.Now()
		c.readGroup(ctx, groups[from], from, latest, nodes, st)
		if latest.Sub(from) > 24*time.Hour {
			warmStartDuration.Observe(c.Clock.Since(start).Seconds())
		} else {
			readDuration.Observe(c.Clock.Since(start).Seconds())
		}
	}
	st.WarmStarts = warmStarts
}

// readGroup reads [from, to] for ws, one selector per namespace, and feeds
// each workload's models.
func (c *Controller) readGroup(ctx context.Context, ws []*workload, from, to time.Time, nodes nodeInfo, st *SyncStats) {
	byNS := map[string][]*workload{}
	var nss []string
	for _, w := range ws {
		if byNS[w.key.Namespace] == nil {
			nss = append(nss, w.key.Namespace)
		}
		byNS[w.key.Namespace] = append(byNS[w.key.Namespace], w)
	}
	sort.Strings(nss)
	sels := make([]prometheus.PodSelector, len(nss))
	for i, ns := range nss {
		var alts []string
		for _, w := range byNS[ns] {
			alts = append(alts, w.podsRE)
		}
		sels[i] = prometheus.PodSelector{Namespace: ns, Pods: strings.Join(alts, "|")}
	}
	res := c.Usage.Usage(ctx, sels, from, to, c.Step)
	for k, n := range res.Skipped {
		st.Skipped[k] += n
	}
	acc := map[*workload]map[string]map[time.Time]*stepUsage{}
	for i, ns := range nss {
		for _, w := range byNS[ns] {
			t := c.tracked[w.key]
			t.read, t.readErr = true, res.Errs[i]
			if res.Errs[i] != nil {
				usageErrors.WithLabelValues(errorKind(res.Errs[i])).Inc()
				continue
			}
			acc[w] = map[string]map[time.Time]*stepUsage{}
		}
	}
	for _, cu := range res.Series {
		w := owner(byNS[cu.Namespace], cu.Pod)
		if w == nil || acc[w] == nil {
			continue
		}
		if c.tracked[w.key].containers[cu.Container] == nil {
			continue // pinned, or not in the pod template
		}
		steps := acc[w][cu.Container]
		if steps == nil {
			steps = map[time.Time]*stepUsage{}
			acc[w][cu.Container] = steps
		}
		for _, p := range cu.Points {
			if nodes.absurd(cu.Resource, p.Value) {
				st.Skipped[SkipAboveNode]++
				continue
			}
			s := steps[p.At]
			if s == nil {
				s = &stepUsage{}
				steps[p.At] = s
			}
			if cu.Resource == prometheus.ResourceCPU {
				s.cpu = append(s.cpu, p.Value)
			} else {
				s.mem, s.haveMem = max(s.mem, p.Value), true
			}
		}
	}
	for w, ctrs := range acc {
		t := c.tracked[w.key]
		for name, steps := range ctrs {
			m := t.containers[name]
			n, last := feed(ctx, w, name, m.c, steps, st)
			m.fedNow = n
			t.fedNow += n
			if last.After(t.lastUsage) {
				t.lastUsage = last
			}
		}
		t.fed, t.warm = to, true
		st.Samples += t.fedNow
	}
}

// stepUsage is one container's usage at one step, over the workload's
// pods: every pod's CPU, and the largest pod's memory (a request must fit
// the largest pod, and the leak detector's floors then follow the pod that
// grows, not the one that restarted).
type stepUsage struct {
	cpu     []float64
	mem     float64
	haveMem bool
}

// feed adds a container's steps to its model in time order: one sample per
// pod's CPU at a step, each with the step's memory. A step without both is
// a gap; one the model has seen already is skipped.
func feed(ctx context.Context, w *workload, name string, m *requests.Container, steps map[time.Time]*stepUsage, st *SyncStats) (int, time.Time) {
	times := make([]time.Time, 0, len(steps))
	for at := range steps {
		times = append(times, at)
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	_, seen := m.Span()
	n := 0
	var last time.Time
	for _, at := range times {
		s := steps[at]
		if !s.haveMem || len(s.cpu) == 0 || !at.After(seen) {
			continue
		}
		for _, cpu := range s.cpu {
			if err := m.AddSample(requests.Sample{Time: at, CPU: cpu, Memory: s.mem}); err != nil {
				st.Skipped[SkipRejected]++
				logFor(ctx, w).V(1).Info("usage sample refused", "container", name, "error", err.Error())
				continue
			}
			n++
			last = at
		}
	}
	return n, last
}

// owner is the workload among ws whose pods' names match pod.
func owner(ws []*workload, pod string) *workload {
	for _, w := range ws {
		if w.pattern.MatchString(pod) {
			return w
		}
	}
	return nil
}

// errorKind names a read error for metrics and conditions.
func errorKind(err error) string {
	switch {
	case errors.Is(err, prometheus.ErrBadExpression):
		return "bad-expression"
	case errors.Is(err, prometheus.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	}
	return "other"
}
