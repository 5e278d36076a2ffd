package requests

import (
	"math"
	"math/rand/v2"
	"time"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// healthy generates days of 5-minute samples of a container with a daily
// memory cycle (base +- amp), a 2-hour GC sawtooth, noise and a weekend dip,
// and CPU following the same cycle: periodic, never leaking.
func healthy(seed uint64, days int, base, amp float64) []Sample {
	r := rand.New(rand.NewPCG(seed, 99))
	var out []Sample
	for i := 0; i < days*288; i++ {
		t := t0.Add(time.Duration(i) * 5 * time.Minute)
		h := float64(i) / 12
		day := 0.5 - 0.5*math.Cos(2*math.Pi*(h-3)/24) // 0 at 03:00, 1 at 15:00
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			day *= 0.6
		}
		saw := math.Mod(h, 2) / 2 // GC every 2 hours
		mem := base + amp*day + 0.1*amp*saw + r.NormFloat64()*0.03*amp
		cpu := 0.2 + 0.8*day + math.Abs(r.NormFloat64())*0.1
		out = append(out, Sample{Time: t, CPU: cpu, Memory: math.Max(mem, 0)})
	}
	return out
}

// withLeak adds rate bytes/hour from start on.
func withLeak(s []Sample, start time.Time, rate float64) []Sample {
	out := make([]Sample, len(s))
	copy(out, s)
	for i := range out {
		if d := out[i].Time.Sub(start); d > 0 {
			out[i].Memory += rate * d.Hours()
		}
	}
	return out
}
