package requests

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustContainer(t testing.TB, cfg Config, samples []Sample) *Container {
	t.Helper()
	c, err := NewContainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if err := c.AddSample(s); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestAddSampleRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		s    Sample
		want string
	}{
		{"zero time", Sample{CPU: 1, Memory: 1}, "time is missing"},
		{"out of order", Sample{Time: t0.Add(-time.Minute), CPU: 1, Memory: 1}, "before the previous sample"},
		{"negative cpu", Sample{Time: t0.Add(time.Minute), CPU: -1, Memory: 1}, "cpu -1"},
		{"NaN memory", Sample{Time: t0.Add(time.Minute), CPU: 1, Memory: math.NaN()}, "memory NaN"},
		{"infinite memory", Sample{Time: t0.Add(time.Minute), CPU: 1, Memory: math.Inf(1)}, "memory +Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustContainer(t, DefaultConfig(), []Sample{{Time: t0, CPU: 1, Memory: 1e9}})
			err := c.AddSample(tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddSample = %v, want error containing %q", err, tc.want)
			}
			if c.Samples() != 1 {
				t.Errorf("a rejected sample changed the model: %d samples", c.Samples())
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"percentile":            func(c *Config) { c.MemoryTarget = 1.5 },
		"half-life":             func(c *Config) { c.HalfLife = 0 },
		"margin":                func(c *Config) { c.CPUMargin = math.NaN() },
		"oom ratio":             func(c *Config) { c.OOMBumpRatio = 0.5 },
		"lookback":              func(c *Config) { c.Leak.Lookback = 1 },
		"long lookback":         func(c *Config) { c.Leak.LongLookback = 12 },
		"soon z above min z":    func(c *Config) { c.Leak.SoonZ = 4 },
		"calibration quantile":  func(c *Config) { c.CalibrationQuantile = 1.5 },
		"calibration half-life": func(c *Config) { c.CalibrationHalfLife = 0 },
		"lower fraction":        func(c *Config) { c.LowerFraction = -1 },
		"cpu lower fraction":    func(c *Config) { c.CPULowerFraction = math.NaN() },
		"leak remember":         func(c *Config) { c.Leak.Remember = -time.Hour },
	} {
		cfg := DefaultConfig()
		mod(&cfg)
		if _, err := NewContainer(cfg); err == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
	for _, cfg := range []Config{DefaultConfig(), VPAConfig()} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("built-in config invalid: %v", err)
		}
	}
}

func TestRecommendFollowsUsageAndPolicy(t *testing.T) {
	// Constant 1 core and 1 GiB for two days.
	var s []Sample
	for i := 0; i < 576; i++ {
		s = append(s, Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), CPU: 1, Memory: 1024 * MiB})
	}
	now := s[len(s)-1].Time
	c := mustContainer(t, DefaultConfig(), s)
	tests := []struct {
		name         string
		p            Bounds
		cpuLo, cpuHi float64
		memLo, memHi float64
		reason       string
	}{
		{"unbounded", Bounds{}, 1, 1.06, 1.05 * 1024 * MiB, 1.05 * 1.06 * 1024 * MiB, "p99 of hourly memory peaks"},
		{"policy max", Bounds{Max: Resources{CPU: 0.5, Memory: 512 * MiB}}, 0.5, 0.5, 512 * MiB, 512 * MiB, "capped at policy max"},
		{"node allocatable", Bounds{NodeAllocatable: Resources{CPU: 0.8, Memory: 900 * MiB}}, 0.8, 0.8, 900 * MiB, 900 * MiB, "largest node's allocatable"},
		{"policy min", Bounds{Min: Resources{CPU: 4, Memory: 8192 * MiB}}, 4, 4, 8192 * MiB, 8192 * MiB, "raised to minimum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Recommend(now, tc.p, 0)
			if r.Target.CPU < tc.cpuLo || r.Target.CPU > tc.cpuHi+0.05 {
				t.Errorf("cpu target %v, want %v..%v", r.Target.CPU, tc.cpuLo, tc.cpuHi)
			}
			if r.Target.Memory < tc.memLo || r.Target.Memory > tc.memHi+64*MiB {
				t.Errorf("memory target %s, want %s..%s", FormatBytes(r.Target.Memory), FormatBytes(tc.memLo), FormatBytes(tc.memHi))
			}
			if !(r.Lower.CPU <= r.Target.CPU && r.Target.CPU <= r.Upper.CPU && r.Lower.Memory <= r.Target.Memory && r.Target.Memory <= r.Upper.Memory) {
				t.Errorf("bounds out of order: %+v", r)
			}
			if !strings.Contains(r.CPUReason+r.MemoryReason, tc.reason) {
				t.Errorf("reasons %q / %q lack %q", r.CPUReason, r.MemoryReason, tc.reason)
			}
		})
	}
	if empty := mustContainer(t, DefaultConfig(), nil).Recommend(t0, Bounds{}, 0); empty.Target.CPU != 0.025 || empty.Target.Memory != 252*MiB {
		t.Errorf("empty model: target %+v, want the 25m / 250 MiB minimums rounded", empty.Target)
	}
}

