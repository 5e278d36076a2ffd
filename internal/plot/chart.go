package plot

import "time"

// Series is one line on the chart. Times and Values have equal length; a NaN
// value leaves a gap.
type Series struct {
	Name   string
	Color  string // any SVG colour; empty picks one from the palette
	Times  []time.Time
	Values []float64
	// Step draws the line as a staircase: each value holds until the next
	// time, also when the next value is NaN (a gap begins there), which is
	// how replica counts, requests and placements behave.
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

// Spans marks stretches of time, e.g. the minutes a strategy was overloaded,
// as bars in a lane of their own under the plot area: [From[i], To[i]) each.
// A stretch shorter than a pixel still shows as one.
type Spans struct {
	Name     string
	Color    string
	From, To []time.Time
}

// Event is an instant worth a dashed vertical line across the data, e.g.
// when a leak began; its name goes in the legend.
type Event struct {
	Name  string
	Color string
	Time  time.Time
}

// Chart is one SVG figure.
type Chart struct {
	Title string
	// Subtitle is a second, smaller line: what was plotted, e.g. the trace
	// file, its time zone and the window.
	Subtitle string
	YLabel   string
	Width    int // pixels; 0 means 1200
	Height   int // pixels of the plot area and its axes; 0 means 480
	// Location is the time zone the time axis is labelled in (nil: UTC);
	// day ticks fall on its midnights.
	Location *time.Location
	Series   []Series
	Bands    []Band
	Spans    []Spans
	Events   []Event
}

var palette = []string{"#444444", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"}

func pick(color string, i int) string {
	if color != "" {
		return color
	}
	return palette[i%len(palette)]
}
