// Package plot draws the time-series charts that `trimtab simulate --plot`
// writes: a few lines (and optionally a shaded band) over a shared time axis,
// stretches worth marking (overload minutes, OOMs) in lanes under it, and
// instants (a leak's start) as vertical lines, as a self-contained SVG any
// browser opens. The legend sits under the chart, never over the data. It is
// deliberately small; it knows nothing about trimtab's domain.
//
// gonum.org/v1/plot was weighed against it: it would add 8 modules (fonts,
// LaTeX, PDF, rasterizer) and 7 MB to the one trimtab binary, rejects NaN
// points (a gap has to be split into separate lines by the caller), and
// draws its legend inside the data area too.
package plot
