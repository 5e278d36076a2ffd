package replicas_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas"
	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/decider/replicas/hpa"
	"github.com/trimtab-dev/trimtab/decider/replicas/internal/wire"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

// loadTrace reads a trace of test/testdata/traffic, or with the prefix
// "shared:" one of ../shared/data/traffic next to the repository, which
// is skipped where it is not present.
func loadTrace(t testing.TB, name string) replicasim.Trace {
	t.Helper()
	path := "../../test/testdata/traffic/" + name
	if shared, ok := strings.CutPrefix(name, "shared:"); ok {
		path = "../../../shared/data/traffic/" + shared
		if _, err := os.Stat(path); err != nil {
			t.Skipf("shared trace not present: %v", err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := replicasim.ParseTrace(f, "", "")
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	return tr
}

// controller drives the decider over a trace as the live controller does,
// so that every part of the state is in use: a load sample a minute, two
// decisions a minute at sub-second times, the replicas following each
// target, the load as a per-pod business metric (the reactive path, with
// ForecastScaleDown keeping its own window), and a downstream signal with
// an incident every 13 hours and a missing value every 5 (the guard).
type controller struct {
	cfg replicas.Config
	tr  replicasim.Trace
	cur int32
}

func newController(t testing.TB, tr replicasim.Trace) *controller {
	t.Helper()
	var sum float64
	n := 0
	for _, v := range tr.Values {
		if !math.IsNaN(v) {
			sum, n = sum+v, n+1
		}
	}
	// A pod serves a tenth of the mean load: ~14 pods at 70%.
	cfg := replicas.DefaultConfig(1, 500, sum/float64(n)/10)
	cfg.LoadUnit, cfg.ForecastScaleDown = "rpm", true
	cfg.Guard = replicas.DefaultGuard("db-p95", 0.25)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &controller{cfg: cfg, tr: tr, cur: 10}
}

// inputs are the k-th (0 or 1) decision's inputs during sample i.
func (c *controller) inputs(i, k int) replicas.Inputs {
	now := c.tr.At(i).Add(17*time.Second + 123456789*time.Nanosecond + time.Duration(k)*30*time.Second)
	in := replicas.Inputs{Now: now, CurrentReplicas: c.cur, Downstream: downstream(now), Options: hpa.DefaultOptions}
	if v := c.tr.Values[i]; !math.IsNaN(v) {
		in.Metrics = []replicas.Metric{{Name: "rpm", Kind: replicas.TotalAverage, Total: int64(v * 1000),
			TargetAverage: int64(c.cfg.CapacityPerPod * c.cfg.TargetUtilization * 1000)}}
	}
	return in
}

// downstream is a database p95 latency: 0.4 s for 25 minutes every 13
// hours (over the guard's 0.25), missing for 2 minutes every 5 hours.
func downstream(now time.Time) float64 {
	switch m := now.Unix() / 60; {
	case m%300 < 2:
		return math.NaN()
	case m%780 < 25:
		return 0.4
	}
	return 0.1
}

// run feeds samples [from, to) to s and decides on each.
func (c *controller) run(t testing.TB, s *replicas.State, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		s.Observe(c.tr.At(i), c.tr.Values[i])
		for k := range 2 {
			d, err := replicas.Decide(c.cfg, s, c.inputs(i, k))
			if err != nil {
				t.Fatal(err)
			}
			c.cur = d.Replicas
		}
	}
}

// TestCheckpointResumes replays a week of a trace (two days of the
// three-day NASA one), checkpoints the state and restores it, then drives
// the original and the restored state with the next day of samples side
// by side: every decision (replicas, components, forecast, reason) and
// every forecast must be the same. The restored copy is checkpointed and
// restored again every 7 minutes, so restarts also land mid-incident, with
// the guard tripped and the windows full.
func TestCheckpointResumes(t *testing.T) {
	for _, tc := range []struct {
		trace string
		days  int
		warm  bool // the forecast is warm on the compared day
	}{
		{"synth-noisy.csv", 7, true},
		{"synth-smooth.csv", 7, true},
		{"nasa-http-1995-07-03-3days.csv", 2, false},
		{"shared:nasa-http-1995-requests-per-minute.csv", 7, true},
	} {
		t.Run(tc.trace, func(t *testing.T) {
			tr := loadTrace(t, tc.trace)
			c := newController(t, tr)
			day := int(24 * time.Hour / tr.Step)
			orig := mustState(t, c.cfg)
			c.run(t, orig, 0, tc.days*day)
			data, err := orig.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			restored, err := replicas.RestoreState(c.cfg, data)
			if err != nil {
				t.Fatal(err)
			}
			var restarts, tripped, proactive, stepDowns int
			for i := tc.days * day; i < min((tc.days+1)*day, len(tr.Values)); i++ {
				if i%7 == 0 {
					b, err := restored.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					if restored, err = replicas.RestoreState(c.cfg, b); err != nil {
						t.Fatal(err)
					}
					restarts++
					if restored.Guard.Tripped {
						tripped++
					}
				}
				orig.Observe(tr.At(i), tr.Values[i])
				restored.Observe(tr.At(i), tr.Values[i])
				for k := range 2 {
					in := c.inputs(i, k)
					want, err1 := replicas.Decide(c.cfg, orig, in)
					got, err2 := replicas.Decide(c.cfg, restored, in)
					if err1 != nil || err2 != nil || got != want {
						t.Fatalf("sample %d, decision %d at %s:\n original %+v (%v)\n restored %+v (%v)", i, k, in.Now, want, err1, got, err2)
					}
					for _, q := range []float64{0.5, 0.9, 0.99} {
						at := in.Now.Add(5 * time.Minute)
						p1, u1, ok1 := orig.Forecast.Forecast(at, q)
						p2, u2, ok2 := restored.Forecast.Forecast(at, q)
						if p1 != p2 || u1 != u2 || ok1 != ok2 {
							t.Fatalf("sample %d, q %g: forecast %v %v %v, restored %v %v %v", i, q, p1, u1, ok1, p2, u2, ok2)
						}
					}
					if want.Proactive >= 0 {
						proactive++
					}
					if strings.Contains(want.Reason, "stepping down") {
						stepDowns++
					}
					c.cur = want.Replicas
				}
			}
			b1, err1 := orig.MarshalBinary()
			b2, err2 := restored.MarshalBinary()
			if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
				t.Errorf("after a day: checkpoints differ (%d vs %d bytes; %v, %v)", len(b1), len(b2), err1, err2)
			}
			if tripped == 0 || stepDowns == 0 || (proactive > 0) != tc.warm {
				t.Errorf("the day did not use the state it checks: %d restarts with the guard tripped, %d step-downs, %d proactive decisions (warm: %v)",
					tripped, stepDowns, proactive, tc.warm)
			}
			t.Logf("%d-byte checkpoint after %d days; %d restarts (%d with the guard tripped), %d proactive decisions, %d step-downs",
				len(data), tc.days, restarts, tripped, proactive, stepDowns)
		})
	}
}

// weekState is a state after a week of synth-noisy.csv under the
// controller, and the controller.
func weekState(t testing.TB) (*replicas.State, *controller) {
	t.Helper()
	c := newController(t, loadTrace(t, "synth-noisy.csv"))
	s, err := replicas.NewState(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.run(t, s, 0, 7*1440)
	return s, c
}

func TestRestoreStateTruncated(t *testing.T) {
	s, c := weekState(t)
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		if _, err := replicas.RestoreState(c.cfg, data[:n]); !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("%d of %d bytes: got %v, want a truncation error", n, len(data), err)
		}
	}
}

