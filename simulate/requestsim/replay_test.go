package requestsim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/requests"
	"github.com/trimtab-dev/trimtab/internal/shareddata"
)

func parseFile(t testing.TB, path string) Trace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tr
}

// checkInvariants holds for every replay, whatever the trace.
func checkInvariants(t *testing.T, r Result) {
	t.Helper()
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("result does not encode as JSON: %v", err)
	}
	for _, n := range Names {
		m := r.Strategies[n]
		for name, v := range map[string]float64{"cpu slack": m.CPUSlackMean, "mem slack": m.MemSlackMean} {
			if math.IsNaN(v) || v > 1 {
				t.Errorf("%s %s = %v, want a number <= 1", n, name, v)
			}
		}
		if len(r.Series.Requests[n]) != len(r.Series.Times) {
			t.Errorf("%s: %d requests for %d times", n, len(r.Series.Requests[n]), len(r.Series.Times))
		}
	}
	if o := r.Strategies[Oracle]; o.OOMMinutes != 0 || o.CPUOverRequestMinutes != 0 {
		t.Errorf("the oracle went over its request: %+v", o)
	}
}

func TestRunOnRecordedSlice(t *testing.T) {
	tr := parseFile(t, filepath.Join(shareddata.RepoRoot(t), "test/testdata/usage/bitbrains-2013-8-vm386-10d.csv"))
	r, err := Run(tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, r)
	// 10 days: the default warm-up is a third of the trace.
	if got := r.ScoredFrom.Sub(r.Start); got < 79*time.Hour || got > 81*time.Hour {
		t.Errorf("warm-up %s, want a third of 10 days", got)
	}
	if s := r.Strategies[Static]; s.MemSlackMean < r.Strategies[Trimtab].MemSlackMean {
		t.Errorf("static provisioning (%.2f) has less memory slack than trimtab (%.2f)", s.MemSlackMean, r.Strategies[Trimtab].MemSlackMean)
	}
	if n := r.Strategies[Trimtab].LeakRaises; n != 0 {
		t.Errorf("%d leak raises on a trace without a leak", n)
	}
	if _, err := Run(tr, Options{Warmup: 30 * 24 * time.Hour}); err == nil {
		t.Error("a warm-up longer than the trace was accepted")
	}
	if _, err := Run(tr, Options{LeakRate: math.NaN()}); err == nil {
		t.Error("a NaN leak rate was accepted")
	}
	if _, err := Run(tr, Options{Warmup: -time.Hour}); err == nil || !strings.Contains(err.Error(), "-1h0m0s") {
		t.Errorf("a negative warm-up: %v, want an error naming it", err)
	}
}

// TestRunAcrossAHugeGap: a gap of any length inside the accepted time
// range is replayed, and the oracle's changes count days with samples.
func TestRunAcrossAHugeGap(t *testing.T) {
	var tr Trace
	for _, at := range []time.Time{time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1971, 1, 1, 0, 5, 0, 0, time.UTC), requests.MaxSampleTime} {
		tr.Samples = append(tr.Samples, requests.Sample{Time: at, CPU: 1, Memory: 1 << 30})
	}
	r, err := Run(tr, Options{Warmup: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, r)
	if n := r.Strategies[Oracle].RequestChanges; n != 1 {
		t.Errorf("oracle changes = %d, want 1 (the one later day with samples)", n)
	}
}

// synthetic is a container with a daily memory and CPU cycle, a weekend dip,
// a GC sawtooth and noise, sampled every 5 minutes.
func synthetic(seed uint64, days int, base, amp float64) Trace {
	r := rand.New(rand.NewPCG(seed, 7))
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var tr Trace
	phase := r.Float64() * 6
	for i := 0; i < days*288; i++ {
		t := t0.Add(time.Duration(i) * 5 * time.Minute)
		h := float64(i) / 12
		day := 0.5 - 0.5*math.Cos(2*math.Pi*(h-phase)/24)
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			day *= 0.6
		}
		mem := base + amp*day + 0.1*amp*math.Mod(h, 2)/2 + r.NormFloat64()*0.03*amp
		cpu := 0.2 + 0.8*day + math.Abs(r.NormFloat64())*0.1
		tr.Samples = append(tr.Samples, requests.Sample{Time: t, CPU: cpu, Memory: math.Max(mem, 0)})
	}
	return tr
}

// syntheticContainers are the memory base, daily amplitude and a leak rate
// of the synthetic containers replayed by TestSyntheticTraces (seeded by
// their index) and TestEvaluate.
var syntheticContainers = []struct{ base, amp, leak float64 }{
	{1024 * requests.MiB, 300 * requests.MiB, 40 * requests.MiB},
	{512 * requests.MiB, 400 * requests.MiB, 20 * requests.MiB},
	{8192 * requests.MiB, 1024 * requests.MiB, 100 * requests.MiB},
	{300 * requests.MiB, 60 * requests.MiB, 10 * requests.MiB},
}

