package requests

import (
	"fmt"
	"time"
)

// MiB is 2^20 bytes.
const MiB = 1 << 20

// Config holds the constants of the usage model and of the recommendation.
// DefaultConfig is trimtab's; VPAConfig reproduces the VPA recommender's
// defaults, used as the baseline in `trimtab simulate requests`.
type Config struct {
	// HalfLife is how long a sample takes to lose half its weight.
	HalfLife time.Duration
	// MemoryInterval is the length of the interval whose peak is one memory
	// sample (VPA: 24h).
	MemoryInterval time.Duration

	// CPUTarget, CPULower, CPUUpper are CPU percentiles (0..1).
	CPUTarget, CPULower, CPUUpper float64
	// MemoryTarget, MemoryLower, MemoryUpper are percentiles of the memory
	// peaks (0..1).
	MemoryTarget, MemoryLower, MemoryUpper float64
	// CPUMargin and MemoryMargin are the safety margins added to the
	// percentiles (0.15 = +15%).
	CPUMargin, MemoryMargin float64
	// ConfidenceBounds widens the bounds of a young history as VPA does:
	// upper x (1 + 1/days), lower x (1 + 0.001/days)^-2.
	ConfidenceBounds bool

	// MinCPU and MinMemory are floors for any recommendation (cores, bytes).
	MinCPU, MinMemory float64

	// OOMBumpRatio and OOMMinBump size the memory after an OOM kill:
	// max(limit*ratio, limit+minBump) (VPA: 1.2 and 100 MiB).
	OOMBumpRatio float64
	OOMMinBump   float64
	// OOMMemory is how long an OOM bump is kept as a floor (0 = only as a
	// histogram sample, as VPA does).
	OOMMemory time.Duration

	// PeakMemory: memory is never below the highest hourly peak of this
	// last window (+margin); 0 turns it off.
	PeakMemory time.Duration
	// WeeklyAhead floors memory at the weekly envelope: the highest hourly
	// peak of the same hours-of-week (±1 h) one week before the next
	// WeeklyAhead, so a weekly batch spike is covered before it comes
	// back; 0 turns it off.
	WeeklyAhead time.Duration

	// CalibrationQuantile, when > 0, makes the memory margin learned per
	// container: the CalibrationQuantile of the ratio of each interval's
	// peak to the target percentile as it stood when the interval began
	// (a conformal score), decaying with CalibrationHalfLife. The margin is
	// never below MemoryMargin.
	CalibrationQuantile float64
	// CalibrationHalfLife is the half-life of the calibration scores.
	CalibrationHalfLife time.Duration

	// Leak configures the memory-leak detector; Leak.Enabled false turns it off.
	Leak LeakConfig

	// ChangeFraction is the relative difference below which Decide keeps the
	// current request (hysteresis).
	ChangeFraction float64
	// LowerFraction, when > 0, replaces ChangeFraction for lowering memory:
	// the memory request must be this much above the target before Decide
	// lowers it (a learned margin moves; lowering on every move is churn).
	LowerFraction float64
	// CPULowerFraction does the same for CPU (0: ChangeFraction). A p99
	// target falls as a burst ages out of the half-life; following it down
	// at 10% was most of the request changes on the recorded VMs (139 vs
	// VPA's 117; at 50%, 111).
	CPULowerFraction float64
	// CPUCalibration, when > 0, learns the CPU margin per container, as
	// CalibrationQuantile does for memory: this quantile of every CPU
	// sample / the CPU target as it stood when the sample's hour began
	// (at least CPUMargin). A steady container keeps ~0; one whose CPU
	// drifts above its p99 gets what it has needed.
	CPUCalibration float64
	// CPUWithinBucket reads CPU percentiles inside their 5% histogram
	// bucket rather than at its end (VPA's, up to 5% high: on a flat
	// CPU most of the slack).
	CPUWithinBucket bool
	// MemoryLowersOnItsOwn keeps memory when a change is made for CPU and
	// memory is not itself LowerFraction above its target.
	MemoryLowersOnItsOwn bool
	// MinChangeInterval is how old requests must be before a change that
	// is not forced by the bounds (VPA's updater: 12h).
	MinChangeInterval time.Duration
	// ImmediateRaise raises without waiting for MinChangeInterval.
	ImmediateRaise bool
}

