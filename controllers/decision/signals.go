package decision

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
	"github.com/trimtab-dev/trimtab/signals/prometheus"
)

// errNoPrometheus is the load error of every workload when the manager has
// no Prometheus address.
var errNoPrometheus = errors.New("no Prometheus configured (--prometheus-address)")

// signalsOf is one workload's signals in one sync.
type signalsOf struct {
	// load is the load signal's value; loadErr is set instead when it
	// could not be read (the decision then holds).
	load    float64
	loadAt  time.Time
	loadErr error
	// downstream is the guarded signal, NaN when missing (the guard holds
	// its state); downstreamErr says why.
	downstream    float64
	downstreamErr error
	// pods are the per-pod samples of the CPU load, for the HPA-compatible
	// reactive path.
	pods []hpa.Pod
}

// readSignals reads every workload's signals with two Prometheus requests
// in the common case: one batch of every metric and downstream expression,
// one for the CPU of every namespace whose workloads scale on CPU.
func (c *Controller) readSignals(ctx context.Context, ws []*workload, now time.Time) map[workloadKey]*signalsOf {
	out := make(map[workloadKey]*signalsOf, len(ws))
	index := map[string]int{}
	var exprs []string
	add := func(q string) {
		if _, ok := index[q]; !ok {
			index[q] = len(exprs)
			exprs = append(exprs, q)
		}
	}
	cpuNS := map[string]bool{}
	var namespaces []string
	for _, w := range ws {
		out[w.key] = &signalsOf{downstream: math.NaN(), loadErr: errNoPrometheus, downstreamErr: errNoPrometheus}
		if w.policyErr != nil {
			continue
		}
		if w.inputs.Load.CPU() {
			if !cpuNS[w.key.Namespace] {
				cpuNS[w.key.Namespace] = true
				namespaces = append(namespaces, w.key.Namespace)
			}
		} else {
			add(w.inputs.Load.Query)
		}
		if w.inputs.Downstream != nil {
			add(w.inputs.Downstream.Query)
		}
	}
	if c.Signals == nil {
		return out
	}
	start := c.Clock.Now()
	results := c.Signals.Instant(ctx, exprs, now)
	var cpu []prometheus.PodCPU
	var cpuErr error
	if len(namespaces) > 0 {
		cpu, cpuErr = c.Signals.PodCPU(ctx, namespaces, now)
	}
	queryDuration.Observe(c.Clock.Since(start).Seconds())
	byPod := map[string]prometheus.PodCPU{}
	for _, p := range cpu {
		byPod[p.Namespace+"/"+p.Pod] = p
	}
	for _, w := range ws {
		s := out[w.key]
		if w.policyErr != nil {
			continue
		}
		if w.inputs.Load.CPU() {
			s.load, s.loadAt, s.pods, s.loadErr = c.cpuLoad(ctx, w, byPod, cpuErr)
		} else {
			r := results[index[w.inputs.Load.Query]]
			s.load, s.loadAt, s.loadErr = r.Value, r.At, r.Err
		}
		if w.inputs.Downstream != nil {
			r := results[index[w.inputs.Downstream.Query]]
			s.downstreamErr = r.Err
			if r.Err == nil {
				s.downstream = r.Value
			}
		}
		if s.loadErr != nil {
			signalErrors.WithLabelValues(errorKind(s.loadErr)).Inc()
		}
	}
	return out
}

// cpuLoad is a CPU workload's load: its pods' CPU use in cores, summed, and
// each pod as the HPA's calculator sees it. The pods are the manager's
// cached pods of the workload (those trimtab's webhook admitted); a pod
// without a fresh sample has no metric, as the HPA treats it.
func (c *Controller) cpuLoad(ctx context.Context, w *workload, byPod map[string]prometheus.PodCPU, cpuErr error) (float64, time.Time, []hpa.Pod, error) {
	if cpuErr != nil {
		return 0, time.Time{}, nil, cpuErr
	}
	if w.cpuRequest <= 0 {
		return 0, time.Time{}, nil, fmt.Errorf("no CPU request on %s's containers: set trimtab.dev/metric, or CPU requests to measure utilization against", w.key)
	}
	if w.selector == nil {
		return 0, time.Time{}, nil, fmt.Errorf("%s has no pod selector", w.key)
	}
	var pods corev1.PodList
	if err := c.Client.List(ctx, &pods, client.InNamespace(w.key.Namespace), client.MatchingLabelsSelector{Selector: w.selector}); err != nil {
		return 0, time.Time{}, nil, fmt.Errorf("listing pods of %s: %w", w.key, err)
	}
	var total float64
	var newest time.Time
	out := make([]hpa.Pod, 0, len(pods.Items))
	request := int64(math.Round(w.cpuRequest * 1000))
	for i := range pods.Items {
		p := &pods.Items[i]
		hp := hpaPod(p, request)
		if u, ok := byPod[p.Namespace+"/"+p.Name]; ok {
			hp.HasMetric, hp.Value, hp.Timestamp, hp.Window = true, int64(math.Round(u.Cores*1000)), u.At, time.Minute
			total += u.Cores
			if u.At.After(newest) {
				newest = u.At
			}
		}
		out = append(out, hp)
	}
	if newest.IsZero() {
		return 0, time.Time{}, out, fmt.Errorf("%w: no CPU samples for %s's pods", prometheus.ErrEmpty, w.key)
	}
	return total, newest, out, nil
}

