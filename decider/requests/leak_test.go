package requests

import (
	"strings"
	"testing"
	"time"
)

// replayHourly feeds samples and decides every hour as a controller would,
// returning the applied memory per hour and the reasons of leak raises.
func replayHourly(t *testing.T, s []Sample) (first time.Time, raises []string, oomAt time.Time) {
	t.Helper()
	return replayHourlyCfg(t, DefaultConfig(), s)
}

// replayHourlyCfg is replayHourly under the given configuration.
func replayHourlyCfg(t *testing.T, cfg Config, s []Sample) (first time.Time, raises []string, oomAt time.Time) {
	t.Helper()
	c := mustContainer(t, cfg, nil)
	var cur Applied
	for i, x := range s {
		if cur.Requests.Memory > 0 && x.Memory > cur.Requests.Memory && oomAt.IsZero() {
			oomAt = x.Time
		}
		if err := c.AddSample(x); err != nil {
			t.Fatal(err)
		}
		if i%12 != 11 || x.Time.Sub(s[0].Time) < 7*24*time.Hour {
			continue
		}
		rec := c.Recommend(x.Time, Bounds{}, cur.Requests.Memory)
		next, why := Decide(c.Config(), cur, rec, x.Time)
		if why != "" {
			if rec.LeakRaise {
				raises = append(raises, why)
				if first.IsZero() {
					first = x.Time
				}
			}
			cur = Applied{Requests: next, Changed: x.Time}
		}
	}
	return first, raises, oomAt
}

func TestNoLeakAlarmOnHealthyPeriodicMemory(t *testing.T) {
	for _, tc := range []struct {
		seed      uint64
		base, amp float64
	}{{1, 1024 * MiB, 300 * MiB}, {2, 512 * MiB, 400 * MiB}, {3, 8192 * MiB, 1024 * MiB}, {4, 300 * MiB, 30 * MiB}} {
		s := healthy(tc.seed, 28, tc.base, tc.amp)
		c := mustContainer(t, DefaultConfig(), nil)
		for i, x := range s {
			if err := c.AddSample(x); err != nil {
				t.Fatal(err)
			}
			if i%12 == 11 {
				if l := c.DetectLeak(x.Time, tc.base+tc.amp); l != nil {
					t.Errorf("seed %d: false leak alarm at %s: %s", tc.seed, x.Time.Format("01-02 15:04"), l)
					break
				}
			}
		}
	}
}

func TestLeakRaisesMemoryBeforeTheOOM(t *testing.T) {
	for _, tc := range []struct {
		name      string
		base, amp float64
		rate      float64
	}{
		{"1 GiB daily cycle, 40 MiB/h", 1024 * MiB, 300 * MiB, 40 * MiB},
		{"8 GiB daily cycle, 100 MiB/h", 8192 * MiB, 1024 * MiB, 100 * MiB},
		{"512 MiB, 10 MiB/h", 512 * MiB, 100 * MiB, 10 * MiB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := t0.Add(10*24*time.Hour + 3*time.Hour) // at the daily trough
			first, raises, oomAt := replayHourly(t, withLeak(healthy(5, 16, tc.base, tc.amp), start, tc.rate))
			if first.IsZero() {
				t.Fatalf("leak never raised memory (OOM at %s)", oomAt)
			}
			if !oomAt.IsZero() && !first.Before(oomAt) {
				t.Errorf("leak raise at %s, not before the OOM at %s", first, oomAt)
			}
			if !oomAt.IsZero() {
				t.Errorf("container was OOM-killed at %s despite the raises", oomAt.Format("01-02 15:04"))
			}
			r := raises[0]
			for _, want := range []string{"memory rising", "MiB/h since", "projected OOM", "raising to"} {
				if !strings.Contains(r, want) {
					t.Errorf("reason %q lacks %q", r, want)
				}
			}
			t.Logf("first raise %s (%.1f h after the leak began), %d raises: %s", first.Format("01-02 15:04"), first.Sub(start).Hours(), len(raises), r)
		})
	}
}

// zigzagLeak is eight flat days (floor 1 GiB, peaks 1.2 GiB), then floors
// rising 40 MiB/h with ±120 MiB alternating hour to hour: twelve such
// hourly floors score a Mann-Kendall z of 2.8, short of MinZ.
//
// excursion adds one evening, three days before, whose floor (1,400 MiB)
// sits above the leak's latest lows but below its fitted level: the floor
// is then not "above its range of the past week", so nothing but the leak
// holds memory up.
func zigzagLeak(hours int, excursion bool) []Sample {
	var s []Sample
	for h := range 8*24 + hours {
		floor := float64(1024 * MiB)
		if excursion && h == 5*24+20 {
			floor = 1400 * MiB
		}
		if k := h - 8*24; k >= 0 {
			floor += float64(k) * 40 * MiB
			if k%2 == 0 {
				floor -= 120 * MiB
			} else {
				floor += 120 * MiB
			}
		}
		s = appendHour(s, h, floor)
	}
	return s
}

// appendHour appends hour h's twelve 5-minute samples: memory 200 MiB above
// floor but at floor once, half-way through.
func appendHour(s []Sample, h int, floor float64) []Sample {
	for i := range 12 {
		m := floor + 200*MiB
		if i == 5 {
			m = floor
		}
		s = append(s, Sample{Time: t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*5*time.Minute), CPU: 0.5, Memory: m})
	}
	return s
}