// TestCPUMarginIsLearned: a container whose CPU holds steady keeps its p99
// with ~no margin; one whose CPU level wanders hour to hour (so an hour
// often runs above the p99 that stood when it began) gets the margin it has
// needed.
func TestCPUMarginIsLearned(t *testing.T) {
	margin := func(wander float64) float64 {
		rng := rand.New(rand.NewPCG(7, 7))
		level := 1.0
		var s []Sample
		for i := 0; i < 4*288; i++ {
			if i%12 == 0 {
				level *= math.Exp(wander * rng.NormFloat64())
			}
			cpu := level * (1 + 0.01*rng.NormFloat64())
			s = append(s, Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), CPU: cpu, Memory: 1024 * MiB})
		}
		c := mustContainer(t, DefaultConfig(), s)
		return c.cpuMargin(s[len(s)-1].Time) - 1
	}
	t.Logf("margins: steady %.3f, wandering %.3f", margin(0), margin(0.3))
	if m := margin(0); m > 0.03 {
		t.Errorf("steady CPU: margin %.3f, want <= 0.03", m)
	}
	if m := margin(0.3); m < 0.05 {
		t.Errorf("CPU level wandering 30%% an hour: margin %.3f, want >= 0.05", m)
	}
}

func TestOOMBumpIsRemembered(t *testing.T) {
	s := healthy(1, 3, 500*MiB, 100*MiB)
	cfg := DefaultConfig()
	// Only the floor: the learned margin would keep the kill's lesson on
	// its own (TestCalibratedMargin).
	cfg.CalibrationQuantile, cfg.WeeklyAhead = 0, 0
	c := mustContainer(t, cfg, s)
	kill := s[len(s)-1].Time
	if err := c.RecordOOM(kill, 600*MiB); err != nil {
		t.Fatal(err)
	}
	// VPA's bump: max(600*1.2, 600+100) = 720 MiB.
	r := c.Recommend(kill, Bounds{}, 600*MiB)
	if r.Target.Memory < 720*MiB || !r.Urgent || !strings.Contains(r.MemoryReason, "OOM kill") {
		t.Errorf("after OOM: target %s urgent=%v reason %q, want >= 720 MiB, urgent, an OOM reason", FormatBytes(r.Target.Memory), r.Urgent, r.MemoryReason)
	}
	// Two quiet days later the floor still holds; after OOMMemory it lapses.
	for _, x := range healthy(2, 2, 500*MiB, 100*MiB) {
		x.Time = x.Time.Add(kill.Sub(t0) + time.Minute)
		if err := c.AddSample(x); err != nil {
			t.Fatal(err)
		}
	}
	if r := c.Recommend(kill.Add(48*time.Hour), Bounds{}, 720*MiB); r.Target.Memory < 720*MiB {
		t.Errorf("2 days after OOM: target %s, want the remembered 720 MiB", FormatBytes(r.Target.Memory))
	}
	if r := c.Recommend(kill.Add(8*24*time.Hour), Bounds{}, 720*MiB); r.Target.Memory >= 720*MiB {
		t.Errorf("8 days after OOM: target %s, want the floor lapsed", FormatBytes(r.Target.Memory))
	}
	if err := c.RecordOOM(kill, math.NaN()); err == nil {
		t.Error("RecordOOM accepted a NaN limit")
	}
}

