package loadexporter

import (
	"fmt"
	"math"
	"time"

	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

const day = 24 * time.Hour

// Replay plays a trace on the wall clock: the wall-clock instant Start plays
// the trace at TraceAt, later instants play later trace time at the same
// pace, and trace time wraps around from the trace's end to its start (and
// before its start to its end), so a Replay has a value at every instant.
type Replay struct {
	Trace replicasim.Trace
	// Start is the wall-clock instant that plays TraceAt.
	Start time.Time
	// TraceAt is a time on the trace's clock (Trace.Start ≤ TraceAt <
	// the trace's end).
	TraceAt time.Time
}

// span is the trace's length: one step per value.
func (r Replay) span() time.Duration { return time.Duration(len(r.Trace.Values)) * r.Trace.Step }

// index returns the sample that plays at the wall-clock instant now.
func (r Replay) index(now time.Time) int {
	span := r.span()
	off := (now.Sub(r.Start) + r.TraceAt.Sub(r.Trace.Start)) % span
	if off < 0 {
		off += span
	}
	return int(off / r.Trace.Step)
}

// TraceTime returns the trace time that plays at now (the start of its sample).
func (r Replay) TraceTime(now time.Time) time.Time { return r.Trace.At(r.index(now)) }

// Value returns the trace's value at now; ok is false where the trace has a
// gap (a missing sample, NaN in Trace.Values), which a scrape then leaves out.
func (r Replay) Value(now time.Time) (v float64, ok bool) {
	v = r.Trace.Values[r.index(now)]
	return v, !math.IsNaN(v)
}

// SampleTimes returns the wall-clock instants in [from, to) at which the
// trace's samples begin to play: Start + k·Step for whole k. These are the
// instants a backfill writes, so the history lines up with the live replay.
func (r Replay) SampleTimes(from, to time.Time) []time.Time {
	step := r.Trace.Step
	// The first k with Start + k·step ≥ from: division truncates toward
	// zero, which rounds up already when from is before Start.
	d := from.Sub(r.Start)
	k := d / step
	if d%step > 0 {
		k++
	}
	t := r.Start.Add(k * step)
	var out []time.Time
	for ; t.Before(to); t = t.Add(step) {
		out = append(out, t)
	}
	return out
}

// Align returns the Replay that starts at start and plays the trace's daily
// ramp, at rampAt after midnight on the trace's clock, lead after start. It
// picks the first trace day that leaves at least history of trace before the
// played instant, so a backfill of that history does not wrap around; a
// trace too short for that plays its last day whose ramp it holds, and the
// history then wraps (visible as a jump where the trace's end meets its
// start).
func Align(tr replicasim.Trace, start time.Time, rampAt, lead, history time.Duration) (Replay, error) {
	if len(tr.Values) == 0 || tr.Step <= 0 {
		return Replay{}, fmt.Errorf("empty trace")
	}
	if rampAt < 0 || rampAt >= day {
		return Replay{}, fmt.Errorf("ramp time of day %s: want 0 to 24h", rampAt)
	}
	if lead < 0 || history < 0 {
		return Replay{}, fmt.Errorf("lead %s and history %s must not be negative", lead, history)
	}
	end := tr.At(len(tr.Values))
	var found, last time.Time
	for d := tr.Start.Truncate(day); d.Before(end); d = d.Add(day) {
		at := d.Add(rampAt - lead)
		if at.Before(tr.Start) || !d.Add(rampAt).Before(end) {
			continue
		}
		last = at
		if at.Sub(tr.Start) >= history {
			found = at
			break
		}
	}
	if found.IsZero() {
		found = last
	}
	if found.IsZero() {
		return Replay{}, fmt.Errorf("the trace (%s from %s) holds no day whose ramp at %s after midnight can play %s after the start", end.Sub(tr.Start), tr.Start.Format(time.RFC3339), rampAt, lead)
	}
	// Snap to the sample grid, so the played samples begin at Start + k·Step.
	found = tr.Start.Add(found.Sub(tr.Start) / tr.Step * tr.Step)
	return Replay{Trace: tr, Start: start, TraceAt: found}, nil
}

// RampTimeOfDay returns the trace's daily ramp: the time of day (on the
// trace's clock, a multiple of its step) at which the hour begins over which
// the average day rises most. The average day is the mean of each time of
// day's samples, gaps left out, smoothed over a centred 31-minute window so
// one noisy minute does not decide it.
func RampTimeOfDay(tr replicasim.Trace) (time.Duration, error) {
	if tr.Step <= 0 || day%tr.Step != 0 || tr.Step > time.Hour {
		return 0, fmt.Errorf("trace step %s: want a whole fraction of a day, at most an hour", tr.Step)
	}
	n := int(day / tr.Step)
	sum, cnt := make([]float64, n), make([]int, n)
	first := int(tr.Start.Sub(tr.Start.Truncate(day)) / tr.Step)
	for i, v := range tr.Values {
		if !math.IsNaN(v) {
			sum[(first+i)%n] += v
			cnt[(first+i)%n]++
		}
	}
	mean := make([]float64, n)
	for i := range mean {
		if cnt[i] == 0 {
			return 0, fmt.Errorf("no sample at %s after midnight: need at least a full day", time.Duration(i)*tr.Step)
		}
		mean[i] = sum[i] / float64(cnt[i])
	}
	half := max(int(15*time.Minute/tr.Step), 0)
	smooth := make([]float64, n)
	for i := range smooth {
		s := 0.0
		for j := -half; j <= half; j++ {
			s += mean[((i+j)%n+n)%n]
		}
		smooth[i] = s / float64(2*half+1)
	}
	hour := int(time.Hour / tr.Step)
	best, bestRise := 0, math.Inf(-1)
	for i := range smooth {
		if rise := smooth[(i+hour)%n] - smooth[i]; rise > bestRise {
			best, bestRise = i, rise
		}
	}
	return time.Duration(best) * tr.Step, nil
}
