package replicasim

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseTrace: any input gives a trace or an error, never a panic, and a
// returned trace is regular, at least a day long and free of bad values.
func FuzzParseTrace(f *testing.F) {
	f.Add("time,load\n2026-03-02 00:00,1\n2026-03-03 00:00,2\n", "", "")
	f.Add("1,2\n60,3\n86460,4\n", "", "")
	f.Add("a;b\nx;y\n", "b", "a")
	f.Add("t,v\n2026-03-02T00:00:00Z,1e308\n2026-03-02T00:00:00Z,1\n", "t", "2")
	f.Fuzz(func(t *testing.T, csv, tc, vc string) {
		tr, err := ParseTrace(strings.NewReader(csv), tc, vc)
		if err != nil {
			return
		}
		if tr.Step <= 0 || len(tr.Values) == 0 || tr.At(len(tr.Values)).Sub(tr.Start) < MinTraceSpan {
			t.Fatalf("bad trace: step %s, %d values", tr.Step, len(tr.Values))
		}
		for _, v := range tr.Values {
			if v < 0 || math.IsInf(v, 0) {
				t.Fatalf("bad value %v", v)
			}
		}
	})
}
