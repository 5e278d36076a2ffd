package requestsim

import (
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/internal/stats"
)

// scorer accumulates one strategy's metrics.
type scorer struct {
	m      *Metrics
	inOOM  bool
	leakL0 float64   // memory request when the leak began
	oomAt  time.Time // when the leak would have OOM-killed at leakL0
	raise  time.Time // first memory raise after the leak began
	// killedAtOOM: the request in force at oomAt was below the usage.
	killedAtOOM bool
	leakOOM     float64 // OOM minutes since the leak began
}

// score adds one sample held for dt under req, and reports an OOM kill.
func (sc *scorer) score(s requests.Sample, req requests.Resources, dt time.Duration) bool {
	if req.CPU > 0 {
		sc.m.cpuSlack = append(sc.m.cpuSlack, (req.CPU-s.CPU)/req.CPU)
	}
	if req.Memory > 0 {
		sc.m.memSlack = append(sc.m.memSlack, (req.Memory-s.Memory)/req.Memory)
	}
	if s.CPU > req.CPU {
		sc.m.CPUOverRequestMinutes += dt.Minutes()
	}
	killed := s.Memory > req.Memory
	if killed {
		sc.m.OOMMinutes += dt.Minutes()
		if !sc.inOOM {
			sc.m.OOMKills++
		}
	}
	sc.inOOM = killed
	return killed
}

// trackLeak finds the OOM the leak would cause at the request in force when
// it began: the first sample whose leaked usage s.Memory is above that
// request while the usage without the leak, unleaked, is not (a spike that
// would OOM anyway is an ordinary OOM, scored as one, not the leak's). It
// also counts the OOM minutes after the leak began.
func (sc *scorer) trackLeak(s requests.Sample, unleaked float64, req requests.Resources, leakStart time.Time, dt time.Duration) {
	if s.Time.Before(leakStart) {
		return
	}
	if sc.leakL0 == 0 {
		sc.leakL0 = req.Memory
	}
	if sc.oomAt.IsZero() && s.Memory > sc.leakL0 && unleaked <= sc.leakL0 {
		sc.oomAt = s.Time
		sc.killedAtOOM = s.Memory > req.Memory
	}
	if s.Memory > req.Memory {
		sc.leakOOM += dt.Minutes()
	}
}

func (sc *scorer) raised(t, leakStart time.Time) {
	if !leakStart.IsZero() && !t.Before(leakStart) && sc.raise.IsZero() {
		sc.raise = t
	}
}

func (sc *scorer) leakResult() {
	if sc.oomAt.IsZero() {
		return // the leak never reached this strategy's request
	}
	at := sc.oomAt
	sc.m.LeakOOMAt = &at
	if sc.raise.IsZero() {
		caught := false
		sc.m.LeakCaught = &caught
		return
	}
	lead := sc.oomAt.Sub(sc.raise).Minutes()
	caught := lead > 0 && !sc.killedAtOOM
	sc.m.LeakLeadMinutes, sc.m.LeakCaught = &lead, &caught
}

func (sc *scorer) finish(days float64, _ int) {
	sc.m.CPUSlackMean, sc.m.CPUSlackP50 = meanMedian(sc.m.cpuSlack)
	sc.m.MemSlackMean, sc.m.MemSlackP50 = meanMedian(sc.m.memSlack)
	if days > 0 {
		sc.m.RequestChangesPerDay = float64(sc.m.RequestChanges) / days
	}
}

// meanMedian returns the mean and the median (stats.Median) of v, 0 and 0
// for none. v is reordered.
func meanMedian(v []float64) (mean, median float64) {
	if len(v) == 0 {
		return 0, 0
	}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	median, _ = stats.MedianInPlace(v) // slack is finite: requests are > 0
	return sum / float64(len(v)), median
}
