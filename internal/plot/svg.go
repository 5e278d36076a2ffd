package plot

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

const (
	marginLeft   = 70
	marginRight  = 20
	titleHeight  = 40 // the title's line
	subtitleLine = 18
	tickLabels   = 30 // under the plot area (and its lanes)
	laneHeight   = 8
	laneGap      = 4
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
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	top := titleHeight
	if c.Subtitle != "" {
		top += subtitleLine
	}
	bottom := height - tickLabels // of the plot area
	lanes := len(c.Spans) * (laneHeight + laneGap)
	right := width - marginRight
	pw, ph := float64(right-marginLeft), float64(bottom-top)
	x := func(t time.Time) float64 {
		span := t1.Sub(t0).Seconds()
		if span <= 0 {
			return marginLeft
		}
		return marginLeft + pw*t.Sub(t0).Seconds()/span
	}
	y := func(v float64) float64 {
		if y1 == y0 {
			return float64(top) + ph/2
		}
		return float64(top) + ph*(1-(v-y0)/(y1-y0))
	}
	legend := c.legend()
	_, _, rows := legendLayout(legend, marginLeft, right)
	total := height + lanes + rows*legendRow + 8

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, total, width, total)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16">%s</text>`+"\n", marginLeft, escape(c.Title))
	if c.Subtitle != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555555">%s</text>`+"\n", marginLeft, 24+subtitleLine, escape(c.Subtitle))
	}

	// Axes and grid, on round values and round times.
	vticks := niceTicks(y0, y1, 6)
	for _, v := range vticks {
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>`+"\n", marginLeft, yy, right, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginLeft-6, yy+4, formatValue(v, tickStep(vticks)))
	}
	ticks, layout := timeTicks(t0, t1, loc, 7)
	for _, t := range ticks {
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e0e0e0"/>`+"\n", xx, top, xx, bottom)
		label := t.In(loc).Format(layout)
		// Keep the first and last labels inside the figure.
		lx := math.Max(xx, 2+textWidth(label)/2)
		lx = math.Min(lx, float64(width-2)-textWidth(label)/2)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", lx, bottom+lanes+16, label)
	}
	fmt.Fprintf(&b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>`+"\n", top+int(ph/2), top+int(ph/2), escape(c.YLabel))

	for i, band := range c.Bands {
		var pts []string
		for j, t := range band.Times {
			if isFinite(band.Hi[j]) && isFinite(band.Lo[j]) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y(band.Hi[j])))
			}
		}
		for j := len(band.Times) - 1; j >= 0; j-- {
			if isFinite(band.Hi[j]) && isFinite(band.Lo[j]) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(band.Times[j]), y(band.Lo[j])))
			}
		}
		fmt.Fprintf(&b, `<polygon points="%s" fill="%s" fill-opacity="0.2" stroke="none"/>`+"\n", strings.Join(pts, " "), pick(band.Color, i+len(c.Series)))
	}
	for i, s := range c.Series {
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.2"/>`+"\n", seriesPath(s, x, y), pick(s.Color, i))
	}
	for i, sp := range c.Spans {
		yy := bottom + laneGap + i*(laneHeight+laneGap)
		color := pick(sp.Color, i+len(c.Series)+len(c.Bands))
		for j := range sp.From {
			a, z := maxTime(sp.From[j], t0), minTime(sp.To[j], t1)
			if z.Before(a) {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x(a), yy, math.Max(x(z)-x(a), 1), laneHeight, color)
		}
	}
	for i, e := range c.Events {
		if e.Time.Before(t0) || e.Time.After(t1) {
			continue
		}
		xx := x(e.Time)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n",
			xx, top, xx, bottom+lanes, pick(e.Color, i+len(c.Series)+len(c.Bands)+len(c.Spans)))
	}
	// The plot area's frame, drawn last so lines end cleanly at it.
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#999999"/>`+"\n", marginLeft, top, pw, ph)
	writeLegend(&b, legend, marginLeft, right, height+lanes)
	b.WriteString("</svg>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// seriesPath is the SVG path of s: a move to each run's first finite point,
// then lines (or, for a step series, a horizontal then a vertical segment)
// to the next. A step's value holds until the next time, so a NaN ends the
// run with a horizontal segment to its time, not at the last finite point.
func seriesPath(s Series, x func(time.Time) float64, y func(float64) float64) string {
	var path strings.Builder
	pen := false
	for j, t := range s.Times {
		v := s.Values[j]
		switch {
		case !isFinite(v):
			if pen && s.Step {
				fmt.Fprintf(&path, "H%.1f", x(t))
			}
			pen = false
		case !pen:
			fmt.Fprintf(&path, "M%.1f %.1f", x(t), y(v))
			pen = true
		case s.Step:
			fmt.Fprintf(&path, "H%.1fV%.1f", x(t), y(v))
		default:
			fmt.Fprintf(&path, "L%.1f %.1f", x(t), y(v))
		}
	}
	return path.String()
}

func (c Chart) legend() []legendEntry {
	var out []legendEntry
	for i, s := range c.Series {
		out = append(out, legendEntry{s.Name, pick(s.Color, i), keyLine})
	}
	for i, b := range c.Bands {
		out = append(out, legendEntry{b.Name, pick(b.Color, i+len(c.Series)), keyBand})
	}
	for i, s := range c.Spans {
		out = append(out, legendEntry{s.Name, pick(s.Color, i+len(c.Series)+len(c.Bands)), keyBar})
	}
	for i, e := range c.Events {
		out = append(out, legendEntry{e.Name, pick(e.Color, i+len(c.Series)+len(c.Bands)+len(c.Spans)), keyDashed})
	}
	return out
}

func (c Chart) bounds() (t0, t1 time.Time, y0, y1 float64, err error) {
	y0, y1 = math.Inf(1), math.Inf(-1)
	seeTime := func(t time.Time) {
		if t0.IsZero() || t.Before(t0) {
			t0 = t
		}
		if t.After(t1) {
			t1 = t
		}
	}
	see := func(t time.Time, v float64) {
		if isFinite(v) {
			seeTime(t)
			y0, y1 = math.Min(y0, v), math.Max(y1, v)
		}
	}
	for _, s := range c.Series {
		if len(s.Times) != len(s.Values) {
			return t0, t1, 0, 0, fmt.Errorf("plot: series %q has %d times but %d values", s.Name, len(s.Times), len(s.Values))
		}
		for i, t := range s.Times {
			see(t, s.Values[i])
			if s.Step && i > 0 && !isFinite(s.Values[i]) && isFinite(s.Values[i-1]) {
				seeTime(t) // the step before holds until here
			}
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
	for _, s := range c.Spans {
		if len(s.From) != len(s.To) {
			return t0, t1, 0, 0, fmt.Errorf("plot: spans %q have %d starts but %d ends", s.Name, len(s.From), len(s.To))
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

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
