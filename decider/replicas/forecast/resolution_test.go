package forecast

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// feedDaily feeds days of a noisy daily cycle at the given step, leaving
// out the samples in [gapFrom, gapTo) (offsets from the start).
func feedDaily(t *testing.T, step time.Duration, days int, gapFrom, gapTo time.Duration) *Model {
	t.Helper()
	m, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for off := time.Duration(0); off < time.Duration(days)*24*time.Hour; off += step {
		if off >= gapFrom && off < gapTo {
			continue
		}
		day := 2 * math.Pi * off.Hours() / 24
		m.Observe(t0.Add(off), 1000*(1+0.6*math.Sin(day))*(1+0.05*rng.NormFloat64()))
	}
	return m
}

// TestCoarseSamplesFillTheProfile: a 30-minute sample is the mean of six
// 5-minute buckets. Learned into its first bucket only, five of every six
// profile slots stayed empty: the model was not warm after four days
// (a day's buckets took six days to close) and, once warm, had no forecast
// for five of every six 5-minute slots, so the proactive path came and went
// every half hour.
func TestCoarseSamplesFillTheProfile(t *testing.T) {
	m := feedDaily(t, 30*time.Minute, 4, 0, 0)
	if !m.Warm() {
		t.Fatalf("not warm after four days of 30-minute samples (%d buckets closed, %d slots a day)", m.buckets, m.slots)
	}
	at := time.Date(2026, 3, 6, 6, 0, 0, 0, time.UTC)
	for off := time.Duration(0); off < 30*time.Minute; off += 5 * time.Minute {
		if _, _, ok := m.Forecast(at.Add(off), 0.9); !ok {
			t.Errorf("no forecast for %s, a slot a 30-minute sample covers", at.Add(off).Format("15:04"))
		}
	}
	for s := range m.slots {
		if m.dayN[s] == 0 {
			t.Fatalf("profile slot %d (%s) never learned", s, time.Duration(s)*m.cfg.Bucket)
		}
	}
}

// TestGapsAreNotFilled: a sample is held over its own interval only; the
// slots of a two-hour gap in a 5-minute series stay unlearned.
func TestGapsAreNotFilled(t *testing.T) {
	m := feedDaily(t, 5*time.Minute, 1, 10*time.Hour, 12*time.Hour)
	for s := 10 * 12; s < 12*12; s++ {
		if m.dayN[s] != 0 {
			t.Fatalf("slot %s of the gap learned %v", time.Duration(s)*m.cfg.Bucket, m.day[s])
		}
	}
	if m.dayN[12*12] == 0 || m.dayN[10*12-1] == 0 {
		t.Fatal("the slots around the gap were not learned")
	}
}

// TestWeightsFollowTime: the error bands and the arms' scores count
// minutes of samples, so a 5-minute series has scored as much after three
// days as a 1-minute one; counted in samples it had a fifth, took five
// times longer to choose an arm and forgot five times slower.
func TestWeightsFollowTime(t *testing.T) {
	fine := feedDaily(t, time.Minute, 3, 0, 0)
	coarse := feedDaily(t, 5*time.Minute, 3, 0, 0)
	sum := func(ws [errClasses]float64) (s float64) {
		for _, w := range ws {
			s += w
		}
		return s
	}
	for _, c := range []struct {
		name         string
		fine, coarse float64
	}{
		{"seasonal band weight", sum(fine.errW), sum(coarse.errW)},
		{"recent-mean band weight", sum(fine.trailW), sum(coarse.trailW)},
		{"arm score weight", fine.costW, coarse.costW},
	} {
		if c.fine <= 0 || math.Abs(c.coarse/c.fine-1) > 0.1 {
			t.Errorf("%s: %.0f on 5-minute samples, %.0f on 1-minute ones: want within 10%%", c.name, c.coarse, c.fine)
		}
	}
}
