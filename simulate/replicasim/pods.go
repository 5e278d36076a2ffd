package replicasim

import (
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
)

// podSet is a strategy's pods, as cohorts created at the same sync: pods
// of a cohort are alike in everything the HPA's calculator reads, so a
// replay costs per cohort rather than per pod where it can (an HPA at a
// 1% target runs a hundred times the pods of one at 70%, and the
// hpa-matched search runs every target).
type podSet struct {
	cohorts []cohort // oldest first
	total   int32
}

type cohort struct {
	created time.Time
	n       int32
}

// settled is how long after creation a pod is alike to every older pod
// for the calculator: ready, past the CPU initialization period and a
// metric window after it (hpa.classify).
func settled(startup time.Duration) time.Duration {
	return startup + hpa.DefaultCPUInitializationPeriod + time.Minute
}

// resize grows the set with a cohort created now, or removes the newest
// (least ready) pods first; cohorts settled by now merge into the oldest.
func (p *podSet) resize(n int32, now time.Time, startup time.Duration) {
	switch {
	case n > p.total:
		p.cohorts = append(p.cohorts, cohort{now, n - p.total})
	case n < p.total:
		drop := p.total - n
		for drop > 0 {
			last := &p.cohorts[len(p.cohorts)-1]
			k := min(drop, last.n)
			last.n -= k
			drop -= k
			if last.n == 0 {
				p.cohorts = p.cohorts[:len(p.cohorts)-1]
			}
		}
	}
	p.total = n
	// Merge settled cohorts: the oldest keeps its creation time.
	old := now.Add(-settled(startup))
	for len(p.cohorts) > 1 && !p.cohorts[1].created.After(old) {
		p.cohorts[0].n += p.cohorts[1].n
		p.cohorts = append(p.cohorts[:1], p.cohorts[2:]...)
	}
}

func (p *podSet) ready(now time.Time, delay time.Duration) int32 {
	var n int32
	for _, c := range p.cohorts {
		if !c.created.Add(delay).After(now) {
			n += c.n
		}
	}
	return n
}

// cpuPods builds the pods the metrics pipeline reports: ready pods share the
// (delayed) load evenly, as utilization of a 1000m request; starting pods are
// running but unready with a zero sample.
func cpuPods(buf []hpa.Pod, ps *podSet, now time.Time, cfg Config, load float64) []hpa.Pod {
	buf = buf[:0]
	r := ps.ready(now, cfg.StartupDelay)
	per := int64(0)
	if r > 0 {
		per = int64(math.Round(load / float64(r) / cfg.CapacityPerPod * 1000))
	}
	ts := now.Add(-cfg.MetricsDelay)
	for _, c := range ps.cohorts {
		readyAt := c.created.Add(cfg.StartupDelay)
		p := hpa.Pod{Phase: hpa.Running, HasReady: true, Started: true, StartTime: c.created, Request: 1000,
			HasMetric: true, Timestamp: ts, Window: 30 * time.Second}
		if !readyAt.After(now) {
			p.Ready, p.ReadySince, p.Value = true, readyAt, per
		} else {
			p.ReadySince = c.created
		}
		from := len(buf)
		buf = append(buf, p)
		// Fill the cohort by doubling copies.
		for len(buf)-from < int(c.n) {
			k := min(len(buf)-from, int(c.n)-(len(buf)-from))
			buf = append(buf, buf[from:from+k]...)
		}
	}
	return buf
}

// loadAt is the trace's load at t (the sample covering t), or NaN before it.
func loadAt(tr Trace, t time.Time) float64 {
	i := int(t.Sub(tr.Start) / tr.Step)
	if t.Before(tr.Start) || i >= len(tr.Values) {
		return math.NaN()
	}
	return tr.Values[i]
}

// metricAt is the load the metrics pipeline reports at now, delay late:
// the sample covering now−delay, unless that sample is still in progress
// at now, when it is the newest sample complete by now. A sample is a mean
// over its interval and is known only once the interval ends: on a
// 30-minute trace, reading the sample covering now−1m would hand both
// reactive paths the mean of the next 29 minutes. On a 1-minute trace with
// the default 60 s delay the two rules agree.
func metricAt(tr Trace, now time.Time, delay time.Duration) float64 {
	at := now.Add(-delay)
	if at.Before(tr.Start) {
		return math.NaN()
	}
	i := min(int(at.Sub(tr.Start)/tr.Step), int(now.Sub(tr.Start)/tr.Step)-1)
	if i < 0 || i >= len(tr.Values) {
		return math.NaN()
	}
	return tr.Values[i]
}