func TestSyntheticTraces(t *testing.T) {
	for i, tc := range syntheticContainers {
		t.Run(fmt.Sprintf("seed %d", i), func(t *testing.T) {
			tr := synthetic(uint64(i), 28, tc.base, tc.amp)
			r, err := Run(tr, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, r)
			tt, v := r.Strategies[Trimtab], r.Strategies[VPA]
			if tt.LeakRaises != 0 {
				t.Errorf("%d leak raises on healthy periodic memory", tt.LeakRaises)
			}
			if tt.OOMMinutes > v.OOMMinutes {
				t.Errorf("trimtab %v OOM minutes, VPA %v", tt.OOMMinutes, v.OOMMinutes)
			}
			lr, err := Run(tr, Options{LeakRate: tc.leak})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, lr)
			lt := lr.Strategies[Trimtab]
			if lt.LeakCaught == nil || !*lt.LeakCaught {
				t.Errorf("leak of %s/h not caught: lead %v, leak OOM minutes %v", requests.FormatBytes(tc.leak), lt.LeakLeadMinutes, *lt.LeakOOMMinutes)
			}
			lead := math.NaN()
			if lt.LeakLeadMinutes != nil {
				lead = *lt.LeakLeadMinutes
			}
			t.Logf("mem slack trimtab %.3f vpa %.3f oracle %.3f (constant at the peak %.3f); cpu slack %.3f/%.3f/%.3f; OOM min %v/%v; changes/day %.2f/%.2f; leak lead %.0f min",
				tt.MemSlackMean, v.MemSlackMean, r.Strategies[Oracle].MemSlackMean, budgetedOracle(r.Series, 0), tt.CPUSlackMean, v.CPUSlackMean, r.Strategies[Oracle].CPUSlackMean,
				tt.OOMMinutes, v.OOMMinutes, tt.RequestChangesPerDay, v.RequestChangesPerDay, lead)
		})
	}
}

// TestSharedTraces replays every recorded VM in ../shared/data/usage and
// logs the comparison the issue asks for.
func TestSharedTraces(t *testing.T) {
	files := shareddata.Glob(t, "usage", "*.csv")
	var oom, vpaOOM float64
	for _, f := range files {
		tr := parseFile(t, f)
		r, err := Run(tr, Options{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkInvariants(t, r)
		tt, v, o := r.Strategies[Trimtab], r.Strategies[VPA], r.Strategies[Oracle]
		oom, vpaOOM = oom+tt.OOMMinutes, vpaOOM+v.OOMMinutes
		if tt.LeakRaises > 1 {
			t.Errorf("%s: %d leak raises without a leak", filepath.Base(f), tt.LeakRaises)
		}
		t.Logf("%-28s mem slack t=%.3f v=%.3f o=%.3f; OOM min t=%v v=%v; cpu slack t=%.3f v=%.3f o=%.3f; changes/day t=%.2f v=%.2f",
			filepath.Base(f), tt.MemSlackMean, v.MemSlackMean, o.MemSlackMean, tt.OOMMinutes, v.OOMMinutes,
			tt.CPUSlackMean, v.CPUSlackMean, o.CPUSlackMean, tt.RequestChangesPerDay, v.RequestChangesPerDay)
	}
	// Safety first: over all recorded VMs trimtab is never less safe than VPA.
	if oom > vpaOOM {
		t.Errorf("trimtab %.0f OOM minutes over %d VMs, VPA %.0f", oom, len(files), vpaOOM)
	}
	t.Logf("OOM minutes over %d VMs: trimtab %.0f, VPA %.0f", len(files), oom, vpaOOM)
}

func BenchmarkReplayMonth(b *testing.B) {
	tr := parseFile(b, filepath.Join(shareddata.RepoRoot(b), "test/testdata/usage/bitbrains-2013-8-vm386-10d.csv"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(tr, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLeakOOMIsTheLeaks: a spike that would exceed the request without the
// leak is an ordinary OOM; the leak's OOM is the first sample that only
// the leak takes over the request in force when it began.
func TestLeakOOMIsTheLeaks(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	req := requests.Resources{CPU: 1, Memory: 1000}
	sc := &scorer{m: &Metrics{}}
	for i, u := range []struct{ leaked, unleaked float64 }{
		{900, 900},   // the leak's start
		{1100, 1090}, // a spike over the request with or without the leak
		{990, 970},
		{1010, 980}, // over only because of the leak
	} {
		at := start.Add(time.Duration(i) * time.Hour)
		sc.trackLeak(requests.Sample{Time: at, Memory: u.leaked}, u.unleaked, req, start, time.Hour)
	}
	if want := start.Add(3 * time.Hour); !sc.oomAt.Equal(want) {
		t.Errorf("leak OOM at %s, want %s (the spike at +1h is not the leak's)", sc.oomAt, want)
	}
	if sc.leakOOM != 120 {
		t.Errorf("%v OOM minutes after the leak began, want 120 (both samples over the request)", sc.leakOOM)
	}
}
