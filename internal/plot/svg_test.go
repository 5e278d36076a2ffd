package plot

import (
	"bytes"
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"
)

func TestWriteSVGIsWellFormed(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute), t0.Add(3 * time.Minute)}
	c := Chart{
		Title:  "load <and> capacity",
		Series: []Series{{Name: "load", Times: ts, Values: []float64{1, 2, math.NaN(), 4}}, {Name: "replicas", Times: ts, Values: []float64{2, 2, 3, 3}, Step: true}},
		Bands:  []Band{{Name: "p10-p90", Times: ts, Lo: []float64{0, 1, 1, 2}, Hi: []float64{2, 3, 3, 5}}},
	}
	var buf bytes.Buffer
	if err := c.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&buf)
	paths := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
			paths++
			for _, a := range se.Attr {
				if a.Name.Local == "d" && strings.Count(a.Value, "M") < 1 {
					t.Errorf("path %q has no move-to", a.Value)
				}
			}
		}
	}
	if paths != 2 {
		t.Errorf("got %d paths, want one per series (2)", paths)
	}
}

func TestWriteSVGRejectsBadInput(t *testing.T) {
	ts := []time.Time{time.Unix(0, 0)}
	for name, c := range map[string]Chart{
		"empty":          {Title: "nothing"},
		"all NaN":        {Series: []Series{{Name: "x", Times: ts, Values: []float64{math.NaN()}}}},
		"length differs": {Series: []Series{{Name: "x", Times: ts, Values: []float64{1, 2}}}},
		"band differs":   {Bands: []Band{{Name: "b", Times: ts, Lo: []float64{1}, Hi: nil}}},
	} {
		if err := c.WriteSVG(&bytes.Buffer{}); err == nil {
			t.Errorf("%s: WriteSVG succeeded, want an error", name)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct{ lo, hi, step float64 }{
		{0, 609, 200}, {0, 16, 5}, {0, 0.9, 0.2}, {0, 229426, 50000}, {3, 3.5, 0.1},
	} {
		got := niceTicks(tc.lo, tc.hi, 6)
		if len(got) < 3 || len(got) > 12 {
			t.Errorf("niceTicks(%v, %v) = %v: want 3-12 ticks", tc.lo, tc.hi, got)
			continue
		}
		if d := got[1] - got[0]; math.Abs(d-tc.step) > 1e-9*tc.step {
			t.Errorf("niceTicks(%v, %v) step %v, want %v", tc.lo, tc.hi, d, tc.step)
		}
		if got[0] < tc.lo-1e-9 || got[len(got)-1] > tc.hi+1e-9 || tc.hi-got[len(got)-1] >= tc.step {
			t.Errorf("niceTicks(%v, %v) = %v does not span the range", tc.lo, tc.hi, got)
		}
	}
}
