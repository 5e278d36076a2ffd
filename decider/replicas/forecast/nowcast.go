package forecast

import (
	"math"
	"time"
)

// The nowcast arm forecasts the load as the mean of the samples seen in the
// last TrailWindow, flat over the sizing interval, with its own band: the
// quantile of load ÷ that mean as it stood TrailLag earlier, per load
// class. On web traffic whose level wanders within the day (NASA-HTTP,
// WC98) it needs a narrower band than the seasonal profile × level, whose
// 5-minute slots carry their own estimation noise; where a steep daily
// ramp recurs, which the recent mean only sees once it has begun, the
// profile needs less. The model scores both arms on every sample and
// forecasts with the one that has needed less headroom.

// trailCap bounds the samples the nowcast keeps (15 minutes of 15 s samples).
const trailCap = 64

// tsample is one observed sample and the trailing mean as it stood after it.
type tsample struct {
	t       int64 // Unix seconds
	v, mean float32
}

// costRefQuantile is the quantile at which the two arms' bands are compared.
const costRefQuantile = 0.9

// switchMargin is how much less headroom (in log units, ~2%) an arm must
// need before the model switches to it, so the choice does not flap.
const switchMargin = 0.02

// minCostWeight is how many (decayed) minutes of scored samples both arms need before
// the nowcast may be chosen.
const minCostWeight = 1000

// observeNowcast scores the nowcast made TrailLag before t against v, feeds
// the choice between the arms, then takes v into the trailing mean.
func (m *Model) observeNowcast(t int64, v float64, b int64, w float64) {
	if m.cfg.TrailWindow <= 0 {
		// No recent-mean arm; the ring still keeps the samples, which
		// the hold reads (hold.go).
		m.trail[m.trailN%trailCap] = tsample{t, float32(v), float32(v)}
		m.trailN++
		return
	}
	// A decision sees samples up to a step old, so the forecast it sizes
	// with is TrailLag plus a step older than the load it must serve.
	lag := int64(m.cfg.TrailLag.Seconds())
	if m.trailN > 0 {
		lag += t - m.trail[(m.trailN-1)%trailCap].t
	}
	if mean, ok := m.trailMeanAt(t - lag); ok && mean > 0 {
		c := m.class(mean)
		m.addError(&m.trailH, &m.trailW, c, math.Log(math.Max(v, 1e-9)/mean), w)
		m.scoreArms(b, t-lag, v, mean, c, w)
	}
	// The mean of v and the earlier samples within the window (the ring
	// holds trailCap samples, v included).
	var sum float64
	k := 1
	for j := 0; j < min(m.trailN, trailCap-1); j++ {
		x := m.trail[(m.trailN-1-j)%trailCap]
		if x.t <= t-int64(m.cfg.TrailWindow.Seconds()) {
			break
		}
		sum, k = sum+float64(x.v), k+1
	}
	m.trail[m.trailN%trailCap] = tsample{t, float32(v), float32((sum + v) / float64(k))}
	m.trailN++
}

// trailMeanAt is the trailing mean as it stood at Unix time t (the newest
// snapshot at or before t), if the ring still holds it.
func (m *Model) trailMeanAt(t int64) (float64, bool) {
	for j := 0; j < min(m.trailN, trailCap); j++ {
		x := m.trail[(m.trailN-1-j)%trailCap]
		if x.t <= t {
			// Too old a snapshot (a gap) says nothing about t.
			if t-x.t > int64(m.cfg.TrailWindow.Seconds()) {
				return 0, false
			}
			return float64(x.mean), true
		}
	}
	return 0, false
}

// scoreArms adds the headroom each arm's reference upper bound, as it
// stood at Unix time from, left over v (log upper - log v) to its decaying
// cost, and switches arms on a margin. Both arms are scored at the same
// lead, the one a decision sizes at.
func (m *Model) scoreArms(b, from int64, v, mean float64, c int, w float64) {
	fb := from/int64(m.cfg.Bucket/time.Second) - 1 // the last bucket closed by then
	if m.buckets < m.slots || fb < 0 || b-fb >= levelRing || v <= 0 {
		return
	}
	base := m.base(b)
	lvl := float64(m.levels[fb%levelRing])
	if base <= 0 || lvl <= 0 {
		return
	}
	seasonal := math.Log(base*lvl) + quantileOf(&m.errH, &m.errW, m.class(base), costRefQuantile)
	nowcast := math.Log(mean) + quantileOf(&m.trailH, &m.trailW, c, costRefQuantile)
	d := m.decayOf(w)
	m.cost[0] = m.cost[0]*d + w*(seasonal-math.Log(v))
	m.cost[1] = m.cost[1]*d + w*(nowcast-math.Log(v))
	m.costW = m.costW*d + w
	if m.costW < minCostWeight {
		return
	}
	diff := (m.cost[1] - m.cost[0]) / m.costW
	switch {
	case !m.useNowcast && diff < -switchMargin:
		m.useNowcast = true
	case m.useNowcast && diff > switchMargin:
		m.useNowcast = false
	}
}

// nowcast returns the trailing mean and its q-quantile upper bound.
func (m *Model) nowcast(q float64) (point, upper float64, ok bool) {
	if m.trailN == 0 {
		return 0, 0, false
	}
	point = float64(m.trail[(m.trailN-1)%trailCap].mean)
	if point <= 0 {
		return 0, 0, false
	}
	return point, point * math.Exp(quantileOf(&m.trailH, &m.trailW, m.class(point), q)), true
}

// Method names the arm the model forecasts with.
func (m *Model) Method() string {
	if m.useNowcast {
		return "recent mean"
	}
	return "seasonal"
}

// seasonalTrustMargin is how much more headroom (log units) the seasonal
// arm may have needed than the recent mean and still floor its forecast.
const seasonalTrustMargin = 0.1

// seasonalTrusted says the seasonal arm has needed at most
// seasonalTrustMargin more headroom than the recent mean: a profile that
// needed far more (a bursty series, whose slots hold yesterday's bursts)
// would put those bursts into today's capacity as a floor.
func (m *Model) seasonalTrusted() bool {
	return m.costW > 0 && (m.cost[0]-m.cost[1])/m.costW <= seasonalTrustMargin
}
