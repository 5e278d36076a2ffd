package requests

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Resources is a CPU (cores) and memory (bytes) pair.
type Resources struct {
	CPU    float64 `json:"cpu_cores"`
	Memory float64 `json:"memory_bytes"`
}

// Bounds bounds a recommendation: the workload's min and max (0 = none) and
// the largest node's allocatable (0 = unknown), so trimtab never recommends a
// pod that cannot schedule.
type Bounds struct {
	Min, Max        Resources
	NodeAllocatable Resources
}

// Recommendation is what the model suggests for one container, with a reason
// per resource.
type Recommendation struct {
	Target, Lower, Upper Resources
	CPUReason            string
	MemoryReason         string
	// Leak is the detected memory growth, if any.
	Leak *Leak
	// Urgent is set when a recent OOM kill or an imminent leak-driven OOM
	// set the memory target: Decide then raises without waiting.
	Urgent bool
	// LeakRaise is set when the leak detector set the memory target.
	LeakRaise bool
}

// Recommend computes the recommendation as of now. memoryLimit is the
// container's current memory limit (bytes; 0 if unknown), against which the
// leak detector projects the OOM. It is the histograms' percentiles times
// the learned margins, raised by the memory floors (recent peak, weekly
// envelope, OOM bump, leak), then bounded by the policy and the largest
// node and rounded.
func (c *Container) Recommend(now time.Time, p Bounds, memoryLimit float64) Recommendation {
	m := c.memoryMargin(now)
	r := c.percentiles(now, m)
	c.raiseMemory(&r, now, m, memoryLimit)
	r.Lower.Memory = math.Min(r.Lower.Memory, r.Target.Memory)
	r.Upper.Memory = math.Max(r.Upper.Memory, r.Target.Memory)
	r.Lower.CPU = math.Min(r.Lower.CPU, r.Target.CPU)
	r.Upper.CPU = math.Max(r.Upper.CPU, r.Target.CPU)
	c.bound(&r, p)
	return r
}

// percentiles is the VPA-style part of the recommendation: each resource's
// target, lower and upper percentiles times its learned margin (memory's is
// m), widened for a young history when Config.ConfidenceBounds is set.
func (c *Container) percentiles(now time.Time, m float64) Recommendation {
	cfg := c.cfg
	var r Recommendation
	mc := c.cpuMargin(now)
	r.Target.CPU = c.cpuPercentile(cfg.CPUTarget) * mc
	r.Lower.CPU = c.cpuPercentile(cfg.CPULower) * mc
	r.Upper.CPU = c.cpuPercentile(cfg.CPUUpper) * mc
	r.Target.Memory = c.mem.Percentile(cfg.MemoryTarget) * m
	r.Lower.Memory = c.mem.Percentile(cfg.MemoryLower) * m
	r.Upper.Memory = c.mem.Percentile(cfg.MemoryUpper) * m
	r.CPUReason = fmt.Sprintf("p%g of CPU over %.1f days +%.0f%%", cfg.CPUTarget*100, c.historyDays(), (mc-1)*100)
	r.MemoryReason = fmt.Sprintf("p%g of %s memory peaks over %.1f days +%.0f%%", cfg.MemoryTarget*100, intervalName(cfg.MemoryInterval), c.historyDays(), (m-1)*100)
	if cfg.ConfidenceBounds {
		if d := math.Max(c.historyDays(), 1.0/24); d > 0 {
			up, lo := 1+1/d, math.Pow(1+0.001/d, -2)
			r.Upper.CPU *= up
			r.Upper.Memory *= up
			r.Lower.CPU *= lo
			r.Lower.Memory *= lo
		}
	}
	return r
}

// raiseMemory applies trimtab's memory floors to r's target, each only when
// it is higher, the last that applies giving the reason: the recent peak,
// the weekly envelope, a recent OOM kill's bump, a remembered leak raise,
// a detected leak (held at the limit, raised ahead of a projected OOM), and
// a floor above its week's range. m is the memory margin.
func (c *Container) raiseMemory(r *Recommendation, now time.Time, m, memoryLimit float64) {
	cfg := c.cfg
	if w := cfg.PeakMemory; w > 0 {
		if top, ok := c.recentPeak(now, w); ok && top*m > r.Target.Memory {
			r.Target.Memory = top * m
			r.MemoryReason = fmt.Sprintf("peak of the last %s +%.0f%%", w, (m-1)*100)
		}
	}
	if a := cfg.WeeklyAhead; a > 0 {
		if top, ok := c.weeklyEnvelope(now, a); ok && top*m > r.Target.Memory {
			r.Target.Memory = top * m
			r.MemoryReason = fmt.Sprintf("peak of the same hours last week (next %s) +%.0f%%", a, (m-1)*100)
		}
	}
	if f := c.activeOOMFloor(now); f > 0 && (f > r.Target.Memory || f > memoryLimit) {
		// A recent OOM kill: at least the bump, and at once if the
		// container runs below it.
		r.Target.Memory = math.Max(r.Target.Memory, f)
		r.Urgent = f > memoryLimit
		r.MemoryReason = fmt.Sprintf("OOM kill at %s: at least %s (max of x%g, +%s)", c.oomAt.UTC().Format("01-02 15:04"), FormatBytes(f), cfg.OOMBumpRatio, FormatBytes(cfg.OOMMinBump))
	}
	if f := c.activeLeakFloor(now); f > r.Target.Memory {
		r.Target.Memory = f
		r.MemoryReason = fmt.Sprintf("raised for a memory leak at %s: at least %s until %s", c.leakAt.UTC().Format("01-02 15:04"), FormatBytes(f), c.leakAt.Add(cfg.Leak.Remember).UTC().Format("01-02 15:04"))
	}
	if l := c.DetectLeak(now, memoryLimit); l != nil {
		r.Leak = l
		if memoryLimit > r.Target.Memory {
			// Never lower memory while it is growing.
			r.Target.Memory = memoryLimit
			r.MemoryReason = fmt.Sprintf("%s; holding %s", l, FormatBytes(memoryLimit))
		}
		if l.Urgent(now, cfg.Leak.Horizon, cfg.Leak.Soon) {
			raise := (l.Peak + l.Rate*cfg.Leak.Ahead.Hours()) * m
			if raise > r.Target.Memory {
				r.Target.Memory = raise
				r.Urgent, r.LeakRaise = true, true
				r.MemoryReason = fmt.Sprintf("%s; raising to %s", l, FormatBytes(RoundMemory(raise)))
			}
		}
	}
	if r.Leak == nil && memoryLimit > r.Target.Memory && c.FloorAboveWeek(now) {
		r.Target.Memory = memoryLimit
		r.MemoryReason = fmt.Sprintf("memory floor above its range of the past week; holding %s", FormatBytes(memoryLimit))
	}
}

