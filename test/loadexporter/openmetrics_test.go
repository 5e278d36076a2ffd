package loadexporter

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestWriteOpenMetrics(t *testing.T) {
	tr := minutes(5, math.NaN(), 7.5)
	web := Series{Labels: map[string]string{"workload": "web"}, Replay: Replay{Trace: tr, Start: t0, TraceAt: tr.Start}}
	odd := Series{Labels: map[string]string{"workload": "a\"b\\c\nd"}, Replay: Replay{Trace: tr, Start: t0, TraceAt: tr.At(2)}}
	extra := map[string]string{"job": "127.0.0.1:9400/metrics", "instance": "127.0.0.1:9400"}
	for _, c := range []struct {
		name     string
		series   []Series
		extra    map[string]string
		from, to time.Time
		want     string
		err      string
	}{
		{
			name: "the three minutes before start, gap left out, labels sorted", series: []Series{web}, extra: extra,
			from: t0.Add(-3 * time.Minute), to: t0,
			want: `# HELP trimtab_test_load Replayed load.
# TYPE trimtab_test_load gauge
trimtab_test_load{instance="127.0.0.1:9400",job="127.0.0.1:9400/metrics",workload="web"} 5 1796378220
trimtab_test_load{instance="127.0.0.1:9400",job="127.0.0.1:9400/metrics",workload="web"} 7.5 1796378340
# EOF
`,
		},
		{
			name: "each series in time order, then the next; values escaped", series: []Series{web, odd},
			from: t0, to: t0.Add(2 * time.Minute),
			want: `# HELP trimtab_test_load Replayed load.
# TYPE trimtab_test_load gauge
trimtab_test_load{workload="web"} 5 1796378400
trimtab_test_load{workload="a\"b\\c\nd"} 7.5 1796378400
trimtab_test_load{workload="a\"b\\c\nd"} 5 1796378460
# EOF
`,
		},
		{
			name: "extra overrides a series label; sub-second start", extra: map[string]string{"workload": "api"},
			series: []Series{{Labels: map[string]string{"workload": "web"}, Replay: Replay{Trace: tr, Start: t0.Add(1500 * time.Millisecond), TraceAt: tr.Start}}},
			from:   t0, to: t0.Add(time.Minute),
			want: `# HELP trimtab_test_load Replayed load.
# TYPE trimtab_test_load gauge
trimtab_test_load{workload="api"} 5 1796378401.5
# EOF
`,
		},
		{name: "no series", from: t0, to: t0.Add(time.Hour), want: "# HELP trimtab_test_load Replayed load.\n# TYPE trimtab_test_load gauge\n# EOF\n"},
		{name: "bad label", series: []Series{{Labels: map[string]string{"__name__": "x"}, Replay: web.Replay}}, err: "not starting with __"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			err := WriteOpenMetrics(&b, "trimtab_test_load", "Replayed load.", c.series, c.extra, c.from, c.to)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want an error containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), c.want)
			}
		})
	}
	if err := WriteOpenMetrics(&strings.Builder{}, "9load", "", nil, nil, t0, t0); err == nil {
		t.Error("metric name 9load: want an error")
	}
}

// TestCollectorContinuesBackfill checks that the live value at each sample
// time is the one the backfill writes for it, so the two join without a step.
func TestCollectorContinuesBackfill(t *testing.T) {
	tr := daily(2, 8*time.Hour)
	r, err := Align(tr, t0, 8*time.Hour, 5*time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	series := []Series{{Labels: map[string]string{"workload": "web"}, Replay: r}}
	clk := clocktesting.NewFakePassiveClock(t0)
	c, err := NewCollector("trimtab_test_load", "Replayed load.", series, clk)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	for _, at := range []time.Duration{0, 30 * time.Second, 5 * time.Minute, 65 * time.Minute} {
		clk.SetTime(t0.Add(at))
		want, _ := r.Value(t0.Add(at))
		if got := gather(t, reg); len(got) != 1 || got[0] != want {
			t.Errorf("at start+%s: scraped %v, want [%v]", at, got, want)
		}
	}
	// The ramp plays from lead after the start.
	if v, _ := r.Value(t0.Add(4 * time.Minute)); v != 10 {
		t.Errorf("a minute before the ramp: %v, want the night's 10", v)
	}
	if v, _ := r.Value(t0.Add(65 * time.Minute)); v != 70 {
		t.Errorf("an hour after the ramp began: %v, want the day's 70", v)
	}

	// A gap is left out of the scrape.
	gappy := []Series{{Labels: map[string]string{"workload": "web"}, Replay: Replay{Trace: minutes(math.NaN()), Start: t0, TraceAt: minutes().Start}}}
	g, err := NewCollector("trimtab_test_load", "Replayed load.", gappy, clk)
	if err != nil {
		t.Fatal(err)
	}
	greg := prometheus.NewPedanticRegistry()
	greg.MustRegister(g)
	if got := gather(t, greg); len(got) != 0 {
		t.Errorf("a gap: scraped %v, want nothing", got)
	}
	if _, err := NewCollector("trimtab_test_load", "", []Series{{Labels: map[string]string{"a": "1"}}, {Labels: map[string]string{"b": "1"}}}, clk); err == nil {
		t.Error("series with different label names: want an error")
	}
}

// gather returns the values of trimtab_test_load that reg serves.
func gather(t *testing.T, reg *prometheus.Registry) []float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, mf := range mfs {
		if mf.GetName() != "trimtab_test_load" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out = append(out, m.GetGauge().GetValue())
		}
	}
	return out
}
