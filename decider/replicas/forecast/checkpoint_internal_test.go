package forecast

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/internal/wire"
)

// learned is a model fed four days of a noisy daily cycle, with a gap,
// so that every part of its state (profile, rings with gaps, both arms'
// histograms) holds something. The trace tests are in checkpoint_test.go;
// this package's own tests cannot import the replay package.
func learned(t *testing.T) *Model {
	t.Helper()
	m, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range 4 * 1440 {
		if i >= 1800 && i < 1900 {
			continue // a gap of 100 minutes
		}
		day := 2 * math.Pi * float64(i%1440) / 1440
		m.Observe(t0.Add(time.Duration(i)*time.Minute), 1000*(1+0.6*math.Sin(day))*(1+0.05*rng.NormFloat64()))
	}
	if !m.Warm() {
		t.Fatal("model not warm after four days")
	}
	return m
}

// TestRestoreChecksEveryValue corrupts one field at a time and expects
// Restore to refuse the checkpoint with an error naming it, and
// MarshalBinary to refuse to write it.
func TestRestoreChecksEveryValue(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := []struct {
		name    string
		corrupt func(m *Model)
		want    string
	}{
		{"NaN in a profile slot", func(m *Model) { m.day[17] = nan }, "profile slot 17 (01:25 UTC): NaN"},
		{"Inf in a profile slot", func(m *Model) { m.day[200] = inf }, "profile slot 200 (16:40 UTC): +Inf"},
		{"negative profile slot", func(m *Model) { m.day[3] = -1 }, "profile slot 3"},
		{"profile value never updated", func(m *Model) { m.day[5], m.dayN[5] = 7, 0 }, "profile slot 5 (00:25 UTC): 7 with 0 updates"},
		{"nowcast ring position before the ring", func(m *Model) { m.trailN = -3 }, "nowcast sample count -3"},
		{"nowcast ring position past any count", func(m *Model) { m.trailN = maxCount + 1 }, "nowcast sample count 9007199254740993"},
		{"open bucket before 1970", func(m *Model) { m.cur = -1 }, "open bucket -1"},
		{"open bucket past 9999", func(m *Model) { m.cur = math.MaxInt64 / 2 }, "open bucket"},
		{"day index past the open bucket's", func(m *Model) { m.dayIdx = m.cur }, "day index"},
		{"negative hourly ring end", func(m *Model) { m.hourAt = -1 }, "hourly ring end -1"},
		{"first hour without an hourly ring", func(m *Model) { m.hourAt, m.hourFirst = 0, 9 }, "first hour 9"},
		{"negative closed bucket count", func(m *Model) { m.buckets = -1 }, "closed bucket count -1"},
		{"open bucket samples out of range", func(m *Model) { m.accN = -2 }, "open bucket sample count -2"},
		{"unknown period", func(m *Model) { m.period = 3 }, "period 3"},
		{"open bucket sum NaN", func(m *Model) { m.acc = math.NaN() }, "open bucket sum NaN"},
		{"open bucket sum without samples", func(m *Model) { m.acc, m.accN = 5, 0 }, "open bucket sum 5 with 0 samples"},
		{"zero level ratio", func(m *Model) { m.level = 0 }, "level ratio 0"},
		{"Inf level ratio", func(m *Model) { m.level = math.Inf(1) }, "level ratio +Inf"},
		{"level ratio past its clamp", func(m *Model) { m.level = 1e300 }, "level ratio 1e+300: want 0.05..20"},
		{"NaN profile sum", func(m *Model) { m.daySum = math.NaN() }, "profile sum NaN"},
		{"Inf arm cost", func(m *Model) { m.cost[1] = math.Inf(-1) }, "arm costs"},
		{"negative day total", func(m *Model) { m.dayTot[1] = -1 }, "day's profile total -1"},
		{"NaN hour count", func(m *Model) { m.hourAcc[1] = math.NaN() }, "with NaN samples"},
		{"hour sum past its samples", func(m *Model) { m.hourAcc = [2]float64{3e30, 2} }, "open hour sum 3e+30 with 2 samples"},
		{"open bucket mean past MaxLoad", func(m *Model) { m.acc, m.accN = 1e300, 1 }, "open bucket sum 1e+300 with 1 samples"},
		{"Inf error weight", func(m *Model) { m.trailW[2] = math.Inf(1) }, "error weights of class 2"},
		{"zero day-of-week factor", func(m *Model) { m.dow[6] = 0 }, "day-of-week factor Saturday: 0"},
		{"day-of-week factor past its clamp", func(m *Model) { m.dow[0] = 6 }, "day-of-week factor Sunday: 6: want 0.2..5"},
		{"profile slot past MaxLoad", func(m *Model) { m.day[9] = 1e38 }, "profile slot 9 (00:45 UTC): 1e+38"},
		{"level ring slot past the clamp", func(m *Model) { m.levels[4] = 100 }, "level ring slot 4: 100"},
		{"hourly mean past what samples make", func(m *Model) { m.hourly[7] = 2e31 }, "hourly ring slot 7: 2e+31"},
		{"level ratio just past its clamp", func(m *Model) { m.level = 20.000001 }, "level ratio 20.000001: want 0.05..20"},
		{"NaN level in the ring", func(m *Model) { m.levels[31] = nan }, "level ring slot 31: NaN"},
		{"Inf in the hourly ring", func(m *Model) { m.hourly[100] = inf }, "hourly ring slot 100: +Inf"},
		{"negative error bin", func(m *Model) { m.errH[1][40] = -1 }, "error histogram bin 40 of class 1: -1 (seasonal)"},
		{"NaN recent-mean error bin", func(m *Model) { m.trailH[0][95] = nan }, "error histogram bin 95 of class 0"},
		{"NaN nowcast mean", func(m *Model) { m.trail[7].mean = nan }, "nowcast ring slot 7"},
		{"nowcast sample before 1970", func(m *Model) { m.trail[0].t = -5 }, "nowcast ring slot 0: Unix second -5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := learned(t)
			tc.corrupt(m)
			_, err := Restore(DefaultConfig(), m.appendTo(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Restore: got %v, want an error containing %q", err, tc.want)
			}
			if _, err := m.MarshalBinary(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("MarshalBinary: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestRestoreHeader covers what Restore refuses before reading values.
func TestRestoreHeader(t *testing.T) {
	m := learned(t)
	good, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	flagsAt := len(checkpointMagic) + len(binary.AppendUvarint(nil, uint64(DefaultConfig().Bucket)))
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tenMin := DefaultConfig()
	tenMin.Bucket = 10 * time.Minute
	cases := []struct {
		name string
		cfg  Config
		data []byte
		want string
	}{
		{"version 0", DefaultConfig(), edit(func(b []byte) []byte { b[2] = 0; return b }), "version 0: this build reads version 1"},
		{"version 99", DefaultConfig(), edit(func(b []byte) []byte { b[2] = 99; return b }), "version 99: this build reads version 1"},
		{"not a forecaster checkpoint", DefaultConfig(), edit(func(b []byte) []byte { b[0] = 'x'; return b }), `header "xf": not a forecaster checkpoint`},
		{"another bucket", tenMin, good, "made with a 5m0s bucket, the config has 10m0s"},
		{"unknown flags", DefaultConfig(), edit(func(b []byte) []byte { b[flagsAt] = 0x83; return b }), "flags 0x83: unknown bits"},
		{"period byte", DefaultConfig(), edit(func(b []byte) []byte { b[flagsAt+1] = 7; return b }), "period 7"},
		{"trailing bytes", DefaultConfig(), append(append([]byte(nil), good...), 0), "1 unexpected trailing bytes"},
		{"invalid config", Config{}, good, "forecast bucket 0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Restore(tc.cfg, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for n := range len(good) {
		if _, err := Restore(DefaultConfig(), good[:n]); !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("%d of %d bytes: got %v, want a truncation error", n, len(good), err)
		}
	}
}

// TestRestoreConfigChanges: a model restored with another lead, alphas or
// half-life runs on them; without the recent-mean arm it forecasts with
// the seasonal one.
func TestRestoreConfigChanges(t *testing.T) {
	m := learned(t)
	m.useNowcast = true
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Lead, c.ProfileAlpha, c.LevelAlpha, c.ErrorHalfLife, c.TrailLag, c.SeasonalFloor = time.Minute, 0.5, 0.2, 100, time.Minute, false
	r, err := Restore(c, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.decay != float32(math.Exp2(-1/c.ErrorHalfLife)) || r.cfg != c || !r.useNowcast {
		t.Errorf("restored with %+v: decay %v, config %+v, recent mean %v", c, r.decay, r.cfg, r.useNowcast)
	}
	c.TrailWindow = 0
	if r, err = Restore(c, b); err != nil || r.useNowcast || r.Method() != "seasonal" {
		t.Errorf("restored without the recent-mean arm: %v, method %q", err, r.Method())
	}
}

// TestObserveSkipsAbsurdLoads: a sample over MaxLoad is a gap, so that no
// sample can make the model hold a value its checkpoint would refuse.
func TestObserveSkipsAbsurdLoads(t *testing.T) {
	m := learned(t)
	before, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(m.cur*int64(m.cfg.Bucket/time.Second), 0)
	for _, v := range []float64{2 * MaxLoad, math.MaxFloat32, math.MaxFloat64, math.Inf(1)} {
		m.Observe(at, v)
	}
	after, err := m.MarshalBinary()
	if err != nil || string(after) != string(before) {
		t.Errorf("absurd samples changed the model (%v)", err)
	}
}

// TestCheckedBoundsAreClosed: a model holding every checked value at the
// end of its range, which Restore accepts, still checkpoints after it
// learns from samples at the ends of theirs: Restore's bounds never refuse
// what the model writes.
func TestCheckedBoundsAreClosed(t *testing.T) {
	for _, hi := range []bool{true, false} {
		m := learned(t)
		load, level, factor := float32(maxKept), maxLevel, maxDayFactor
		if !hi {
			load, level, factor = 0, minLevel, minDayFactor
		}
		for i := range m.day {
			m.day[i], m.dayN[i] = load, 1
		}
		for i := range m.hourly {
			m.hourly[i] = load
		}
		for i := range m.trail {
			m.trail[i].v, m.trail[i].mean = load, load
		}
		for i := range m.levels {
			m.levels[i] = float32(level)
		}
		for i := range m.dow {
			m.dow[i] = float32(factor)
		}
		m.level, m.period = level, Weekly
		m.accN, m.hourAcc[1] = 3, 3
		m.acc, m.hourAcc[0] = 3*MaxLoad*(1+1e-9), 3*MaxLoad*(1+1e-9)
		if !hi {
			m.acc, m.hourAcc[0] = 0, 0
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if m, err = Restore(DefaultConfig(), b); err != nil {
			t.Fatal(err)
		}
		at := time.Unix(m.cur*int64(m.cfg.Bucket/time.Second), 0)
		for i := range 9 * 1440 {
			v := [...]float64{MaxLoad, 0, MaxLoad, 1}[(i/97)%4]
			m.Observe(at.Add(time.Duration(i)*time.Minute), v)
			if i%61 == 0 {
				if _, err := m.MarshalBinary(); err != nil {
					t.Fatalf("high %v, after %d samples: %v", hi, i, err)
				}
			}
		}
	}
}