// clairvoyant stands for a replay's forecaster that is not the model.
type clairvoyant struct{}

func (clairvoyant) Observe(time.Time, float64) {}
func (clairvoyant) Warm() bool                 { return true }
func (clairvoyant) Method() string             { return "clairvoyant" }
func (clairvoyant) Forecast(time.Time, float64) (float64, float64, bool) {
	return 1, 1, true
}

// TestRestoreStateRefuses corrupts a week's checkpoint in each part and
// expects an error naming the part and the field.
func TestRestoreStateRefuses(t *testing.T) {
	s, c := weekState(t)
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	model, err := s.Forecast.(*forecast.Model).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fc := len(data) - len(model) // where the forecaster's part starts
	_, rest, err := hpa.RestoreState(data[3:])
	if err != nil {
		t.Fatal(err)
	}
	guard := len(data) - len(rest)
	// The forecaster's counters and sums, from its documented layout.
	off := fc + 3
	_, k := binary.Uvarint(data[off:])
	off += k + 2
	var trailN int
	for range 8 {
		trailN = off
		_, k := binary.Varint(data[off:])
		off += k
	}
	profile := off + 18*8
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), data...)) }
	nan := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
	tenMin := c.cfg
	tenMin.Forecast.Bucket = 10 * time.Minute
	cases := []struct {
		name string
		cfg  replicas.Config
		data []byte
		want string
	}{
		{"version 0", c.cfg, edit(func(b []byte) []byte { b[2] = 0; return b }), "replicas checkpoint: version 0: this build reads version 1"},
		{"version 99", c.cfg, edit(func(b []byte) []byte { b[2] = 99; return b }), "replicas checkpoint: version 99: this build reads version 1"},
		{"another file", c.cfg, []byte("tt\x04"), `header "tt": not a replicas checkpoint`},
		{"HPA part version", c.cfg, edit(func(b []byte) []byte { b[3] = 99; return b }), "hpa state checkpoint: version 99"},
		{"guard flags", c.cfg, edit(func(b []byte) []byte { b[guard] |= 0x40; return b }), "guard flags 0x4"},
		{"forecaster version", c.cfg, edit(func(b []byte) []byte { b[fc+2] = 99; return b }), "forecast checkpoint: version 99"},
		{"NaN in a profile slot", c.cfg, edit(func(b []byte) []byte { copy(b[profile+17*4:], nan); return b }),
			"forecast checkpoint: profile slot 17 (01:25 UTC): NaN"},
		{"nowcast ring position out of range", c.cfg, edit(func(b []byte) []byte {
			_, k := binary.Varint(b[trailN:])
			return append(binary.AppendVarint(b[:trailN:trailN], -3), b[trailN+k:]...)
		}), "forecast checkpoint: nowcast sample count -3"},
		{"NaN in the nowcast ring", c.cfg, edit(func(b []byte) []byte { copy(b[len(b)-4:], nan); return b }), "nowcast ring slot 63"},
		{"another bucket", tenMin, data, "made with a 5m0s bucket, the config has 10m0s"},
		{"invalid config", replicas.Config{}, data, "replicas checkpoint: config: replicas 0..0"},
		{"trailing bytes", c.cfg, append(append([]byte(nil), data...), 1), "1 unexpected trailing bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := replicas.RestoreState(tc.cfg, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for name, bad := range map[string]*replicas.State{
		"a clairvoyant forecaster": {Forecast: clairvoyant{}},
		"no forecaster":            {},
		"a nil model":              {Forecast: (*forecast.Model)(nil)},
		"a guard time before 1970": {Forecast: s.Forecast, Guard: replicas.GuardState{Tripped: true, Since: time.Unix(-1, 0)}},
		"negative reactive":        {Forecast: s.Forecast, Reactive: []hpa.Recommendation{{Replicas: -1, At: time.Unix(1, 0)}}},
	} {
		if _, err := bad.MarshalBinary(); err == nil {
			t.Errorf("%s: checkpointed", name)
		}
	}
}

