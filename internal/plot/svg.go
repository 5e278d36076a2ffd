// Package plot draws the time-series charts that `trimtab simulate --plot`
// writes: a few lines (and optionally a shaded band) over a shared time axis,
// as a self-contained SVG any browser opens. It is deliberately small; it knows
// nothing about trimtab's domain.
package plot

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Series is one line on the chart. Times and Values have equal length; a NaN
// value leaves a gap.
type Series struct {
	Name   string
	Color  string // any SVG colour; empty picks one from the palette
	Times  []time.Time
	Values []float64
	// Step draws the line as a staircase (each value holds until the next
	// time, also when the next value is NaN), which is how replica counts,
	// requests and placements behave.
	Step bool
}

// Band is a shaded range, e.g. a forecast interval.
type Band struct {
	Name  string
	Color string
	Times []time.Time
	Lo    []float64
	Hi    []float64
}

// Chart is one SVG figure.
type Chart struct {
	Title  string
	YLabel string
	Width  int // pixels; 0 means 1200
	Height int // pixels; 0 means 480
	Series []Series
	Bands  []Band
}

var palette = []string{"#444444", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"}

const (
	marginLeft   = 70
	marginRight  = 20
	marginTop    = 40
	marginBottom = 60
)

// WriteSVG renders c to w. It returns an error if the chart has no data or a
// series is malformed, so a caller never writes an empty picture silently.
func (c Chart) WriteSVG(w io.Writer) error {
	width, height := c.Width, c.Height
	if width == 0 {
		width = 1200
	}
	if height == 0 {
		height = 480
	}
	t0, t1, y0, y1, err := c.bounds()
	if err != nil {
		return err
	}
	pw := float64(width - marginLeft - marginRight)
	ph := float64(height - marginTop - marginBottom)
	x := func(t time.Time) float64 {
		span := t1.Sub(t0).Seconds()
		if span <= 0 {
			return marginLeft
		}
		return marginLeft + pw*t.Sub(t0).Seconds()/span
	}
	y := func(v float64) float64 {
		if y1 == y0 {
			return marginTop + ph/2
		}
		return marginTop + ph*(1-(v-y0)/(y1-y0))
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16">%s</text>`+"\n", marginLeft, escape(c.Title))

	// Axes and grid, on round values and round times.
	for _, v := range niceTicks(y0, y1, 6) {
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>`+"\n", marginLeft, yy, width-marginRight, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginLeft-6, yy+4, formatValue(v))
	}
	step, layout := timeStep(t1.Sub(t0), 7)
	for t := t0.UTC().Truncate(step); !t.After(t1); t = t.Add(step) {
		if t.Before(t0) {
			continue
		}
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e0e0e0"/>`+"\n", xx, marginTop, xx, height-marginBottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", xx, height-marginBottom+16, t.Format(layout))
	}
	fmt.Fprintf(&b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>`+"\n", marginTop+int(ph/2), marginTop+int(ph/2), escape(c.YLabel))

	// A white box behind the legend keeps it readable over the data.
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="216" height="%d" fill="white" fill-opacity="0.85" stroke="#cccccc"/>`+"\n",
		width-marginRight-226, marginTop-4, 16*(len(c.Series)+len(c.Bands))+6)
	legend := 0
	for i, band := range c.Bands {
		color := pick(band.Color, i+len(c.Series))
		var pts []string
		for j, t := range band.Times {
			if !isFinite(band.Hi[j]) || !isFinite(band.Lo[j]) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y(band.Hi[j])))
		}
		for j := len(band.Times) - 1; j >= 0; j-- {
			if !isFinite(band.Hi[j]) || !isFinite(band.Lo[j]) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(band.Times[j]), y(band.Lo[j])))
		}
		fmt.Fprintf(&b, `<polygon points="%s" fill="%s" fill-opacity="0.2" stroke="none"/>`+"\n", strings.Join(pts, " "), color)
		writeLegend(&b, width, legend, band.Name, color, true)
		legend++
	}
	for i, s := range c.Series {
		color := pick(s.Color, i)
		var path strings.Builder
		pen := false
		for j, t := range s.Times {
			v := s.Values[j]
			if !isFinite(v) {
				if pen && s.Step {
					// A step holds until the next time, also when a gap
					// begins there: without this, a step followed by NaN
					// drew nothing at all.
					fmt.Fprintf(&path, "H%.1f", x(t))
				}
				pen = false
				continue
			}
			switch {
			case !pen:
				fmt.Fprintf(&path, "M%.1f %.1f", x(t), y(v))
				pen = true
			case s.Step:
				fmt.Fprintf(&path, "H%.1fV%.1f", x(t), y(v))
			default:
				fmt.Fprintf(&path, "L%.1f %.1f", x(t), y(v))
			}
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.2"/>`+"\n", path.String(), color)
		writeLegend(&b, width, legend, s.Name, color, false)
		legend++
	}
	b.WriteString("</svg>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

func (c Chart) bounds() (t0, t1 time.Time, y0, y1 float64, err error) {
	y0, y1 = math.Inf(1), math.Inf(-1)
	see := func(t time.Time, v float64) {
		if !isFinite(v) {
			return
		}
		if t0.IsZero() || t.Before(t0) {
			t0 = t
		}
		if t.After(t1) {
			t1 = t
		}
		y0, y1 = math.Min(y0, v), math.Max(y1, v)
	}
	for _, s := range c.Series {
		if len(s.Times) != len(s.Values) {
			return t0, t1, 0, 0, fmt.Errorf("plot: series %q has %d times but %d values", s.Name, len(s.Times), len(s.Values))
		}
		for i, t := range s.Times {
			see(t, s.Values[i])
		}
	}
	for _, b := range c.Bands {
		if len(b.Times) != len(b.Lo) || len(b.Times) != len(b.Hi) {
			return t0, t1, 0, 0, fmt.Errorf("plot: band %q has %d times but %d/%d bounds", b.Name, len(b.Times), len(b.Lo), len(b.Hi))
		}
		for i, t := range b.Times {
			see(t, b.Lo[i])
			see(t, b.Hi[i])
		}
	}
	if t0.IsZero() {
		return t0, t1, 0, 0, fmt.Errorf("plot: %q has no finite data to draw", c.Title)
	}
	if y0 > 0 {
		y0 = 0 // quantities here are counts and sizes: anchor the axis at zero
	}
	y1 += (y1 - y0) * 0.05
	return t0, t1, y0, y1, nil
}

// niceTicks returns about n round values (1, 2 or 5 × 10^k apart) covering
// [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, v)
	}
	return ticks
}

// timeStep picks a round tick interval giving about n ticks over span, and
// the layout to label them with.
func timeStep(span time.Duration, n int) (time.Duration, string) {
	for _, s := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if span/s <= time.Duration(n) {
			return s, "01-02 15:04"
		}
	}
	for _, days := range []int{1, 2, 7, 14, 28} {
		if s := time.Duration(days) * 24 * time.Hour; span/s <= time.Duration(n) {
			return s, "2006-01-02"
		}
	}
	return 56 * 24 * time.Hour, "2006-01-02"
}

func writeLegend(b *strings.Builder, width, i int, name, color string, band bool) {
	xx := width - marginRight - 220
	yy := marginTop + 8 + 16*i
	if band {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="18" height="8" fill="%s" fill-opacity="0.3"/>`+"\n", xx, yy-6, color)
	} else {
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", xx, yy-2, xx+18, yy-2, color)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", xx+24, yy+2, escape(name))
}

func pick(color string, i int) string {
	if color != "" {
		return color
	}
	return palette[i%len(palette)]
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 10 || a == 0:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