func TestDecideHysteresis(t *testing.T) {
	cfg := DefaultConfig()
	rec := func(cpu, mem float64) Recommendation {
		return Recommendation{Target: Resources{cpu, mem}, Lower: Resources{cpu / 2, mem / 2}, Upper: Resources{cpu * 2, mem * 2}}
	}
	cur := Applied{Requests: Resources{1, 1024 * MiB}, Changed: t0}
	tests := []struct {
		name   string
		cur    Applied
		rec    Recommendation
		now    time.Time
		change bool
	}{
		{"initial", Applied{}, rec(1, 1024*MiB), t0, true},
		{"5% off: keep", cur, rec(1.05, 1000*MiB), t0.Add(24 * time.Hour), false},
		{"20% up, fresh: wait", cur, rec(1.2, 1024*MiB), t0.Add(time.Hour), false},
		{"20% up, 12h old: change", cur, rec(1.2, 1024*MiB), t0.Add(13 * time.Hour), true},
		{"30% down, fresh: wait", cur, rec(0.7, 1024*MiB), t0.Add(time.Hour), false},
		{"memory 12% down, 12h old: keep (LowerFraction 15%)", cur, rec(1, 1024*MiB/1.12), t0.Add(13 * time.Hour), false},
		{"cpu 12% up, 12h old: change (ChangeFraction 10%)", cur, rec(1.12, 1024*MiB), t0.Add(13 * time.Hour), true},
		{"cpu 45% down, 12h old: keep (CPULowerFraction 50%)", cur, rec(1/1.45, 1024*MiB), t0.Add(13 * time.Hour), false},
		{"cpu 60% down, 12h old: change", cur, rec(1/1.6, 1024*MiB), t0.Add(13 * time.Hour), true},
		{"20% down, 12h old: change", cur, rec(1/1.2, 1024*MiB/1.2), t0.Add(13 * time.Hour), true},
		{"below lower bound: now", cur, rec(3, 1024*MiB), t0.Add(time.Minute), true},
		{"urgent memory: now", cur, func() Recommendation { r := rec(1, 1100*MiB); r.Urgent = true; return r }(), t0.Add(time.Minute), true},
	}
	// A change made for CPU leaves memory that is not itself due to fall.
	if got, why := Decide(cfg, cur, rec(1/1.6, 1024*MiB/1.1), t0.Add(13*time.Hour)); why == "" || got.Memory != 1024*MiB || got.CPU != 1/1.6 {
		t.Errorf("cpu 60%% down, memory 10%% down: got %+v (%q), want cpu lowered and memory kept at 1 GiB", got, why)
	}
	if got, _ := Decide(VPAConfig(), cur, rec(1/1.6, 1024*MiB/1.1), t0.Add(13*time.Hour)); got.Memory != 1024*MiB/1.1 {
		t.Errorf("VPA's updater applies the whole target: memory %s, want %s", FormatBytes(got.Memory), FormatBytes(1024*MiB/1.1))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := Decide(cfg, tc.cur, tc.rec, tc.now)
			if changed := why != ""; changed != tc.change {
				t.Fatalf("Decide changed=%v (%q), want %v", changed, why, tc.change)
			}
			if tc.change && got != tc.rec.Target {
				t.Errorf("changed to %+v, want the target %+v", got, tc.rec.Target)
			}
			if !tc.change && got != tc.cur.Requests {
				t.Errorf("kept %+v, want %+v", got, tc.cur.Requests)
			}
		})
	}
}

