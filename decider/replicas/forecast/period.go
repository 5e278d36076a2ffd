package forecast

import "math"

// addHourly accumulates hourly means for period detection.
func (m *Model) addHourly(h int64, v float64) {
	if h != m.hourCur {
		if m.hourAcc[1] > 0 {
			m.pushHour(m.hourCur, m.hourAcc[0]/m.hourAcc[1])
		}
		m.hourCur, m.hourAcc = h, [2]float64{}
	}
	m.hourAcc[0] += v
	m.hourAcc[1]++
}

func (m *Model) pushHour(h int64, v float64) {
	if m.hourAt == 0 {
		m.hourFirst = h
	} else {
		for g := m.hourAt; g < h && g < m.hourAt+hoursKept; g++ {
			m.hourly[g%hoursKept] = float32(math.NaN()) // a gap
		}
	}
	m.hourly[h%hoursKept] = float32(v)
	m.hourAt = h + 1
}

// detect sets the period from the autocorrelation of the hourly series at
// lags 24 h and 168 h: daily when r24 is clearly positive, weekly when ten
// days are kept and r168 beats r24 by a margin (same weekday is more alike
// than the day before).
func (m *Model) detect() {
	n := int(min(m.hourAt-m.hourFirst, int64(hoursKept)))
	r24 := m.acf(24, n)
	r168 := math.NaN()
	if n >= 168+72 { // ten days: three days of same-weekday pairs
		r168 = m.acf(168, n)
	}
	switch {
	case !(r24 > 0.3):
		// Once a period was found keep it through a noisy day; only a
		// model that never found one stays at None.
		if m.period == None {
			return
		}
	case r168 > r24+0.05:
		m.period = Weekly
	default:
		m.period = Daily
	}
}

// acf is the lag-k autocorrelation over the last n hours, skipping gaps.
func (m *Model) acf(k, n int) float64 {
	if n <= k+24 {
		return math.NaN()
	}
	var sum, sq float64
	cnt := 0
	for i := m.hourAt - int64(n); i < m.hourAt; i++ {
		v := float64(m.hourly[((i%hoursKept)+hoursKept)%hoursKept])
		if !math.IsNaN(v) {
			sum += v
			sq += v * v
			cnt++
		}
	}
	if cnt < 2 {
		return math.NaN()
	}
	mean := sum / float64(cnt)
	vr := sq/float64(cnt) - mean*mean
	if vr <= 0 {
		return math.NaN()
	}
	var c float64
	pairs := 0
	for i := m.hourAt - int64(n) + int64(k); i < m.hourAt; i++ {
		a := float64(m.hourly[((i%hoursKept)+hoursKept)%hoursKept])
		b := float64(m.hourly[(((i-int64(k))%hoursKept)+hoursKept)%hoursKept])
		if math.IsNaN(a) || math.IsNaN(b) {
			continue
		}
		c += (a - mean) * (b - mean)
		pairs++
	}
	if pairs < 24 {
		return math.NaN()
	}
	return c / float64(pairs) / vr
}
