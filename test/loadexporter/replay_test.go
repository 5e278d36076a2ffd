package loadexporter

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// minutes returns a trace of one value per minute from 2026-03-02 00:00.
func minutes(values ...float64) replicasim.Trace {
	return replicasim.Trace{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Step: time.Minute, Values: values}
}

// daily returns days of a per-minute trace that is 10 until rampAt, then
// rises by 1 a minute for an hour and stays at 70.
func daily(days int, rampAt time.Duration) replicasim.Trace {
	var v []float64
	for range days {
		for m := range 24 * 60 {
			at := time.Duration(m) * time.Minute
			switch {
			case at < rampAt:
				v = append(v, 10)
			case at < rampAt+time.Hour:
				v = append(v, 10+float64((at-rampAt)/time.Minute))
			default:
				v = append(v, 70)
			}
		}
	}
	return minutes(v...)
}

func TestReplayValue(t *testing.T) {
	r := Replay{Trace: minutes(1, 2, math.NaN(), 4), Start: t0, TraceAt: time.Date(2026, 3, 2, 0, 1, 0, 0, time.UTC)}
	for _, c := range []struct {
		at   time.Duration // after Start
		want float64       // NaN for a gap
	}{
		{0, 2},
		{59 * time.Second, 2},
		{time.Minute, math.NaN()},
		{2 * time.Minute, 4},
		{3 * time.Minute, 1}, // wraps to the trace's start
		{7 * time.Minute, 1}, // and again
		{-time.Minute, 1},
		{-time.Second, 1},
		{-2 * time.Minute, 4}, // before the trace's start wraps to its end
		{-6 * time.Minute, 4},
	} {
		v, ok := r.Value(t0.Add(c.at))
		if math.IsNaN(c.want) {
			if ok {
				t.Errorf("at %s: got %v, want a gap", c.at, v)
			}
			continue
		}
		if !ok || v != c.want {
			t.Errorf("at %s: got %v (ok %v), want %v", c.at, v, ok, c.want)
		}
	}
	if got, want := r.TraceTime(t0.Add(90*time.Second)), time.Date(2026, 3, 2, 0, 2, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("TraceTime: got %s, want %s", got, want)
	}
}

func TestSampleTimes(t *testing.T) {
	r := Replay{Trace: minutes(1, 2, 3), Start: t0, TraceAt: minutes().Start}
	for _, c := range []struct {
		name     string
		from, to time.Duration // after Start
		want     []time.Duration
	}{
		{"before start, on the grid", -2 * time.Minute, 0, []time.Duration{-2 * time.Minute, -time.Minute}},
		{"before start, off the grid", -150 * time.Second, -30 * time.Second, []time.Duration{-2 * time.Minute, -time.Minute}},
		{"across start", -30 * time.Second, 90 * time.Second, []time.Duration{0, time.Minute}},
		{"after start, off the grid", 30 * time.Second, 2 * time.Minute, []time.Duration{time.Minute}},
		{"empty", time.Minute, time.Minute, nil},
		{"reversed", time.Minute, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := r.SampleTimes(t0.Add(c.from), t0.Add(c.to))
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want offsets %v", got, c.want)
			}
			for i := range got {
				if !got[i].Equal(t0.Add(c.want[i])) {
					t.Errorf("sample %d at %s, want %s", i, got[i].Sub(t0), c.want[i])
				}
			}
		})
	}
}

func TestAlign(t *testing.T) {
	ramp := 8 * time.Hour
	for _, c := range []struct {
		name    string
		tr      replicasim.Trace
		lead    time.Duration
		history time.Duration
		want    time.Time // TraceAt
		err     string
	}{
		{"the first day with a week before it", daily(14, ramp), 5 * time.Minute, 7 * day,
			time.Date(2026, 3, 9, 7, 55, 0, 0, time.UTC), ""},
		{"no history: the first day", daily(3, ramp), 5 * time.Minute, 0,
			time.Date(2026, 3, 2, 7, 55, 0, 0, time.UTC), ""},
		{"lead longer than the morning: skips day one", daily(3, ramp), 9 * time.Hour, 0,
			time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC), ""},
		{"too short for the history: the last day, wrapping", daily(3, ramp), 5 * time.Minute, 7 * day,
			time.Date(2026, 3, 4, 7, 55, 0, 0, time.UTC), ""},
		{"no day holds the ramp", minutes(1, 2, 3), 0, 0, time.Time{}, "holds no day"},
		{"ramp outside a day", daily(1, ramp), 0, 0, time.Time{}, "want 0 to 24h"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rampAt := ramp
			if strings.Contains(c.name, "outside") {
				rampAt = 25 * time.Hour
			}
			r, err := Align(c.tr, t0, rampAt, c.lead, c.history)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want an error containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !r.TraceAt.Equal(c.want) || !r.Start.Equal(t0) {
				t.Fatalf("got TraceAt %s Start %s, want %s %s", r.TraceAt, r.Start, c.want, t0)
			}
			// The ramp plays lead after the start.
			if got := r.TraceTime(t0.Add(c.lead)); got.Sub(got.Truncate(day)) != ramp {
				t.Errorf("at start+lead the trace plays %s, want the ramp at %s", got, ramp)
			}
		})
	}
}

func TestRampTimeOfDay(t *testing.T) {
	for _, at := range []time.Duration{0, 8 * time.Hour, 23 * time.Hour} {
		got, err := RampTimeOfDay(daily(3, at))
		if err != nil {
			t.Fatal(err)
		}
		// Smoothing over ±15 minutes moves the steepest hour by up to 16
		// minutes (a step of the ramp's hour either side).
		d := (got-at+day+day/2)%day - day/2
		if d < -16*time.Minute || d > 16*time.Minute {
			t.Errorf("ramp at %s: got %s", at, got)
		}
	}
	if _, err := RampTimeOfDay(minutes(1, 2, 3)); err == nil || !strings.Contains(err.Error(), "full day") {
		t.Errorf("a 3-minute trace: got %v, want an error asking for a full day", err)
	}
	if _, err := RampTimeOfDay(replicasim.Trace{Step: 7 * time.Minute, Values: []float64{1}}); err == nil {
		t.Error("a 7-minute step: want an error")
	}
}

// TestRampTimeOfDayNASA pins the ramp the recorded NASA trace gives: the
// morning rise of the Kennedy Space Center's web traffic (trace clock UTC-4).
func TestRampTimeOfDayNASA(t *testing.T) {
	f, err := os.Open("../testdata/traffic/nasa-http-1995-07-03-3days.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := replicasim.ParseTrace(f, "", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := RampTimeOfDay(tr)
	if err != nil {
		t.Fatal(err)
	}
	if got < 6*time.Hour || got > 11*time.Hour {
		t.Errorf("NASA ramp at %s, want a morning", got)
	}
	t.Logf("NASA 1995-07-03..05 ramp: %s after midnight", got)
}
