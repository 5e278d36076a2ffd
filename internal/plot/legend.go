package plot

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// legendKind is how an entry's key is drawn.
type legendKind int

const (
	keyLine legendKind = iota
	keyBand
	keyBar
	keyDashed
)

// textWidth estimates the width of s in pixels at font-size 12.
func textWidth(s string) float64 { return charWidth * float64(utf8.RuneCountInString(s)) }

type legendEntry struct {
	name, color string
	kind        legendKind
}

const (
	legendRow   = 18
	legendKey   = 22  // key width
	charWidth   = 6.6 // average sans-serif advance at font-size 12
	legendSpace = 18
)

// legendLayout places entries left to right from x0, wrapping before right,
// and returns each entry's position (relative to the legend's first row)
// and the number of rows.
func legendLayout(entries []legendEntry, x0, right int) (xs, rows []int, nrows int) {
	x, row := x0, 0
	for _, e := range entries {
		w := legendKey + 6 + int(textWidth(e.name)) + legendSpace
		if x > x0 && x+w > right {
			x, row = x0, row+1
		}
		xs, rows = append(xs, x), append(rows, row)
		x += w
	}
	if len(entries) > 0 {
		nrows = row + 1
	}
	return xs, rows, nrows
}

// writeLegend draws the entries in rows from top y, under the plot.
func writeLegend(b *strings.Builder, entries []legendEntry, x0, right, y int) {
	xs, rows, _ := legendLayout(entries, x0, right)
	for i, e := range entries {
		x, yy := xs[i], y+legendRow*rows[i]+legendRow/2
		switch e.kind {
		case keyBand:
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="10" fill="%s" fill-opacity="0.3"/>`+"\n", x, yy-5, legendKey, e.color)
		case keyBar:
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", x, yy-laneHeight/2, legendKey, laneHeight, e.color)
		case keyDashed:
			fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", x, yy, x+legendKey, yy, e.color)
		default:
			fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", x, yy, x+legendKey, yy, e.color)
		}
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", x+legendKey+6, yy+4, escape(e.name))
	}
}
