package replicasim

import (
	"math"
	"strconv"
	"time"

	"github.com/trimtab-dev/trimtab/internal/stats"
)

// Float is a float64 that encodes NaN (no value, e.g. a median of no
// peaks or a ratio over zero) as JSON null.
type Float float64

// MarshalJSON writes null for NaN and ±Inf.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// Score is one strategy's outcome over the evaluation window. The JSON field
// names are stable; docs/replicas.md documents them. Every strategy has
// every field; the peak leads are null for static (a fixed count's "lead"
// is only the time since the window began) and with no whole day.
type Score struct {
	TargetUtilization     float64   `json:"target_utilization"`
	ReplicaHours          float64   `json:"replica_hours"`
	OverloadMinutes       float64   `json:"overload_minutes"`
	OverTargetMinutes     float64   `json:"over_target_minutes"`
	ScaleEvents           int       `json:"scale_events"`
	Flaps                 int       `json:"flaps"`
	PeakLeadMinutesMedian Float     `json:"peak_lead_minutes_median"`
	PeakLeadMinutes       []float64 `json:"peak_lead_minutes"`
	Cost                  float64   `json:"cost"`
	MeanReplicas          float64   `json:"mean_replicas"`
	MaxReplicas           int32     `json:"max_replicas"`
}

// score evaluates a run on syncs [from, to).
func score(tr Trace, cfg Config, r run, from, to int, target float64) Score {
	s := Score{TargetUtilization: target}
	dt := cfg.Sync.Minutes()
	lastDir, lastAt := 0, -1
	flapSyncs := int(cfg.FlapWindow / cfg.Sync)
	var sum float64
	for k := from; k < to; k++ {
		now := tr.Start.Add(time.Duration(k) * cfg.Sync)
		load := loadAt(tr, now)
		if math.IsNaN(load) {
			continue // a gap in the trace: nothing to score
		}
		capacity := float64(r.ready[k]) * cfg.CapacityPerPod
		if load > capacity {
			s.OverloadMinutes += dt
		}
		if load > capacity*cfg.TargetUtilization {
			s.OverTargetMinutes += dt
		}
		sum += float64(r.desired[k])
		s.MaxReplicas = max(s.MaxReplicas, r.desired[k])
		if k > from && r.desired[k] != r.desired[k-1] {
			s.ScaleEvents++
			dir := 1
			if r.desired[k] < r.desired[k-1] {
				dir = -1
			}
			if lastDir != 0 && dir != lastDir && k-lastAt <= flapSyncs {
				s.Flaps++
			}
			lastDir, lastAt = dir, k
		}
	}
	s.ReplicaHours = sum * cfg.Sync.Hours()
	s.Cost = s.ReplicaHours * cfg.PricePerPodHour
	if to > from {
		s.MeanReplicas = sum / float64(to-from)
	}
	s.PeakLeadMinutesMedian = Float(math.NaN())
	if r.fixed {
		return s // null leads: see run.fixed
	}
	s.PeakLeadMinutes = peakLeads(tr, cfg, r, from, to)
	if m, ok := stats.Median(s.PeakLeadMinutes); ok {
		s.PeakLeadMinutesMedian = Float(m)
	}
	return s
}

// peakLeads measures, for each whole day in the window, how long before the
// day's peak (the highest 15-minute mean) ready capacity had been
// continuously enough to serve that mean at 100%. Negative: it came late
// (−15 when it never came within the peak quarter-hour).
func peakLeads(tr Trace, cfg Config, r run, from, to int) []float64 {
	win := max(int(15*time.Minute/tr.Step), 1)
	perSync := func(i int) int { return int(time.Duration(i) * tr.Step / cfg.Sync) }
	sampleOf := func(k int) int { return int(time.Duration(k) * cfg.Sync / tr.Step) }
	first, last := sampleOf(from), sampleOf(to)
	var leads []float64
	day := tr.At(first).Truncate(24 * time.Hour)
	if day.Before(tr.At(first)) {
		day = day.Add(24 * time.Hour)
	}
	for ; !day.Add(24 * time.Hour).After(tr.At(last)); day = day.Add(24 * time.Hour) {
		a := int(day.Sub(tr.Start) / tr.Step)
		b := int(day.Add(24*time.Hour).Sub(tr.Start) / tr.Step)
		best, bestAt := -1.0, -1
		var run float64
		for i := a; i < b; i++ {
			run += nz(tr.Values[i])
			if i-a >= win {
				run -= nz(tr.Values[i-win])
			}
			if i-a >= win-1 && run > best {
				best, bestAt = run, i-win+1
			}
		}
		if bestAt < 0 {
			continue
		}
		need := int32(math.Ceil(best / float64(win) / cfg.CapacityPerPod))
		k0 := perSync(bestAt)
		if k0 >= len(r.ready) {
			continue
		}
		if r.ready[k0] < need {
			late := -15.0
			for k := k0; k < min(k0+perSync(win), len(r.ready)); k++ {
				if r.ready[k] >= need {
					late = -float64(k-k0) * cfg.Sync.Minutes()
					break
				}
			}
			leads = append(leads, late)
			continue
		}
		k := k0
		for k > from && r.ready[k-1] >= need {
			k--
		}
		leads = append(leads, float64(k0-k)*cfg.Sync.Minutes())
	}
	return leads
}

func nz(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
