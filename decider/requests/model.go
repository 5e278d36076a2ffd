package requests

import (
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests/histogram"
)

// Sample is one usage observation of a container: CPU in cores, memory in
// bytes (the working set, or for a memory peak the peak of the interval).
type Sample struct {
	Time   time.Time
	CPU    float64
	Memory float64
}

// Container is the learned usage model of one container. Feed it samples in
// time order with AddSample and OOM kills with RecordOOM; ask it with
// Recommend. It is not safe for concurrent use.
type Container struct {
	cfg Config
	cpu *histogram.Decaying
	mem *histogram.Decaying

	first, last time.Time
	samples     int64

	// peakStart and peak are the current memory interval and its running
	// peak, which is the one memory sample the interval contributes.
	peakStart time.Time
	peak      float64

	// base is the memory target percentile when the current interval
	// began; ratio holds each finished interval's peak/base (the
	// calibration scores behind the learned margin).
	base  float64
	ratio *histogram.Decaying
	// cpuBase is the CPU target percentile when the current interval
	// began; cpuRatio holds every CPU sample / cpuBase since (the
	// calibration scores behind the learned CPU margin).
	cpuBase  float64
	cpuRatio *histogram.Decaying

	hours hourRing // hourly min and max memory for the leak detector

	// oomAt and oomFloor remember the last OOM kill and the memory it asks for.
	oomAt    time.Time
	oomFloor float64
	// leakAt and leakFloor remember the last memory raise made for a leak.
	leakAt    time.Time
	leakFloor float64
}

// NewContainer returns an empty model with the given configuration.
func NewContainer(cfg Config) (*Container, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Container{
		cfg:      cfg,
		cpu:      histogram.NewDecaying(histogram.CPU, cfg.HalfLife),
		mem:      histogram.NewDecaying(histogram.Memory, cfg.HalfLife),
		ratio:    histogram.NewDecaying(ratioBuckets, calibrationHalfLife(cfg)),
		cpuRatio: histogram.NewDecaying(ratioBuckets, calibrationHalfLife(cfg)),
	}, nil
}

// Config returns the model's configuration.
func (c *Container) Config() Config { return c.cfg }

// Samples is the number of samples added.
func (c *Container) Samples() int64 { return c.samples }

// Span returns the times of the first and the last sample the model has
// seen (zero before the first): a controller resumes reading usage after
// last, and holds lowering until the history is long enough.
func (c *Container) Span() (first, last time.Time) { return c.first, c.last }

// MaxCPU and MaxMemory bound a sample's usage: the most a Kubernetes
// resource quantity holds (an int64 of millicores, of bytes). Beyond them
// a request derived from the usage (x 1.5, + margins) could overflow.
const (
	MaxCPU    = math.MaxInt64 / 1000.0
	MaxMemory = float64(math.MaxInt64)
)

