package loadexporter

import (
	"time"

	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

// OpeningTrace is the synthetic trace of a service that opens every
// morning, days long at one-minute steps: 200 a minute (±2%, a fixed
// pattern) until 09:00, a ramp to 600 by 09:10, 600 until 10:10, back to 200
// by 10:20. Nothing in the recent past shows the ramp coming; only the
// daily profile does, which makes it the trace that shows a forecast
// scaling out ahead of load (the e2e test and `make demo` replay it from
// test/testdata/traffic/synth-opening.csv).
func OpeningTrace(days int) replicasim.Trace {
	tr := replicasim.Trace{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Step: time.Minute}
	for i := range days * 24 * 60 {
		m := float64(i % (24 * 60))
		v := 200.0
		switch {
		case m >= 540 && m < 550:
			v = 200 + 40*(m-540)
		case m >= 550 && m < 610:
			v = 600
		case m >= 610 && m < 620:
			v = 600 - 40*(m-610)
		}
		noise := float64((i*7919)%41-20) / 1000
		tr.Values = append(tr.Values, v*(1+noise))
	}
	return tr
}

// OpeningRamp is OpeningTrace's ramp, on the trace's clock.
const OpeningRamp = 9 * time.Hour
