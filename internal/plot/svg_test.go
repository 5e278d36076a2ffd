package plot

import (
	"bytes"
	"encoding/xml"
	"math"
	"slices"
	"strconv"
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

// svgElems decodes the SVG into its elements' attributes (and text).
type svgElem struct {
	name  string
	attrs map[string]string
	text  string
}

func elemsOf(t *testing.T, svg []byte) []svgElem {
	t.Helper()
	var out []svgElem
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgElem{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
		case xml.CharData:
			if n := len(out); n > 0 {
				out[n-1].text += string(tok)
			}
		}
	}
	return out
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("attribute %q: %v", s, err)
	}
	return v
}

func testChart() Chart {
	t0 := time.Date(1995, 7, 3, 4, 0, 0, 0, time.UTC)
	var ts []time.Time
	var load, pods []float64
	for i := range 72 {
		ts = append(ts, t0.Add(time.Duration(i)*time.Hour))
		load = append(load, 50+40*math.Sin(float64(i)/24*2*math.Pi))
		pods = append(pods, 60)
	}
	return Chart{
		Title: "load and capacity", Subtitle: "trace.csv, times UTC-04:00, 07-03 .. 07-06",
		Series: []Series{{Name: "load", Times: ts, Values: load}, {Name: "trimtab capacity", Times: ts, Values: pods, Step: true}},
		Spans:  []Spans{{Name: "trimtab overloaded", From: []time.Time{ts[5]}, To: []time.Time{ts[7]}}},
		Events: []Event{{Name: "leak starts", Time: ts[30]}},
	}
}

// The legend sits under the chart, off the data: every legend label is
// below the plot area's frame and its lanes.
func TestLegendOffTheData(t *testing.T) {
	c := testChart()
	var buf bytes.Buffer
	if err := c.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	es := elemsOf(t, buf.Bytes())
	bottom := -1.0
	for _, e := range es {
		if e.name == "rect" && e.attrs["stroke"] == "#999999" {
			bottom = num(t, e.attrs["y"]) + num(t, e.attrs["height"])
		}
	}
	if bottom < 0 {
		t.Fatal("no plot-area frame")
	}
	names := map[string]bool{"load": true, "trimtab capacity": true, "trimtab overloaded": true, "leak starts": true}
	found := 0
	for _, e := range es {
		if e.name == "text" && names[strings.TrimSpace(e.text)] {
			found++
			if y := num(t, e.attrs["y"]); y <= bottom {
				t.Errorf("legend label %q at y=%v is over the plot area (bottom %v)", e.text, y, bottom)
			}
		}
	}
	if found != len(names) {
		t.Errorf("found %d legend labels, want %d", found, len(names))
	}
	for _, e := range es {
		if e.name == "svg" && num(t, e.attrs["height"]) < 480 {
			t.Errorf("figure height %s: the legend should add to the 480 px", e.attrs["height"])
		}
	}
}

// Spans are bars in a lane under the plot area; events are dashed lines
// across it; the subtitle is drawn.
func TestMarksDrawn(t *testing.T) {
	c := testChart()
	var buf bytes.Buffer
	if err := c.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	es := elemsOf(t, buf.Bytes())
	var frameBottom, laneY float64
	dashed, subtitle := 0, false
	for _, e := range es {
		switch {
		case e.name == "rect" && e.attrs["stroke"] == "#999999":
			frameBottom = num(t, e.attrs["y"]) + num(t, e.attrs["height"])
		case e.name == "rect" && e.attrs["height"] == strconv.Itoa(laneHeight) && laneY == 0:
			laneY = num(t, e.attrs["y"])
			// 5h..7h of a 71 h window, 1110 px wide from x=70.
			if x, w := num(t, e.attrs["x"]), num(t, e.attrs["width"]); math.Abs(x-(70+1110*5.0/71)) > 0.1 || math.Abs(w-1110*2.0/71) > 0.2 {
				t.Errorf("span bar at x=%v width %v, want %v, %v", x, w, 70+1110*5.0/71, 1110*2.0/71)
			}
		case e.name == "line" && e.attrs["stroke-dasharray"] != "":
			dashed++
		case e.name == "text" && strings.Contains(e.text, "UTC-04:00"):
			subtitle = true
		}
	}
	if laneY <= frameBottom-1 {
		t.Errorf("span lane at y=%v, want under the plot area (bottom %v)", laneY, frameBottom)
	}
	if dashed != 2 { // the event's line and its legend key
		t.Errorf("%d dashed lines, want 2", dashed)
	}
	if !subtitle {
		t.Error("subtitle not drawn")
	}
}

func TestTimeTicksInLocation(t *testing.T) {
	edt := time.FixedZone("UTC-04:00", -4*3600)
	t0 := time.Date(1995, 7, 3, 1, 0, 0, 0, time.UTC)
	ticks, layout := timeTicks(t0, t0.Add(6*24*time.Hour), edt, 7)
	if layout != "2006-01-02" || len(ticks) != 6 {
		t.Fatalf("ticks %v, layout %q: want 6 daily ticks", ticks, layout)
	}
	for _, tk := range ticks {
		if l := tk.In(edt); l.Hour() != 0 || l.Minute() != 0 {
			t.Errorf("tick %v is not a midnight in %v", l, edt)
		}
	}
	if ticks[0].In(edt).Day() != 3 {
		t.Errorf("first tick %v, want 07-03 00:00 local", ticks[0].In(edt))
	}
}

func TestSpansWhere(t *testing.T) {
	t0 := time.Unix(0, 0).UTC()
	ts := make([]time.Time, 6)
	for i := range ts {
		ts[i] = t0.Add(time.Duration(i) * time.Minute)
	}
	end := t0.Add(10 * time.Minute)
	for _, tc := range []struct {
		name     string
		held     []bool
		from, to []int // minutes
	}{
		{"none", []bool{false, false, false, false, false, false}, nil, nil},
		{"all", []bool{true, true, true, true, true, true}, []int{0}, []int{10}},
		{"two runs", []bool{false, true, true, false, true, false}, []int{1, 4}, []int{3, 5}},
		{"open at the end", []bool{false, false, false, false, false, true}, []int{5}, []int{10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := SpansWhere("x", "", ts, end, func(i int) bool { return tc.held[i] })
			var from, to []int
			for i := range s.From {
				from = append(from, int(s.From[i].Sub(t0).Minutes()))
				to = append(to, int(s.To[i].Sub(t0).Minutes()))
			}
			if !slices.Equal(from, tc.from) || !slices.Equal(to, tc.to) {
				t.Errorf("spans %v..%v, want %v..%v", from, to, tc.from, tc.to)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v, step float64
		want    string
	}{
		{0, 5, "0"}, {15, 5, "15"}, {0, 0.5, "0.0"}, {1.5, 0.5, "1.5"}, {0.2, 0.2, "0.2"},
		{0.05, 0.05, "0.05"}, {50000, 50000, "50.0k"}, {2e6, 5e5, "2.0M"}, {1000, 50, "1000"},
	} {
		if got := formatValue(tc.v, tc.step); got != tc.want {
			t.Errorf("formatValue(%v, %v) = %q, want %q", tc.v, tc.step, got, tc.want)
		}
	}
}
