package requests

import (
	"strings"
	"testing"
	"time"
)

func TestCalibratedMargin(t *testing.T) {
	tests := []struct {
		name           string
		spike          float64 // every spike is this times the usual peak
		every          int     // a spike every this many hours (0: none)
		lo, hi         float64 // accepted margin (1 + margin)
		wantCalibrated bool
	}{
		{"smooth: the minimum margin", 0, 0, 1.05, 1.05, false},
		{"a 30% spike every 2 days: covered", 1.3, 48, 1.2, 1.4, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustContainer(t, DefaultConfig(), nil)
			var now time.Time
			for i := 0; i < 14*288; i++ {
				now = t0.Add(time.Duration(i) * 5 * time.Minute)
				m := 1024.0 * MiB
				if h := i / 12; tc.every > 0 && h%tc.every == tc.every-1 && i%12 == 6 {
					m *= tc.spike
				}
				if err := c.AddSample(Sample{Time: now, CPU: 1, Memory: m}); err != nil {
					t.Fatal(err)
				}
			}
			got := c.memoryMargin(now)
			if got < tc.lo || got > tc.hi {
				t.Errorf("margin x%.3f, want x%.2f..x%.2f", got, tc.lo, tc.hi)
			}
			r := c.Recommend(now, Bounds{}, 0)
			if tc.wantCalibrated && r.Target.Memory < 1024*MiB*tc.spike {
				t.Errorf("target %s below the recurring spike", FormatBytes(r.Target.Memory))
			}
		})
	}
}

func TestWeeklyEnvelopeCoversLastWeeksSpike(t *testing.T) {
	s := healthy(5, 10, 1024*MiB, 100*MiB)
	// A batch job one week before the next 24 hours: 3 GiB for an hour.
	at := len(s) - 7*288 + 10*12
	for i := at; i < at+12; i++ {
		s[i].Memory = 3072 * MiB
	}
	now := s[len(s)-1].Time
	cfg := DefaultConfig()
	cfg.CalibrationQuantile, cfg.WeeklyAhead = 0, 0
	if r := mustContainer(t, cfg, s).Recommend(now, Bounds{}, 0); r.Target.Memory >= 3072*MiB {
		t.Fatalf("without the envelope: target %s, want the week-old spike decayed below p99", FormatBytes(r.Target.Memory))
	}
	cfg.WeeklyAhead = 24 * time.Hour
	r := mustContainer(t, cfg, s).Recommend(now, Bounds{}, 0)
	if r.Target.Memory < 3072*MiB*1.05 || !strings.Contains(r.MemoryReason, "same hours last week") {
		t.Errorf("with the envelope: target %s (%s), want >= the spike +5%%", FormatBytes(r.Target.Memory), r.MemoryReason)
	}
	// A spike two days ahead of the same weekday is outside the window.
	cfg.WeeklyAhead = 6 * time.Hour
	if r := mustContainer(t, cfg, s).Recommend(now, Bounds{}, 0); r.Target.Memory >= 3072*MiB {
		t.Errorf("6h window: target %s, want the spike 10h ahead left out", FormatBytes(r.Target.Memory))
	}
}

// TestWeeklyEnvelopeReadsTheSameHourLastWeek: once an hour has begun, the
// same hour a week ago (and the one before it) must still be in the ring;
// with a ring of exactly a week the current hour had overwritten them.
func TestWeeklyEnvelopeReadsTheSameHourLastWeek(t *testing.T) {
	for _, back := range []int{0, 1} { // the same hour, the hour before
		s := healthy(5, 10, 1024*MiB, 100*MiB)
		end := len(s) - 7*288 - 12*back // one week before the last hour's end
		for i := end - 12; i < end; i++ {
			s[i].Memory = 3072 * MiB
		}
		cfg := DefaultConfig()
		cfg.CalibrationQuantile, cfg.WeeklyAhead = 0, time.Hour
		now := s[len(s)-1].Time
		if r := mustContainer(t, cfg, s).Recommend(now, Bounds{}, 0); r.Target.Memory < 3072*MiB {
			t.Errorf("spike %d h before the same hour last week: target %s (%s), want it covered", back, FormatBytes(r.Target.Memory), r.MemoryReason)
		}
	}
}
