package forecast

import "math"

// class is the error class of a level (a seasonal base value or a recent
// mean) against the profile's mean.
func (m *Model) class(level float64) int { return Class(level, m.daySum/float64(m.slots)) }

// Class is the load class the error bands are kept by: a level against the
// workload's mean level, 0 quiet (under 0.6×), 1 below the mean, 2 above,
// 3 busy (1.4× and over); 1 while there is no mean yet.
func Class(level, mean float64) int {
	if mean <= 0 {
		return 1
	}
	switch r := level / mean; {
	case r < 0.6:
		return 0
	case r < 1:
		return 1
	case r < 1.4:
		return 2
	}
	return 3
}

// scoreSample records how far v is from the forecast made Lead ago for its
// bucket, so the band covers sample-level noise at the decision's lead.
func (m *Model) scoreSample(b int64, v, w float64) {
	lead := int64(m.cfg.Lead / m.cfg.Bucket)
	if m.buckets < m.slots || lead >= levelRing || b-lead-1 < 0 {
		return
	}
	base := m.base(b)
	if base <= 0 {
		return
	}
	lvl := float64(m.levels[(b-lead-1)%levelRing])
	if lvl <= 0 {
		return
	}
	m.addError(&m.errH, &m.errW, m.class(base), math.Log(math.Max(v, 1e-9)/(base*lvl)), w)
}

// addError decays the histograms of class c by a sample of weight w and
// adds the log error e with that weight.
func (m *Model) addError(hs *[errClasses][errBins]float32, ws *[errClasses]float64, c int, e, w float64) {
	h := &hs[c]
	d := m.decayOf(w)
	for j := range h {
		h[j] *= float32(d)
	}
	h[min(max(int((e-errLo)/errStep), 0), errBins-1)] += float32(w)
	ws[c] = ws[c]*d + w
}

// minClassWeight is how many (decayed) minutes of scored samples a class needs before
// its own band is used instead of the pooled one.
const minClassWeight = 200

// errQuantile is the q-quantile of the seasonal arm's log error of class c.
func (m *Model) errQuantile(c int, q float64) float64 { return quantileOf(&m.errH, &m.errW, c, q) }

// quantileOf is the q-quantile of the log errors of class c in hs (pooled
// over classes while c has few samples; a wide default with none).
func quantileOf(hs *[errClasses][errBins]float32, ws *[errClasses]float64, c int, q float64) float64 {
	h, w := &hs[c], ws[c]
	var pooled [errBins]float32
	if w < minClassWeight {
		w = 0
		for k := range hs {
			w += ws[k]
			for j, x := range hs[k] {
				pooled[j] += x
			}
		}
		h = &pooled
	}
	if w < 50 {
		return math.Log(1.5) // too few scored samples: a wide default band
	}
	// Interpolate within the bin: returning its upper edge would widen
	// every band by up to a bin (5%), which on smooth traffic is most of
	// the band.
	target := q * w
	var cum float64
	for i, x := range h {
		if x > 0 && cum+float64(x) >= target {
			return errLo + (float64(i)+(target-cum)/float64(x))*errStep
		}
		cum += float64(x)
	}
	return errLo + errBins*errStep
}
