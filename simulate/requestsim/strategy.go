package requestsim

import (
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests"
)

// strategy is one way of setting requests, replayed sample by sample.
type strategy interface {
	// observe feeds the usage seen at s.Time (memory capped at the limit
	// when the container was OOM-killed).
	observe(s requests.Sample) error
	// oomKilled tells the strategy its container was OOM-killed at t with
	// memory limit limit.
	oomKilled(t time.Time, limit float64) error
	// decide returns the requests to run with from now on, and a reason
	// when they changed.
	decide(now time.Time) (requests.Resources, string)
	// leakRaise reports whether the last change was a leak raise.
	leakRaise() bool
}

// learner is a strategy backed by the request model (trimtab or VPA).
type learner struct {
	cfg     requests.Config
	policy  requests.Bounds
	c       *requests.Container
	applied requests.Applied
	urgent  bool
}

func newLearner(cfg requests.Config, p requests.Bounds) (*learner, error) {
	c, err := requests.NewContainer(cfg)
	if err != nil {
		return nil, err
	}
	return &learner{cfg: cfg, policy: p, c: c}, nil
}

func (l *learner) observe(s requests.Sample) error { return l.c.AddSample(s) }

func (l *learner) oomKilled(t time.Time, limit float64) error { return l.c.RecordOOM(t, limit) }

func (l *learner) decide(now time.Time) (requests.Resources, string) {
	rec := l.c.Recommend(now, l.policy, l.applied.Requests.Memory)
	next, why := requests.Decide(l.cfg, l.applied, rec, now)
	if why != "" {
		l.urgent = rec.LeakRaise && next.Memory > l.applied.Requests.Memory
		l.applied = requests.Applied{Requests: next, Changed: now}
		if l.urgent {
			// Validated above: a raise is a positive size.
			_ = l.c.RecordLeakRaise(now, next.Memory)
		}
	}
	return l.applied.Requests, why
}

func (l *learner) leakRaise() bool { return l.urgent }

// fixed is the static baseline: the provisioned requests, never changed.
type fixed struct{ r requests.Resources }

func (f fixed) observe(requests.Sample) error                 { return nil }
func (f fixed) oomKilled(time.Time, float64) error            { return nil }
func (f fixed) decide(time.Time) (requests.Resources, string) { return f.r, "" }
func (f fixed) leakRaise() bool                               { return false }

// oracle knows each UTC day's peak in advance and requests exactly it.
type oracle struct {
	peaks map[int64]requests.Resources // by Unix day
	cur   requests.Resources
}

func newOracle(samples []requests.Sample) *oracle {
	o := &oracle{peaks: map[int64]requests.Resources{}}
	for _, s := range samples {
		d := s.Time.Unix() / 86400
		p := o.peaks[d]
		p.CPU = max(p.CPU, s.CPU)
		p.Memory = max(p.Memory, s.Memory)
		o.peaks[d] = p
	}
	return o
}

func (o *oracle) observe(requests.Sample) error      { return nil }
func (o *oracle) oomKilled(time.Time, float64) error { return nil }
func (o *oracle) leakRaise() bool                    { return false }

// decide returns the peak of the day of the next sample; the replay asks
// with the time of the sample about to be scored.
func (o *oracle) decide(next time.Time) (requests.Resources, string) {
	p := o.peaks[next.Unix()/86400]
	why := ""
	if p != o.cur {
		why = "next day's peak"
	}
	o.cur = p
	return p, why
}