func TestContainerCheckpointRoundTrip(t *testing.T) {
	s := healthy(3, 10, 2048*MiB, 512*MiB)
	c := mustContainer(t, DefaultConfig(), s)
	now := s[len(s)-1].Time
	if err := c.RecordOOM(now, 2600*MiB); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordLeakRaise(now, 4096*MiB); err != nil {
		t.Fatal(err)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 8*1024 {
		t.Errorf("checkpoint is %d bytes, want <= 8 KiB", len(b))
	}
	t.Logf("checkpoint after 10 days: %d bytes", len(b))
	g, err := RestoreContainer(DefaultConfig(), b)
	if err != nil {
		t.Fatal(err)
	}
	a, z := c.Recommend(now, Bounds{}, 2600*MiB), g.Recommend(now, Bounds{}, 2600*MiB)
	if a.Target != z.Target || a.Lower != z.Lower || a.Upper != z.Upper || a.MemoryReason != z.MemoryReason {
		t.Errorf("recommendation changed across the checkpoint:\n%+v\n%+v", a, z)
	}
	// The restored model keeps learning and rejects going back in time.
	if err := g.AddSample(Sample{Time: now.Add(time.Minute), CPU: 1, Memory: 1e9}); err != nil {
		t.Error(err)
	}
	if err := g.AddSample(Sample{Time: now.Add(-time.Hour), CPU: 1, Memory: 1e9}); err == nil {
		t.Error("restored model accepted an out-of-order sample")
	}
	for i := 0; i < len(b); i++ { // every truncation is an error, never a panic
		if _, err := RestoreContainer(DefaultConfig(), b[:i]); err == nil {
			t.Fatalf("checkpoint truncated to %d bytes accepted", i)
		}
	}
	e := mustContainer(t, DefaultConfig(), nil)
	eb, _ := e.MarshalBinary()
	if _, err := RestoreContainer(DefaultConfig(), eb); err != nil {
		t.Errorf("empty model round trip: %v", err)
	}
	// A version-3 checkpoint (a week in the hourly ring) restores the same
	// recommendation: the two hours it lacks are older than any reads.
	b3 := asVersion3(t, c, b)
	g3, err := RestoreContainer(DefaultConfig(), b3)
	if err != nil {
		t.Fatalf("version 3 checkpoint: %v", err)
	}
	for h := c.hours.last - weekHours + 1; h <= c.hours.last; h++ {
		lo, hi, ok := c.hours.at(h)
		lo3, hi3, ok3 := g3.hours.at(h)
		if lo != lo3 || hi != hi3 || ok != ok3 {
			t.Fatalf("version 3 restore, hour %d: %v..%v (%v), want %v..%v (%v)", h, lo3, hi3, ok3, lo, hi, ok)
		}
	}
	if z := g3.Recommend(now, Bounds{}, 2600*MiB); z.Target != a.Target || z.MemoryReason != a.MemoryReason {
		t.Errorf("version 3 restore recommends %+v (%s), want %+v (%s)", z.Target, z.MemoryReason, a.Target, a.MemoryReason)
	}
	// A version-2 checkpoint (no leak raise) still restores, without it.
	g2, err := RestoreContainer(DefaultConfig(), asVersion2(t, c, b3))
	if err != nil {
		t.Fatalf("version 2 checkpoint: %v", err)
	}
	if r := g2.Recommend(now, Bounds{}, 2600*MiB); strings.Contains(r.MemoryReason, "leak") || r.Target.Memory >= 4096*MiB {
		t.Errorf("version 2 restore remembers a leak raise it never held: %s, %s", FormatBytes(r.Target.Memory), r.MemoryReason)
	}
}

// asVersion3 rewrites c's version-4 checkpoint b in the version-3 layout,
// whose hourly ring holds a week (weekHours slots indexed by hour modulo a
// week) instead of ringHours.
func asVersion3(t *testing.T, c *Container, b []byte) []byte {
	t.Helper()
	off, last := ringOffset(t, b)
	out := append([]byte{'t', 't', 3}, b[3:off]...)
	week := make([]byte, 8*weekHours)
	for h := last - weekHours + 1; h <= last; h++ {
		i := slotIn(h, weekHours)
		binary.LittleEndian.PutUint32(week[8*i:], math.Float32bits(c.hours.min[slot(h)]))
		binary.LittleEndian.PutUint32(week[8*i+4:], math.Float32bits(c.hours.max[slot(h)]))
	}
	return append(append(out, week...), b[off+8*ringHours:]...)
}

// ringOffset is where the hourly ring's slots start in a version-4
// checkpoint, and the ring's last hour.
func ringOffset(t *testing.T, b []byte) (int, int64) {
	t.Helper()
	off := headerEnds(t, b)[5] + 5*8 // peak, OOM floor, bases, leak floor
	last, k := binary.Varint(b[off:])
	return off + k, last
}

// headerEnds are the offsets in a version-3 or -4 checkpoint after each of
// its five timestamps and its sample count (varints after the magic).
func headerEnds(t *testing.T, b []byte) (ends [6]int) {
	t.Helper()
	off := 3
	for i := range ends {
		_, k := binary.Varint(b[off:])
		if k <= 0 {
			t.Fatal("bad varint in checkpoint")
		}
		off += k
		ends[i] = off
	}
	return ends
}

func TestRestoreRejectsCorruptValues(t *testing.T) {
	s := healthy(3, 9, 2048*MiB, 512*MiB)
	b, err := mustContainer(t, DefaultConfig(), s).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	off, _ := ringOffset(t, b)
	for name, v := range map[string]float32{"+Inf": float32(math.Inf(1)), "negative": -1} {
		bad := slices.Clone(b)
		for i := off + 4; i < off+8*ringHours; i += 8 { // every slot's max
			binary.LittleEndian.PutUint32(bad[i:], math.Float32bits(v))
		}
		if _, err := RestoreContainer(DefaultConfig(), bad); err == nil || !strings.Contains(err.Error(), "hourly ring") {
			t.Errorf("hourly maxima %s: %v, want an error naming the hourly ring", name, err)
		}
	}
	far := append([]byte{'t', 't', 4}, binary.AppendVarint(nil, MaxSampleTime.Unix()+1)...)
	if _, err := RestoreContainer(DefaultConfig(), append(far, b[len(far):]...)); err == nil || !strings.Contains(err.Error(), "timestamp") {
		t.Errorf("a first sample after year 9999: %v, want an error naming the timestamp", err)
	}
}

func TestSampleTimeIsBounded(t *testing.T) {
	c := mustContainer(t, DefaultConfig(), nil)
	for _, at := range []time.Time{time.Unix(0, 0), time.Unix(3599, 0), MaxSampleTime.Add(time.Second)} {
		if err := c.AddSample(Sample{Time: at, CPU: 1, Memory: 1}); err == nil || !strings.Contains(err.Error(), "time outside") {
			t.Errorf("sample at %s: %v, want a time-outside error", at.UTC().Format(time.RFC3339), err)
		}
	}
	if c.Samples() != 0 {
		t.Errorf("%d samples kept after rejections", c.Samples())
	}
	if err := c.AddSample(Sample{Time: MinSampleTime, CPU: 1, Memory: 1}); err != nil {
		t.Error(err)
	}
}

// asVersion2 rewrites c's version-3 checkpoint b in the version-2 layout:
// no leak timestamp after the OOM one, no leak floor and CPU base after the
// calibration base, no CPU calibration histogram at the end.
func asVersion2(t *testing.T, c *Container, b []byte) []byte {
	t.Helper()
	ends := headerEnds(t, b)
	tail := len(c.cpuRatio.AppendCheckpoint(nil))
	out := append([]byte{'t', 't', 2}, b[3:ends[3]]...) // four timestamps
	out = append(out, b[ends[4]:ends[5]]...)            // sample count
	out = append(out, b[ends[5]:ends[5]+24]...)         // peak, OOM floor, base
	return append(out, b[ends[5]+40:len(b)-tail]...)    // ring, three histograms
}

func TestLeakRaiseIsRemembered(t *testing.T) {
	s := healthy(1, 3, 500*MiB, 100*MiB)
	c := mustContainer(t, DefaultConfig(), s)
	at := s[len(s)-1].Time
	if err := c.RecordLeakRaise(at, 900*MiB); err != nil {
		t.Fatal(err)
	}
	r := c.Recommend(at.Add(time.Hour), Bounds{}, 900*MiB)
	if r.Target.Memory < 900*MiB || !strings.Contains(r.MemoryReason, "raised for a memory leak") {
		t.Errorf("an hour after a leak raise: target %s (%s), want the raise kept", FormatBytes(r.Target.Memory), r.MemoryReason)
	}
	if r := c.Recommend(at.Add(DefaultConfig().Leak.Remember+time.Hour), Bounds{}, 900*MiB); r.Target.Memory >= 900*MiB {
		t.Errorf("after Leak.Remember: target %s, want the floor lapsed", FormatBytes(r.Target.Memory))
	}
	if err := c.RecordLeakRaise(at, math.Inf(1)); err == nil {
		t.Error("RecordLeakRaise accepted an infinite size")
	}
}

func TestPeakMemoryKeepsTheWeeksSpike(t *testing.T) {
	s := healthy(7, 9, 1024*MiB, 100*MiB)
	s[len(s)-3*288].Memory = 3072 * MiB // one 5-minute spike three days ago
	now := s[len(s)-1].Time
	cfg := DefaultConfig()
	cfg.CalibrationQuantile = 0 // the learned margin alone would cover the spike
	if r := mustContainer(t, cfg, s).Recommend(now, Bounds{}, 0); r.Target.Memory >= 3072*MiB {
		t.Errorf("without PeakMemory: target %s, want the decayed spike below p99", FormatBytes(r.Target.Memory))
	}
	cfg.PeakMemory = 167 * time.Hour
	r := mustContainer(t, cfg, s).Recommend(now, Bounds{}, 0)
	if r.Target.Memory < 3072*MiB*1.05 || !strings.Contains(r.MemoryReason, "peak of the last") {
		t.Errorf("with PeakMemory: target %s (%s), want >= the spike +5%%", FormatBytes(r.Target.Memory), r.MemoryReason)
	}
}