// bound clamps r to the configured minimums, the policy's bounds and the
// largest node's allocatable, notes on the target's reasons why it moved,
// and rounds every value.
func (c *Container) bound(r *Recommendation, p Bounds) {
	cfg := c.cfg
	floor := Resources{CPU: math.Max(cfg.MinCPU, p.Min.CPU), Memory: math.Max(cfg.MinMemory, p.Min.Memory)}
	var notes []string
	r.Target.CPU, notes = clamp("cpu", r.Target.CPU, floor.CPU, p.Max.CPU, p.NodeAllocatable.CPU, notes)
	r.Target.Memory, notes = clamp("memory", r.Target.Memory, floor.Memory, p.Max.Memory, p.NodeAllocatable.Memory, notes)
	r.Lower.CPU, _ = clamp("", r.Lower.CPU, floor.CPU, p.Max.CPU, p.NodeAllocatable.CPU, nil)
	r.Upper.CPU, _ = clamp("", r.Upper.CPU, floor.CPU, p.Max.CPU, p.NodeAllocatable.CPU, nil)
	r.Lower.Memory, _ = clamp("", r.Lower.Memory, floor.Memory, p.Max.Memory, p.NodeAllocatable.Memory, nil)
	r.Upper.Memory, _ = clamp("", r.Upper.Memory, floor.Memory, p.Max.Memory, p.NodeAllocatable.Memory, nil)
	for _, n := range notes {
		if strings.HasPrefix(n, "cpu") {
			r.CPUReason += "; " + n
		} else {
			r.MemoryReason += "; " + n
		}
	}
	r.Target = Round(r.Target)
	r.Lower = Round(r.Lower)
	r.Upper = Round(r.Upper)
}

// clamp bounds v by lo, hi (0 = none) and the node allocatable (0 =
// unknown), noting why it moved.
func clamp(name string, v, lo, hi, node float64, notes []string) (float64, []string) {
	switch {
	case node > 0 && v > node:
		notes = append(notes, fmt.Sprintf("%s capped at the largest node's allocatable %s", name, formatResource(name, node)))
		v = node
	case hi > 0 && v > hi:
		notes = append(notes, fmt.Sprintf("%s capped at policy max %s", name, formatResource(name, hi)))
		v = hi
	}
	if v < lo {
		notes = append(notes, fmt.Sprintf("%s raised to minimum %s", name, formatResource(name, lo)))
		v = lo
		if node > 0 && v > node {
			v = node
		}
	}
	return v, notes
}

func intervalName(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hourly"
	case 24 * time.Hour:
		return "daily"
	}
	return d.String()
}

// recentPeak is the highest hourly memory peak in the window before now.
func (c *Container) recentPeak(now time.Time, w time.Duration) (float64, bool) {
	top, seen := 0.0, false
	end := min(unixHour(now), c.hours.last)
	for h := end - int64(w/time.Hour) + 1; h <= end; h++ {
		if _, hi, ok := c.hours.at(h); ok {
			top, seen = math.Max(top, hi), true
		}
	}
	return top, seen
}

// weeklyEnvelope is the highest hourly memory peak at the hours-of-week of
// the next ahead after now (±1 h), as seen one week before: a weekly spike
// repeats at the same hour, and remembering it is not overfitting.
func (c *Container) weeklyEnvelope(now time.Time, ahead time.Duration) (float64, bool) {
	top, seen := 0.0, false
	h0 := unixHour(now) - weekHours
	for h := h0 - 1; h <= h0+int64(ahead/time.Hour)+1; h++ {
		if _, hi, ok := c.hours.at(h); ok {
			top, seen = math.Max(top, hi), true
		}
	}
	return top, seen
}