// TestCheckpointSize holds a workload's checkpoint to the budget
// of 32 KiB after one and three weeks (synth-noisy's generator, and the
// whole NASA trace where ../shared/data is present).
func TestCheckpointSize(t *testing.T) {
	noisy := replicasim.Synth{Seed: 2, Days: 21, Step: time.Minute, Base: 80, DailyAmp: 0.6, PeakHour: 20, Weekend: 1.2, TrendPerDay: 0.01, Noise: 0.12, Surges: 6}
	for _, name := range []string{"synth-noisy", "shared:nasa-http-1995-requests-per-minute.csv"} {
		t.Run(name, func(t *testing.T) {
			tr := noisy.Trace()
			if name != "synth-noisy" {
				tr = loadTrace(t, name)
			}
			c := newController(t, tr)
			s := mustState(t, c.cfg)
			day := int(24 * time.Hour / tr.Step)
			var sizes []int
			from := 0
			for _, weeks := range []int{1, 3} {
				c.run(t, s, from, weeks*7*day)
				from = weeks * 7 * day
				b, err := s.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if len(b) > 32<<10 {
					t.Errorf("%d-byte checkpoint after %d weeks: over the 32 KiB budget", len(b), weeks)
				}
				sizes = append(sizes, len(b))
			}
			t.Logf("checkpoint after one week: %d bytes, after three: %d bytes", sizes[0], sizes[1])
		})
	}
}

func BenchmarkStateMarshal(b *testing.B) {
	s, _ := weekState(b)
	var n int
	b.ReportAllocs()
	for b.Loop() {
		data, err := s.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n), "checkpoint-B")
}

func BenchmarkRestoreState(b *testing.B) {
	s, c := weekState(b)
	data, err := s.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := replicas.RestoreState(c.cfg, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "checkpoint-B")
}