// hpaPod is a pod as the HPA's replica calculator reads it.
func hpaPod(p *corev1.Pod, request int64) hpa.Pod {
	hp := hpa.Pod{Phase: hpa.Running, Deleting: p.DeletionTimestamp != nil, Request: request}
	switch p.Status.Phase {
	case corev1.PodPending, "":
		hp.Phase = hpa.Pending
	case corev1.PodFailed, corev1.PodSucceeded:
		hp.Phase = hpa.Failed // ignored by the calculator, as upstream ignores failed pods
	}
	if p.Status.StartTime != nil {
		hp.Started, hp.StartTime = true, p.Status.StartTime.Time
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			hp.HasReady, hp.Ready, hp.ReadySince = true, cond.Status == corev1.ConditionTrue, cond.LastTransitionTime.Time
		}
	}
	return hp
}

// warmStart feeds the history of up to WarmStartsPerSync workloads first
// seen (and not restored) into their forecasters: a week of the load signal
// at HistoryStep, read in one batched range request. Until it has run, a
// workload is decided by its reactive path alone and observes nothing, so
// its history arrives in time order.
func (c *Controller) warmStart(ctx context.Context, ws []*workload, now time.Time, st *SyncStats) {
	if c.Signals == nil {
		return
	}
	var todo []*workload
	var exprs []string
	for _, w := range ws {
		t := c.tracked[w.key]
		if t == nil || t.warm || t.state == nil || w.policyErr != nil {
			continue
		}
		todo = append(todo, w)
		exprs = append(exprs, historyQuery(w))
		if len(todo) == c.WarmStartsPerSync {
			break
		}
	}
	if len(todo) == 0 {
		return
	}
	start := c.Clock.Now()
	series := c.Signals.Range(ctx, exprs, now.Add(-c.History), now, c.HistoryStep)
	warmStartDuration.Observe(c.Clock.Since(start).Seconds())
	for i, w := range todo {
		t, s := c.tracked[w.key], series[i]
		if errors.Is(s.Err, prometheus.ErrUnavailable) {
			continue // try again next sync
		}
		if s.Err != nil {
			logFor(ctx, w).Info("no history to warm-start from; learning from now", "error", s.Err.Error())
		}
		for _, p := range s.Points {
			t.state.Observe(p.At, p.Value)
		}
		t.warm = true
		st.WarmStarts++
	}
}

// historyQuery is the workload's load over time: its metric, or for the
// CPU load its pods' CPU use summed (pods named by the workload's naming
// rule, since a range query cannot follow pods that no longer exist).
func historyQuery(w *workload) string {
	if !w.inputs.Load.CPU() {
		return w.inputs.Load.Query
	}
	pods := regexp.QuoteMeta(w.key.Name) + "-[a-z0-9]{1,10}-[a-z0-9]{5}"
	if w.key.Kind == "StatefulSet" {
		pods = regexp.QuoteMeta(w.key.Name) + "-[0-9]+"
	}
	return fmt.Sprintf(`sum(max by (pod, container) (rate(container_cpu_usage_seconds_total{container!="",container!="POD",namespace=%q,pod=~%q}[2m])))`,
		w.key.Namespace, pods)
}

// errorKind labels a signal error for the trimtab_signal_errors_total
// metric.
func errorKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{prometheus.ErrUnavailable, "unavailable"}, {prometheus.ErrEmpty, "empty"}, {prometheus.ErrStale, "stale"},
		{prometheus.ErrBadExpression, "bad-expression"}, {prometheus.ErrManySeries, "many-series"},
		{prometheus.ErrNotFinite, "not-finite"}, {errNoPrometheus, "no-prometheus"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "other"
}
