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

// A step's value holds until the next time, also when the next value is NaN:
// trimtab's off-spot placement (the on-demand price while off, NaN while on
// spot) is a step followed by NaN for every stretch off spot, and nothing
// was drawn for it.
func TestStepHoldsUntilNaN(t *testing.T) {
	t0 := time.Date(2015, 3, 11, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	nan := math.NaN()
	c := Chart{Series: []Series{
		{Name: "price", Times: []time.Time{at(0), at(10)}, Values: []float64{1, 1}},
		{Name: "off spot", Step: true, Times: []time.Time{at(0), at(2), at(4), at(6), at(7)}, Values: []float64{nan, 2, nan, 2, nan}},
	}}
	var buf bytes.Buffer
	if err := c.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	paths := pathsOf(t, buf.Bytes())
	if len(paths) != 2 {
		t.Fatalf("got %d paths, want 2", len(paths))
	}
	// Two stretches off spot: each a move-to and a horizontal line to the
	// time the NaN begins (x = 70 + 1110·h/10).
	if got := paths[1]; !strings.HasPrefix(got, "M292.0 ") || !strings.Contains(got, "H514.0M736.0 ") || !strings.HasSuffix(got, "H847.0") {
		t.Errorf("off-spot path = %q, want stretches 2h..4h and 6h..7h drawn (H514.0, H847.0)", got)
	}
}

func pathsOf(t *testing.T, svg []byte) []string {
	t.Helper()
	var out []string
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
			for _, a := range se.Attr {
				if a.Name.Local == "d" {
					out = append(out, a.Value)
				}
			}
		}
	}
	return out
}
