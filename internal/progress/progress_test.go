package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestMeter(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		steps []time.Duration // clock advance before each Report
		want  []string        // lines, then Done's
	}{
		{"fast run: nothing", []time.Duration{0, 500 * time.Millisecond, time.Second}, nil},
		{"first line after every", []time.Duration{time.Second, time.Second, 500 * time.Millisecond},
			[]string{"replay x: trimtab: sync 2 of 10 (20%), 2s elapsed", "replay x: done in 2.5s"}},
		{"one line per every", []time.Duration{2 * time.Second, time.Second, time.Second, 3 * time.Second},
			[]string{"replay x: trimtab: sync 1 of 10 (10%), 2s elapsed", "replay x: trimtab: sync 3 of 10 (30%), 4s elapsed",
				"replay x: trimtab: sync 4 of 10 (40%), 7s elapsed", "replay x: done in 7s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(start)
			var buf bytes.Buffer
			m := New(&buf, clk, 2*time.Second, "replay x", "sync")
			for i, d := range tc.steps {
				clk.SetTime(clk.Now().Add(d))
				m.Report("trimtab", i+1, 10)
			}
			m.Done()
			var got []string
			if s := strings.TrimSpace(buf.String()); s != "" {
				got = strings.Split(s, "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestNilMeterIsSilent(t *testing.T) {
	var m *Meter
	m.Report("x", 1, 2)
	m.Done()
	if m.Func() != nil {
		t.Error("a nil Meter's Func is not nil")
	}
}
