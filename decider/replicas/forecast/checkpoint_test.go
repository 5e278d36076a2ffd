package forecast_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trimtab-dev/trimtab/decider/replicas/forecast"
	"github.com/trimtab-dev/trimtab/simulate/replicasim"
)

// loadTestdata reads a trace of test/testdata/traffic, or with the prefix
// "shared:" one of ../shared/data/traffic next to the repository, which
// is skipped where it is not present.
func loadTestdata(t testing.TB, name string) replicasim.Trace {
	t.Helper()
	path := "../../../test/testdata/traffic/" + name
	if shared, ok := strings.CutPrefix(name, "shared:"); ok {
		path = "../../../../shared/data/traffic/" + shared
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

// TestCheckpointRoundTrip learns a trace, checkpoints the model, and
// checks that the restored model forecasts exactly what the original does,
// sample by sample, over the next day of the trace, and checkpoints to the
// same bytes at the end.
func TestCheckpointRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		trace string
		days  int  // learned before the checkpoint
		cold  bool // still learning at the checkpoint
	}{
		{"synth-noisy.csv", 7, false},
		{"synth-smooth.csv", 7, false},
		// A real trace, three days long: a restart on the model's second day.
		{"nasa-http-1995-07-03-3days.csv", 2, true},
		// The whole NASA trace, where ../shared/data is present (CI).
		{"shared:nasa-http-1995-requests-per-minute.csv", 7, false},
	} {
		t.Run(tc.trace, func(t *testing.T) {
			tr := loadTestdata(t, tc.trace)
			day := int(24 * time.Hour / tr.Step)
			orig := newModel(t)
			feed(t, orig, tr, tc.days*day)
			b, err := orig.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			restored, err := forecast.Restore(forecast.DefaultConfig(), b)
			if err != nil {
				t.Fatal(err)
			}
			warm := 0
			for i := tc.days * day; i < min((tc.days+1)*day, len(tr.Values)); i++ {
				if orig.Warm() != restored.Warm() || orig.Period() != restored.Period() || orig.Method() != restored.Method() {
					t.Fatalf("sample %d: warm %v/%v, period %v/%v, method %q/%q", i, orig.Warm(), restored.Warm(),
						orig.Period(), restored.Period(), orig.Method(), restored.Method())
				}
				for _, ahead := range []time.Duration{0, 5 * time.Minute, 12 * time.Minute} {
					for _, q := range []float64{0.5, 0.9, 0.99} {
						at := tr.At(i).Add(ahead)
						p1, u1, ok1 := orig.Forecast(at, q)
						p2, u2, ok2 := restored.Forecast(at, q)
						if p1 != p2 || u1 != u2 || ok1 != ok2 {
							t.Fatalf("sample %d, %s ahead, q %g: original %v %v %v, restored %v %v %v", i, ahead, q, p1, u1, ok1, p2, u2, ok2)
						}
						if ok1 {
							warm++
						}
					}
				}
				orig.Observe(tr.At(i), tr.Values[i])
				restored.Observe(tr.At(i), tr.Values[i])
			}
			if (warm == 0) != tc.cold {
				t.Fatalf("%d warm forecasts compared, want them %s", warm, map[bool]string{true: "none (cold)", false: "some"}[tc.cold])
			}
			b1, err1 := orig.MarshalBinary()
			b2, err2 := restored.MarshalBinary()
			if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
				t.Errorf("after a day: checkpoints differ (%d vs %d bytes; %v, %v)", len(b1), len(b2), err1, err2)
			}
			t.Logf("%s: %d-byte checkpoint after %d days; %d warm forecasts compared", tc.trace, len(b), tc.days, warm)
		})
	}
}

// BenchmarkModelMarshal and BenchmarkModelRestore checkpoint a model that
// has learned a week of a trace.
func BenchmarkModelMarshal(b *testing.B) {
	m := weekModel(b)
	var n int
	b.ReportAllocs()
	for b.Loop() {
		data, err := m.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n), "checkpoint-B")
}

func BenchmarkModelRestore(b *testing.B) {
	data, err := weekModel(b).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := forecast.Restore(forecast.DefaultConfig(), data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "checkpoint-B")
}

func weekModel(b *testing.B) *forecast.Model {
	b.Helper()
	tr := loadTestdata(b, "synth-noisy.csv")
	m, err := forecast.New(forecast.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	for i := range 7 * 1440 {
		m.Observe(tr.At(i), tr.Values[i])
	}
	return m
}