// MinSampleTime and MaxSampleTime bound a sample's time: clock times from
// the first hour after the Unix epoch (hour 0 marks an empty hourly ring)
// to the end of year 9999 (the last one RFC 3339 and JSON can write).
var (
	MinSampleTime = time.Unix(3600, 0).UTC()
	MaxSampleTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// AddSample adds one usage observation. It rejects, naming the field and the
// value, samples with a zero time or one outside [MinSampleTime,
// MaxSampleTime], a time before the previous sample, or a usage that is
// negative, NaN, infinite or above MaxCPU / MaxMemory; the model is
// unchanged then.
func (c *Container) AddSample(s Sample) error {
	switch {
	case s.Time.IsZero():
		return fmt.Errorf("usage sample: time is missing")
	case s.Time.Before(MinSampleTime) || s.Time.After(MaxSampleTime):
		return fmt.Errorf("usage sample at %s: time outside %s .. %s", s.Time.UTC().Format(time.RFC3339), MinSampleTime.Format(time.RFC3339), MaxSampleTime.Format(time.RFC3339))
	case !c.last.IsZero() && s.Time.Before(c.last):
		return fmt.Errorf("usage sample at %s: before the previous sample at %s; samples must be in time order", s.Time.UTC().Format(time.RFC3339), c.last.UTC().Format(time.RFC3339))
	case !validUsage(s.CPU) || s.CPU > MaxCPU:
		return fmt.Errorf("usage sample at %s: cpu %v: must be a number of cores from 0 to %g", s.Time.UTC().Format(time.RFC3339), s.CPU, MaxCPU)
	case !validUsage(s.Memory) || s.Memory > MaxMemory:
		return fmt.Errorf("usage sample at %s: memory %v: must be a number of bytes from 0 to %g", s.Time.UTC().Format(time.RFC3339), s.Memory, MaxMemory)
	}
	if c.first.IsZero() {
		c.first = s.Time
	}
	c.last = s.Time
	c.samples++
	if c.cfg.CPUCalibration > 0 && c.cpuBase > 0 {
		c.cpuRatio.AddSample(s.CPU/c.cpuBase, 1, s.Time)
	}
	c.cpu.AddSample(s.CPU, 1, s.Time)
	c.addMemoryPeak(s.Memory, s.Time)
	c.hours.add(s.Time, s.Memory)
	return nil
}

func validUsage(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }

// addMemoryPeak keeps one histogram sample per interval, equal to the
// interval's running peak (VPA's AggregateContainerState does the same).
func (c *Container) addMemoryPeak(v float64, t time.Time) {
	start := t.Truncate(c.cfg.MemoryInterval)
	if !start.Equal(c.peakStart) {
		if c.cfg.CalibrationQuantile > 0 {
			if c.peak > 0 && c.base > 0 {
				c.ratio.AddSample(c.peak/c.base, 1, c.peakStart)
			}
			c.base = c.mem.Percentile(c.cfg.MemoryTarget)
		}
		if c.cfg.CPUCalibration > 0 {
			c.cpuBase = c.cpuPercentile(c.cfg.CPUTarget)
		}
		c.peakStart, c.peak = start, 0
	}
	if v <= c.peak {
		return
	}
	if c.peak > 0 {
		c.mem.SubtractSample(c.peak, 1, c.peakStart)
	}
	c.mem.AddSample(v, 1, c.peakStart)
	c.peak = v
}

// RecordOOM records an OOM kill at t of a container whose memory limit was
// limit bytes. Like VPA it adds a memory peak of max(limit*ratio,
// limit+minBump); unlike VPA it also keeps that value as a floor for
// Config.OOMMemory, so one quiet day cannot undo the lesson.
func (c *Container) RecordOOM(t time.Time, limit float64) error {
	if !validUsage(limit) || limit == 0 {
		return fmt.Errorf("OOM at %s: memory limit %v: must be a positive finite number of bytes", t.UTC().Format(time.RFC3339), limit)
	}
	bump := math.Max(limit*c.cfg.OOMBumpRatio, limit+c.cfg.OOMMinBump)
	c.addMemoryPeak(bump, t)
	if t.After(c.oomAt) || bump > c.oomFloor {
		c.oomAt = t
		c.oomFloor = math.Max(bump, c.activeOOMFloor(t))
	}
	return nil
}

// RecordLeakRaise records that memory was raised to memory bytes at t for
// a leak (a Recommendation with LeakRaise applied): it stays a floor for
// Leak.Remember.
func (c *Container) RecordLeakRaise(t time.Time, memory float64) error {
	if !validUsage(memory) || memory == 0 {
		return fmt.Errorf("leak raise at %s: memory %v: must be a positive finite number of bytes", t.UTC().Format(time.RFC3339), memory)
	}
	c.leakFloor = math.Max(memory, c.activeLeakFloor(t))
	c.leakAt = t
	return nil
}

// activeLeakFloor is the remembered leak raise if it is still in force at now.
func (c *Container) activeLeakFloor(now time.Time) float64 {
	if c.leakAt.IsZero() || now.Sub(c.leakAt) > c.cfg.Leak.Remember {
		return 0
	}
	return c.leakFloor
}

// activeOOMFloor is the remembered OOM bump if it is still in force at now.
func (c *Container) activeOOMFloor(now time.Time) float64 {
	if c.oomAt.IsZero() || now.Sub(c.oomAt) > c.cfg.OOMMemory {
		return 0
	}
	return c.oomFloor
}

// historyDays is how many days of usage the model has seen.
func (c *Container) historyDays() float64 {
	return c.last.Sub(c.first).Hours() / 24
}

// ratioBuckets hold calibration scores (interval peak / target percentile):
// 2% buckets from 0.01, up to 100.
var ratioBuckets = histogram.MustExponential(100, 0.01, 1.02)

// calibrationHalfLife is the scores' half-life; any positive value when
// calibration is off (the histogram then stays empty).
func calibrationHalfLife(cfg Config) time.Duration {
	if cfg.CalibrationHalfLife > 0 {
		return cfg.CalibrationHalfLife
	}
	return cfg.HalfLife
}

// memoryMargin is 1 + the memory margin: Config.MemoryMargin, or with
// calibration on the CalibrationQuantile of the scores once a day of them
// (24 hourly scores) has been seen, whichever is larger.
func (c *Container) memoryMargin(now time.Time) float64 {
	return learnedMargin(c.cfg.MemoryMargin, c.cfg.CalibrationQuantile, c.ratio, c.ratio.TotalWeight(now) >= 24)
}

// learnedMargin is 1 + the configured margin, or the q-quantile of the
// calibration scores once they are ready, whichever is larger (q 0: off).
func learnedMargin(margin, q float64, scores *histogram.Decaying, ready bool) float64 {
	m := 1 + margin
	if q > 0 && ready {
		m = math.Max(m, scores.Percentile(q))
	}
	return m
}

// cpuPercentile reads the CPU histogram, inside the bucket when configured.
func (c *Container) cpuPercentile(p float64) float64 {
	if c.cfg.CPUWithinBucket {
		return c.cpu.PercentileWithin(p)
	}
	return c.cpu.Percentile(p)
}

// cpuMargin is 1 + the CPU margin: Config.CPUMargin, or with calibration on
// the CPUCalibration quantile of usage / target once a day of samples has
// been scored (the scores start at the first hour's end), whichever is larger.
func (c *Container) cpuMargin(now time.Time) float64 {
	return learnedMargin(c.cfg.CPUMargin, c.cfg.CPUCalibration, c.cpuRatio, now.Sub(c.first) >= 25*time.Hour)
}