// DefaultConfig returns trimtab's model: VPA's histograms and half-life, but
// CPU at p99 (read inside its bucket) times a margin learned per container
// (p99 of usage / p99, at least 0), lowered only at 50% below, and memory peaks
// per hour rather than per day, read at p99 times a margin
// learned per container (p99.5 of peak/p99 scores, at least 5%), floored at
// last week's peaks of the next 24 h, plus the leak detector, a remembered
// OOM floor, and lowering only at 15% below so the moving margin adds no
// churn.
func DefaultConfig() Config {
	return Config{
		HalfLife:             24 * time.Hour,
		MemoryInterval:       time.Hour,
		CPUTarget:            0.99,
		CPULower:             0.5,
		CPUUpper:             1,
		MemoryTarget:         0.99,
		MemoryLower:          0.5,
		MemoryUpper:          1,
		CPUMargin:            0,
		MemoryMargin:         0.05,
		MinCPU:               0.025,
		MinMemory:            250 * MiB,
		OOMBumpRatio:         1.2,
		OOMMinBump:           100 * MiB,
		OOMMemory:            7 * 24 * time.Hour,
		Leak:                 DefaultLeakConfig(),
		ChangeFraction:       0.1,
		MinChangeInterval:    12 * time.Hour,
		WeeklyAhead:          24 * time.Hour,
		CalibrationQuantile:  0.995,
		CalibrationHalfLife:  7 * 24 * time.Hour,
		LowerFraction:        0.15,
		CPULowerFraction:     0.5,
		CPUCalibration:       0.99,
		CPUWithinBucket:      true,
		MemoryLowersOnItsOwn: true,
	}
}

// VPAConfig returns the defaults of the VPA recommender
// (pkg/recommender/model/aggregations_config.go and
// pkg/recommender/logic/recommender.go): 24h half-life, daily memory peaks,
// p90 targets, p50 lower and p95 upper bounds, +15% margin, confidence-scaled
// bounds, 25m / 250 MiB minimums, OOM bump 1.2x or +100 MiB, no leak trend.
func VPAConfig() Config {
	return Config{
		HalfLife:          24 * time.Hour,
		MemoryInterval:    24 * time.Hour,
		CPUTarget:         0.9,
		CPULower:          0.5,
		CPUUpper:          0.95,
		MemoryTarget:      0.9,
		MemoryLower:       0.5,
		MemoryUpper:       0.95,
		CPUMargin:         0.15,
		MemoryMargin:      0.15,
		ConfidenceBounds:  true,
		MinCPU:            0.025,
		MinMemory:         250 * MiB,
		OOMBumpRatio:      1.2,
		OOMMinBump:        100 * MiB,
		ChangeFraction:    0.1,
		MinChangeInterval: 12 * time.Hour,
	}
}

// Validate reports the first setting out of range, naming it.
func (c Config) Validate() error {
	pct := map[string]float64{
		"cpuTarget": c.CPUTarget, "cpuLower": c.CPULower, "cpuUpper": c.CPUUpper,
		"memoryTarget": c.MemoryTarget, "memoryLower": c.MemoryLower, "memoryUpper": c.MemoryUpper,
	}
	for name, p := range pct {
		if !(p > 0 && p <= 1) {
			return fmt.Errorf("requests config %s=%v: must be a percentile in (0, 1]", name, p)
		}
	}
	switch {
	case c.HalfLife <= 0:
		return fmt.Errorf("requests config halfLife=%v: must be positive", c.HalfLife)
	case c.MemoryInterval <= 0:
		return fmt.Errorf("requests config memoryInterval=%v: must be positive", c.MemoryInterval)
	case !(c.CPUMargin >= 0) || !(c.MemoryMargin >= 0):
		return fmt.Errorf("requests config cpuMargin=%v, memoryMargin=%v: must be >= 0", c.CPUMargin, c.MemoryMargin)
	case !(c.OOMBumpRatio >= 1):
		return fmt.Errorf("requests config oomBumpRatio=%v: must be >= 1", c.OOMBumpRatio)
	case !(c.CalibrationQuantile >= 0 && c.CalibrationQuantile <= 1):
		return fmt.Errorf("requests config calibrationQuantile=%v: must be 0 (off) or a percentile in (0, 1]", c.CalibrationQuantile)
	case c.CalibrationQuantile > 0 && c.CalibrationHalfLife <= 0:
		return fmt.Errorf("requests config calibrationHalfLife=%v: must be positive when calibrationQuantile is set", c.CalibrationHalfLife)
	case !(c.LowerFraction >= 0):
		return fmt.Errorf("requests config lowerFraction=%v: must be >= 0", c.LowerFraction)
	case !(c.CPUCalibration >= 0 && c.CPUCalibration < 1):
		return fmt.Errorf("requests config cpuCalibration=%v: must be in [0, 1) (0: off)", c.CPUCalibration)
	case !(c.CPULowerFraction >= 0):
		return fmt.Errorf("requests config cpuLowerFraction=%v: must be >= 0", c.CPULowerFraction)
	case !(c.ChangeFraction >= 0):
		return fmt.Errorf("requests config changeFraction=%v: must be >= 0", c.ChangeFraction)
	}
	if c.Leak.Enabled {
		return c.Leak.validate()
	}
	return nil
}