func TestWeakLeakEvidenceCountsOnlyWhenTheOOMIsNear(t *testing.T) {
	s := zigzagLeak(14, false)
	now := s[len(s)-1].Time.Add(5 * time.Minute)
	c := mustContainer(t, DefaultConfig(), s)
	// The hour peaks near the end are ~1.9 GiB and still rising 40 MiB/h.
	near, far := float64(2048*MiB), float64(8192*MiB)
	l := c.DetectLeak(now, near)
	if l == nil {
		t.Fatal("a leak 3-4 h from its OOM, with z between SoonZ and MinZ, was not reported")
	}
	if l.Z >= c.Config().Leak.MinZ || l.Z < c.Config().Leak.SoonZ {
		t.Errorf("z = %.2f: the case no longer tests the weaker evidence", l.Z)
	}
	if until := l.ProjectedOOM.Sub(now); until > c.Config().Leak.Soon {
		t.Errorf("projected OOM in %s, beyond Soon", until)
	}
	if !l.Weak || !l.Urgent(now, c.Config().Leak.Horizon, c.Config().Leak.Soon) {
		t.Errorf("weak %v, urgent false: a weak leak with the OOM %s away must be urgent", l.Weak, l.ProjectedOOM.Sub(now))
	}
	// Far from the limit the same evidence holds memory but raises nothing.
	if l := c.DetectLeak(now, far); l == nil || !l.Weak || l.Urgent(now, c.Config().Leak.Horizon, c.Config().Leak.Soon) {
		t.Errorf("weak evidence with the OOM far off: %v, want a weak, not urgent leak", l)
	}
	if rec := c.Recommend(now, Bounds{}, far); rec.LeakRaise || rec.Target.Memory < far {
		t.Errorf("far from the OOM: raise %v, target %s; want memory held at %s", rec.LeakRaise, FormatBytes(rec.Target.Memory), FormatBytes(far))
	}
	cfg := DefaultConfig()
	cfg.Leak.SoonZ, cfg.Leak.LongLookback = 0, 0 // the day's window sees the ramp from its flat start at z >= MinZ
	if l := mustContainer(t, cfg, s).DetectLeak(now, near); l != nil {
		t.Errorf("with SoonZ off, z %.2f < MinZ reported a leak: %s", l.Z, l)
	}
}

// TestWeakLeakRaiseHolds: once a weak leak raised memory, the OOM is far
// from the new limit, and memory must stay there rather than fall back and
// rise again on the next cycle (it flapped every 5 minutes before).
func TestWeakLeakRaiseHolds(t *testing.T) {
	s := zigzagLeak(14, true)
	c := mustContainer(t, DefaultConfig(), s)
	now := s[len(s)-1].Time.Add(5 * time.Minute)
	if c.FloorAboveWeek(now) {
		t.Fatal("the floor is above the week's range: the case would not test the leak's hold")
	}
	cur := Applied{Requests: Resources{CPU: 0.5, Memory: 2048 * MiB}, Changed: now.Add(-24 * time.Hour)}
	rec := c.Recommend(now, Bounds{}, cur.Requests.Memory)
	next, why := Decide(c.Config(), cur, rec, now)
	if !rec.LeakRaise || next.Memory <= cur.Requests.Memory {
		t.Fatalf("no leak raise from %s: %q", FormatBytes(cur.Requests.Memory), why)
	}
	cur = Applied{Requests: next, Changed: now}
	for k := 1; k <= 12; k++ {
		at := now.Add(time.Duration(k) * 5 * time.Minute)
		n, why := Decide(c.Config(), cur, c.Recommend(at, Bounds{}, cur.Requests.Memory), at)
		if n.Memory < cur.Requests.Memory {
			t.Fatalf("%d min after the raise memory fell %s -> %s: %s", 5*k, FormatBytes(cur.Requests.Memory), FormatBytes(n.Memory), why)
		}
	}
}

// slowLeak is eight days of floors at 1 GiB ± 60 MiB alternating hour to
// hour (peaks 200 MiB above), then the same with floors rising 10 MiB/h
// for hours hours: over twelve hours the rise is lost in the alternation,
// over a day it is not.
func slowLeak(hours int) []Sample {
	var s []Sample
	for h := range 8*24 + hours {
		floor := float64(1024*MiB) + float64(60*MiB)*float64(1-2*(h%2))
		if k := h - 8*24; k > 0 {
			floor += float64(k) * 10 * MiB
		}
		s = appendHour(s, h, floor)
	}
	return s
}

func TestSlowLeakSeenOverADay(t *testing.T) {
	s := slowLeak(22)
	now := s[len(s)-1].Time.Add(5 * time.Minute)
	limit := float64(8192 * MiB) // far: no weak evidence counts
	short := DefaultConfig()
	short.Leak.LongLookback = 0
	if l := mustContainer(t, short, s).DetectLeak(now, limit); l != nil && !l.Weak {
		t.Fatalf("twelve hours found %s: the case does not need the day's window", l)
	}
	l := mustContainer(t, DefaultConfig(), s).DetectLeak(now, limit)
	if l == nil || l.Weak || l.Z < DefaultConfig().Leak.MinZ {
		t.Fatalf("a day's window: %v, want a leak at z >= MinZ", l)
	}
	if l.Rate < 7*MiB || l.Rate > 13*MiB {
		t.Errorf("rate %s/h, want about 10 MiB/h", FormatBytes(l.Rate))
	}
	if want := now.Truncate(time.Hour).Add(-24 * time.Hour); !l.Since.Equal(want) {
		t.Errorf("since %s, want %s (the day's window)", l.Since, want)
	}
}
